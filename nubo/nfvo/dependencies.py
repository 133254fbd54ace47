"""VNF dependency resolution (003 §3.5.3, Table 3.3).

For each dependency, the target VNF receives the addresses of every VNFC of
the source VNF on each named virtual link as ``<SOURCE TYPE>_<LINK>``
(comma-separated when the source has several instances).
"""

from __future__ import annotations

from nubo.model.descriptors import Nsd
from nubo.model.records import NetworkServiceRecord
from nubo.model.topology import dependency_variable


def resolve_dependencies(nsd: Nsd, nsr: NetworkServiceRecord) -> dict[str, dict[str, str]]:
    """Map each target VNF name to the variables its dependencies resolve to."""
    resolved: dict[str, dict[str, str]] = {vnfr.name: {} for vnfr in nsr.vnfr}
    for dep in nsd.dependencies:
        source = nsr.vnfr_by_name(dep.source)
        for link in dep.parameters:
            addresses = [c.addresses[link] for c in source.vnfcs() if link in c.addresses]
            resolved[dep.target][dependency_variable(source.type, link)] = ",".join(addresses)
    return resolved
