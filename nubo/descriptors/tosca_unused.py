"""What a SOL001 VNFD carries that nubo does not map, reported instead of dropped.

A VNFD written for a VM-based VNFM (Tacker's samples, a vendor's package)
holds much a container VIM has no use for: block storage, interfaces other
than the VNF's ``Vnflcm`` (whose scripts ``tosca_lifecycle`` runs),
artifacts no operation uses. Such a VNFD is still deployable, so none of that is refused; each is
a warning at its path. What nubo cannot deploy faithfully is refused: an
external connection point that re-exposes a VNF-internal virtual link, which
nubo does not build yet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nubo.descriptors.tosca_lifecycle import VNFLCM

if TYPE_CHECKING:
    from nubo.descriptors.tosca_vnfd import _VnfdReader

__all__ = ["report_ns_unused", "report_unused"]

_NODES = "topology_template.node_templates"
_BLOCK_STORAGE = "tosca.nodes.nfv.Vdu.VirtualBlockStorage"
_EXT_CP = "tosca.nodes.nfv.VnfExtCp"
_USED_ARTIFACTS = ("tosca.artifacts.nfv.SwImage", "nubo.artifacts.EnvFile")
_NFV = "tosca.nodes.nfv."
#: (base node type, property or capability) nubo reads nothing of, and why
_UNUSED_FIELDS = {
    (_NFV + "VNF", "properties.lcm_operations_configuration"): (
        "nubo's lifecycle operations take no per-VNF configuration (timeouts and heal "
        "causes are its own settings)"
    ),
    (_NFV + "VNF", "properties.monitoring_parameters"): (
        "nubo samples every VNFC's CPU and memory itself; name what to act on in an "
        "auto-scaling policy"
    ),
    (_NFV + "Vdu.Compute", "properties.monitoring_parameters"): (
        "nubo samples every VNFC's CPU and memory itself; name what to act on in an "
        "auto-scaling policy"
    ),
    (_NFV + "Vdu.Compute", "capabilities.virtual_compute"): (
        "virtual compute requirements are not reserved: a container shares its host's "
        "CPUs and memory"
    ),
    (_NFV + "VnfVirtualLink", "properties.monitoring_parameters"): (
        "nubo does not monitor virtual links"
    ),
}


def report_unused(reader: _VnfdReader, used_artifacts: set[str]) -> None:
    """Warn about every node, operation and artifact of the VNFD that nubo leaves aside.

    ``used_artifacts`` (``node.artifact``) are the implementations of the VNF's
    lifecycle operations, which ``tosca_lifecycle`` read.
    """
    exposed = _exposed_nodes(reader)
    groups = reader.topology.get("groups")
    for group in groups if isinstance(groups, dict) else {}:
        reader.r.warn(
            reader.at(f"topology_template.groups.{group}"),
            "placement groups and the affinity rules over them are not applied: nubo "
            "places every VNFC on the NS's VIM",
        )
    for name, node in reader.nodes.items():
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            continue  # reported by the type checks
        path = f"{_NODES}.{name}"
        _fields(reader, path, node)
        _interfaces(reader, path, node, str(name) == reader.vnf_node)
        _artifacts(
            reader,
            path,
            node,
            {u.split(".", 1)[1] for u in used_artifacts if u.startswith(f"{name}.")},
        )
        if reader.kind(str(name)):
            continue
        node_type = node["type"]
        if reader.index.is_a("node_types", node_type, _BLOCK_STORAGE):
            reader.r.warn(
                reader.at(path),
                "virtual block storage is not attached: a container keeps its files in its "
                "own filesystem, which a recreated VNFC loses",
            )
        elif reader.index.is_a("node_types", node_type, _EXT_CP):
            if name not in exposed:  # an exposed one joins its internal link to the NS's
                reader.r.warn(reader.at(path), "an external connection point nothing exposes")
        else:
            reader.r.warn(
                reader.at(f"{path}.type"),
                f"nubo does not map {node_type!r} nodes onto anything, so this node is not "
                "deployed",
            )


def _fields(reader: _VnfdReader, path: str, node: dict[str, Any]) -> None:
    """Warn about the standard properties and capabilities of a node nubo reads nothing of."""
    for (base, field), reason in _UNUSED_FIELDS.items():
        section, key = field.split(".")
        values = node.get(section)
        if (
            isinstance(values, dict)
            and values.get(key) not in (None, {}, [])
            and reader.index.is_a("node_types", node["type"], base)
        ):
            reader.r.warn(reader.at(f"{path}.{field}"), f"{key} is not used: {reason}")


def _exposed_nodes(reader: _VnfdReader) -> dict[str, str]:
    """Node template -> the VNF requirement ``substitution_mappings`` exposes it as."""
    mappings = reader.topology.get("substitution_mappings")
    listed = mappings.get("requirements") if isinstance(mappings, dict) else None
    return {
        str(target[0]): str(requirement)
        for requirement, target in (listed.items() if isinstance(listed, dict) else [])
        if isinstance(target, list) and target
    }


def _interfaces(reader: _VnfdReader, path: str, node: dict[str, Any], is_vnf: bool) -> None:
    interfaces = node.get("interfaces")
    for interface, operations in interfaces.items() if isinstance(interfaces, dict) else []:
        if is_vnf and interface == VNFLCM:
            continue  # read by tosca_lifecycle
        listed = operations.get("operations", operations) if isinstance(operations, dict) else {}
        implemented = [
            str(op)
            for op, definition in (listed.items() if isinstance(listed, dict) else [])
            if definition not in (None, [], {}, "")
        ]
        if implemented:
            reader.r.warn(
                reader.at(f"{path}.interfaces.{interface}"),
                f"operations of interface {interface!r} are not run ({', '.join(implemented)}): "
                "nubo runs the Vnflcm operations of the VNF node only",
            )


def _artifacts(reader: _VnfdReader, path: str, node: dict[str, Any], used: set[str]) -> None:
    artifacts = node.get("artifacts")
    for key, artifact in artifacts.items() if isinstance(artifacts, dict) else []:
        if key in used:
            continue
        kind = artifact.get("type") if isinstance(artifact, dict) else None
        if not isinstance(kind, str):
            continue  # the short form: an env file is reported by the VDU reader
        if kind in _USED_ARTIFACTS or any(
            reader.index.is_a("artifact_types", kind, used) for used in _USED_ARTIFACTS
        ):
            continue
        reader.r.warn(
            reader.at(f"{path}.artifacts.{key}"),
            f"artifacts of type {kind!r} are not used by nubo",
        )


def report_ns_unused(warn: Callable[[str, str], None], topology: dict[str, Any]) -> None:
    """Warn about an NSD's groups (VNFFGs, placement groups) and policies, none applied.

    ``warn`` takes the path in the NSD's file and the message.
    """
    groups = topology.get("groups")
    for group in groups if isinstance(groups, dict) else {}:
        warn(
            f"topology_template.groups.{group}",
            "NS groups (forwarding graphs, placement groups) are not applied: nubo joins "
            "VNFs by their virtual links only and places them on the NS's VIM",
        )
    policies = topology.get("policies")
    for i, entry in enumerate(policies if isinstance(policies, list) else []):
        for name, policy in entry.items() if isinstance(entry, dict) else []:
            kind = policy.get("type") if isinstance(policy, dict) else None
            warn(
                f"topology_template.policies[{i}].{name}",
                f"NS policy {kind!r} is not applied: nubo scales, places and monitors the "
                "VNFs of an NS by their own VNFDs' policies and by nubo's auto-scaling",
            )
