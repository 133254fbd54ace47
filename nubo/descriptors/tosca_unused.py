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

from typing import TYPE_CHECKING, Any

from nubo.descriptors.tosca_lifecycle import VNFLCM

if TYPE_CHECKING:
    from nubo.descriptors.tosca_vnfd import _VnfdReader

__all__ = ["report_unused"]

_NODES = "topology_template.node_templates"
_BLOCK_STORAGE = "tosca.nodes.nfv.Vdu.VirtualBlockStorage"
_EXT_CP = "tosca.nodes.nfv.VnfExtCp"
_USED_ARTIFACTS = ("tosca.artifacts.nfv.SwImage", "nubo.artifacts.EnvFile")


def report_unused(reader: _VnfdReader, used_artifacts: set[str]) -> None:
    """Warn about every node, operation and artifact of the VNFD that nubo leaves aside.

    ``used_artifacts`` (``node.artifact``) are the implementations of the VNF's
    lifecycle operations, which ``tosca_lifecycle`` read.
    """
    exposed = _exposed_nodes(reader)
    for name, node in reader.nodes.items():
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            continue  # reported by the type checks
        path = f"{_NODES}.{name}"
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
