"""NS deployment flavours of a SOL001 NSD: one file per flavour, chosen at instantiation.

SOL001 writes an NSD of several NS deployment flavours as it writes a VNFD of
several VNF flavours: a top-level NSD holds the NS node (its type derived
from ``tosca.nodes.nfv.NS``, its ``flavour_id`` usually an input) and imports
one file per flavour, each with ``substitution_mappings`` naming that type and
its ``flavour_id``, and with the VNF nodes and virtual links of that flavour.
SOL005's ``nsFlavourId`` picks the file at instantiation; without one, the
flavour is the NS node's ``flavour_id`` (an input's default), or the only one.
An NSD whose topology is in the top-level file has one flavour, that file.
"""

from __future__ import annotations

from typing import Any

from nubo.descriptors.fields import FieldReader
from nubo.descriptors.tosca_sources import ToscaFile, ToscaSources, located
from nubo.descriptors.tosca_types import TypeIndex
from nubo.descriptors.tosca_vnfd import resolve_inputs

__all__ = ["choose_flavour", "ns_flavour_files"]

NS = "tosca.nodes.nfv.NS"
_MAPPINGS = "topology_template.substitution_mappings"


def _mappings(file: ToscaFile) -> dict[str, Any]:
    topology = file.document.get("topology_template")
    mappings = topology.get("substitution_mappings") if isinstance(topology, dict) else None
    return mappings if isinstance(mappings, dict) else {}


def ns_flavour_files(
    r: FieldReader, sources: ToscaSources, main: ToscaFile
) -> dict[str, ToscaFile]:
    """Flavour id -> the file of that NS flavour, among the files the NSD imports."""
    found: dict[str, ToscaFile] = {}
    for name in sources.imported_files(main.name):
        loaded = sources.load(name) if name != main.name else None
        if loaded is None:
            continue
        mappings = _mappings(loaded)
        node_type = mappings.get("node_type")
        index = TypeIndex(sources.types(loaded.name))
        if not isinstance(node_type, str) or not index.is_a("node_types", node_type, NS):
            continue
        props = mappings.get("properties")
        flavour = props.get("flavour_id") if isinstance(props, dict) else None
        where = located(loaded.name, sources.root, f"{_MAPPINGS}.properties.flavour_id")
        if not isinstance(flavour, str) or not flavour:
            r.report(where, "required: the NS deployment flavour this file describes")
        elif flavour in found:
            r.report(where, f"flavour {flavour!r} is described by {found[flavour].name} too")
        else:
            found[flavour] = loaded
    return found


def choose_flavour(
    r: FieldReader,
    sources: ToscaSources,
    main: ToscaFile,
    flavours: dict[str, ToscaFile],
    wanted: str | None,
) -> str | None:
    """The flavour to read: ``wanted``, else the NS node's ``flavour_id``, else the only one."""
    if wanted is not None:
        if wanted in flavours:
            return wanted
        r.report(
            located(main.name, sources.root, "topology_template"),
            f"no NS deployment flavour {wanted!r}: the NSD has {', '.join(flavours)}",
        )
        return None
    named, path = _ns_node_flavour(main, TypeIndex(sources.types(main.name)))
    if isinstance(named, str) and named in flavours:
        return named
    if len(flavours) == 1:
        return next(iter(flavours))
    r.report(
        located(main.name, sources.root, path),
        f"several NS deployment flavours ({', '.join(flavours)}) and none chosen: give the NS "
        "node's flavour_id one of them (a default of the input it names), or instantiate "
        "with nsFlavourId",
    )
    return None


def _ns_node_flavour(main: ToscaFile, index: TypeIndex) -> tuple[Any, str]:
    topology = main.document.get("topology_template")
    topology = topology if isinstance(topology, dict) else {}
    declared = topology.get("inputs")
    inputs = {
        str(k): v.get("default")
        for k, v in (declared.items() if isinstance(declared, dict) else [])
        if isinstance(v, dict)
    }
    nodes = topology.get("node_templates")
    for name, node in nodes.items() if isinstance(nodes, dict) else []:
        props = node.get("properties") if isinstance(node, dict) else None
        node_type = node.get("type") if isinstance(node, dict) else None
        is_ns = isinstance(node_type, str) and index.is_a("node_types", node_type, NS)
        if is_ns and isinstance(props, dict) and "flavour_id" in props:
            path = f"topology_template.node_templates.{name}.properties.flavour_id"
            return resolve_inputs(props["flavour_id"], inputs), path
    return None, "topology_template.node_templates"
