"""What a SOL001 VNFD carries that nubo does not map, reported instead of dropped.

A VNFD written for a VM-based VNFM (Tacker's samples, a vendor's package)
holds much a container VIM has no use for: block storage, lifecycle
operations implemented by scripts or Mistral workflows, artifacts of other
kinds. Such a VNFD is still deployable, so none of that is refused; each is
a warning at its path. What nubo cannot deploy faithfully is refused: an
external connection point that re-exposes a VNF-internal virtual link, which
nubo does not build yet.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nubo.descriptors.tosca_vnfd import _VnfdReader

__all__ = ["report_unused"]

_NODES = "topology_template.node_templates"
_BLOCK_STORAGE = "tosca.nodes.nfv.Vdu.VirtualBlockStorage"
_EXT_CP = "tosca.nodes.nfv.VnfExtCp"
_USED_ARTIFACTS = ("tosca.artifacts.nfv.SwImage", "nubo.artifacts.EnvFile")


def report_unused(reader: _VnfdReader) -> None:
    """Warn about every node, operation and artifact of the VNFD that nubo leaves aside."""
    exposed = _exposed_nodes(reader)
    for name, node in reader.nodes.items():
        if not isinstance(node, dict) or not isinstance(node.get("type"), str):
            continue  # reported by the type checks
        path = f"{_NODES}.{name}"
        _interfaces(reader, path, node)
        _artifacts(reader, path, node)
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
            if name in exposed:
                reader.report(
                    f"topology_template.substitution_mappings.requirements.{exposed[name]}",
                    f"the external connection point {name!r} re-exposes a VNF-internal "
                    "virtual link, which nubo does not build yet: map the requirement to "
                    "the VduCp itself, [ <VduCp node>, virtual_link ]",
                )
            else:
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


def _interfaces(reader: _VnfdReader, path: str, node: dict[str, Any]) -> None:
    interfaces = node.get("interfaces")
    for interface, operations in interfaces.items() if isinstance(interfaces, dict) else []:
        listed = operations.get("operations", operations) if isinstance(operations, dict) else {}
        implemented = [
            str(op)
            for op, definition in (listed.items() if isinstance(listed, dict) else [])
            if definition not in (None, [], {}, "")
        ]
        if implemented:
            reader.r.warn(
                reader.at(f"{path}.interfaces.{interface}"),
                f"lifecycle operations are not run yet ({', '.join(implemented)}): the "
                "VDU's image must do their work when its container starts",
            )


def _artifacts(reader: _VnfdReader, path: str, node: dict[str, Any]) -> None:
    artifacts = node.get("artifacts")
    for key, artifact in artifacts.items() if isinstance(artifacts, dict) else []:
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
