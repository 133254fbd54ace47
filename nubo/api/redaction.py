"""What the API shows of an NS record: its secrets replaced by ``REDACTED``.

A VNF's secret configuration parameters (``"secret": true``) and every
variable of its VDUs' env files are kept in the record, since a VNFC that is
healed or added later gets exactly what the NS was instantiated with, and go
to the VIM as the containers' environment. The API answers a copy of the
record in which those values are replaced, wherever they appear: under the
VNF's configuration, the VDU's environment, each VNFC's environment, and the
variables a dependency carried to another VNF (a copied value is recognised
by its value, so a secret a target received is hidden too; an ordinary value
that happens to equal a secret is hidden with it). An onboarded Open Baton
NSD is shown with its secret parameters' values hidden the same way.
"""

from __future__ import annotations

import copy
from typing import Any

from nubo.model.catalogue import NsdEntry
from nubo.model.records import REDACTED, NetworkServiceRecord


def redacted(nsr: NetworkServiceRecord) -> NetworkServiceRecord:
    """A copy of ``nsr`` without its secrets' values (``nsr`` itself when it has none)."""
    secrets = nsr.secret_values()
    if not secrets and not any(vnfr.secret_keys for vnfr in nsr.vnfr):
        return nsr
    copy = nsr.model_copy(deep=True)
    for vnfr in copy.vnfr:
        keys = set(vnfr.secret_keys)

        def hide(env: dict[str, str], keys: set[str] = keys) -> dict[str, str]:
            return {k: REDACTED if k in keys or v in secrets else v for k, v in env.items()}

        vnfr.configuration = hide(vnfr.configuration)
        vnfr.dependency_env = hide(vnfr.dependency_env)
        for vdu in vnfr.vdu:
            vdu.environment = dict.fromkeys(vdu.environment, REDACTED)
            for vnfc in vdu.vnfc_instance:
                vnfc.environment = hide(vnfc.environment)
    return copy


def redacted_nsd(entry: NsdEntry) -> NsdEntry:
    """A copy of an onboarded Open Baton NSD whose secret parameters' values are hidden."""
    vnfds = entry.body.get("vnfd")
    if not isinstance(vnfds, list) or not any(_secret_parameters(v) for v in vnfds):
        return entry
    body = copy.deepcopy(entry.body)
    for vnfd in body["vnfd"]:
        for parameter in _secret_parameters(vnfd):
            parameter["value"] = REDACTED
    return entry.model_copy(update={"body": body})


def _secret_parameters(vnfd: Any) -> list[dict[str, Any]]:
    if not isinstance(vnfd, dict) or not isinstance(vnfd.get("configurations"), dict):
        return []
    parameters = vnfd["configurations"].get("configurationParameters")
    if not isinstance(parameters, list):
        return []
    return [
        p
        for p in parameters
        if isinstance(p, dict)
        and (p.get("secret") is True or str(p.get("secret")).lower() == "true")
    ]
