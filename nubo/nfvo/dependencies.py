"""VNF dependency resolution (003 §3.5.3, Table 3.3).

For each dependency the target VNF receives one variable per parameter,
named ``<SOURCE TYPE>_<PARAMETER>``, with the value Open Baton's generic VNFM
gives a parameter of that name:

- a virtual link of the source: the addresses of its VNFCs on that link;
- ``hostname``: the hostnames of its VNFCs;
- any other name: the value of that key of the source's configuration
  (what the source ``provides``).

Per-VNFC values are comma-separated when the source has several VNFCs, so a
scale-out or scale-in of the source changes them and they are resolved
again.
"""

from __future__ import annotations

from nubo.model.descriptors import HOSTNAME_PARAMETER, Nsd
from nubo.model.records import NetworkServiceRecord, VnfcInstance, VnfRecord
from nubo.model.topology import dependency_variable


def resolve_dependencies(nsd: Nsd, nsr: NetworkServiceRecord) -> dict[str, dict[str, str]]:
    """Map each target VNF name to the variables its dependencies resolve to."""
    resolved: dict[str, dict[str, str]] = {vnfr.name: {} for vnfr in nsr.vnfr}
    for dep in nsd.dependencies:
        source = nsr.vnfr_by_name(dep.source)
        links = nsd.vnfd(dep.source).attached_links
        for parameter in dep.parameters:
            value = _value(source, parameter, links)
            resolved[dep.target][dependency_variable(source.type, parameter)] = value
    return resolved


def _value(source: VnfRecord, parameter: str, links: frozenset[str]) -> str:
    vnfcs = source.vnfcs()
    if parameter in links:
        return ",".join(c.addresses[parameter] for c in vnfcs if parameter in c.addresses)
    if parameter == HOSTNAME_PARAMETER:
        return ",".join(c.hostname for c in vnfcs)
    return source.configuration.get(parameter, "")


def vnfc_value(source: VnfRecord, vnfc: VnfcInstance, parameter: str, links: frozenset[str]) -> str:
    """What one VNFC of the source gives for ``parameter`` (its part of ``_value``)."""
    if parameter in links:
        return vnfc.addresses.get(parameter, "")
    if parameter == HOSTNAME_PARAMETER:
        return vnfc.hostname
    return source.configuration.get(parameter, "")
