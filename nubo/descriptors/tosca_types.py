"""Questions about TOSCA types that the SOL001 mapping asks: what derives from what.

nubo maps a node template by what its type *is* (a ``tosca.nodes.nfv.VNF``,
a ``tosca.nodes.nfv.Vdu.Compute``...), whatever provider type derives from
it, and reads property descriptions and requirement definitions along the
derivation chain. The template's own (merged) type sections come first;
TOSCA's normative types (``tosca.nodes.Root``, ``tosca.relationships.DependsOn``)
come from tosca-parser's definitions.
"""

from __future__ import annotations

from typing import Any

from toscaparser.elements.entity_type import EntityType  # type: ignore[import-untyped]

from nubo.descriptors.tosca_sources import TypeSections

__all__ = ["TypeIndex", "vnf_requirements"]

_VNF = "tosca.nodes.nfv.VNF"
_NORMATIVE: dict[str, Any] = dict(EntityType.TOSCA_DEF)

#: capability type -> the relationship SOL001 uses with it
_IMPLIED = {
    "tosca.capabilities.nfv.VirtualLinkable": "tosca.relationships.nfv.VirtualLinksTo",
    "tosca.capabilities.nfv.VirtualBindable": "tosca.relationships.nfv.VirtualBindsTo",
    "tosca.capabilities.nfv.VirtualStorage": "tosca.relationships.nfv.AttachesTo",
}


class TypeIndex:
    """The types a template can use: its merged type sections plus TOSCA's normative types."""

    def __init__(self, sections: TypeSections) -> None:
        self._sections = sections

    def definition(self, section: str, name: str) -> dict[str, Any] | None:
        found = self._sections.get(section, {}).get(name)
        if found is None:
            found = _NORMATIVE.get(name)
        return found if isinstance(found, dict) else None

    def node_type_problem(self, node: Any) -> tuple[str, str | None]:
        """``(node type, None)`` when the node template names a known type, else the problem."""
        node_type = node.get("type") if isinstance(node, dict) else None
        if not isinstance(node_type, str):
            return "", "required: the node type"
        if not self.known("node_types", node_type):
            return node_type, (
                f"unknown node type {node_type!r}: neither this template nor its imports define it"
            )
        return node_type, None

    def known(self, section: str, name: str) -> bool:
        return self.definition(section, name) is not None

    def ancestry(self, section: str, name: str) -> list[str]:
        """``name`` and the types it derives from, nearest first (stops at a loop)."""
        chain: list[str] = []
        current: Any = name
        while isinstance(current, str) and current not in chain:
            definition = self.definition(section, current)
            if definition is None:
                break
            chain.append(current)
            current = definition.get("derived_from")
        return chain

    def is_a(self, section: str, name: str, base: str) -> bool:
        return base in self.ancestry(section, name)

    def merged(self, section: str, name: str, key: str) -> dict[str, Any]:
        """A map-valued key (``properties``, ``metadata``) merged along the chain, nearest wins."""
        result: dict[str, Any] = {}
        for ancestor in reversed(self.ancestry(section, name)):
            value = (self.definition(section, ancestor) or {}).get(key)
            if isinstance(value, dict):
                result.update(value)
        return result

    def requirements(self, node_type: str) -> dict[str, dict[str, Any]]:
        """Requirement definitions of a node type by name, nearest definition wins."""
        result: dict[str, dict[str, Any]] = {}
        for ancestor in reversed(self.ancestry("node_types", node_type)):
            listed = (self.definition("node_types", ancestor) or {}).get("requirements")
            for entry in listed if isinstance(listed, list) else []:
                if isinstance(entry, dict):
                    for requirement, spec in entry.items():
                        result[str(requirement)] = spec if isinstance(spec, dict) else {}
        return result

    def relationship_of(self, node_type: str, requirement: str, assignment: Any) -> str:
        """The relationship type a requirement assignment uses ('' if none is known)."""
        if isinstance(assignment, dict):
            relationship = assignment.get("relationship")
            if isinstance(relationship, dict):
                relationship = relationship.get("type")
            if isinstance(relationship, str):
                return relationship
        spec = self.requirements(node_type).get(requirement, {})
        relationship = spec.get("relationship")
        if isinstance(relationship, dict):
            relationship = relationship.get("type")
        if isinstance(relationship, str):
            return relationship
        given = assignment.get("capability") if isinstance(assignment, dict) else None
        return self._implied_relationship(given or spec.get("capability"))

    def _implied_relationship(self, capability: Any) -> str:
        """The SOL001 relationship of a requirement that names only its capability.

        Provider types often declare ``virtual_link: {capability:
        tosca.capabilities.nfv.VirtualLinkable}`` and leave the relationship
        to what SOL001 always pairs with that capability.
        """
        if not isinstance(capability, str):
            return ""
        for base, relationship in _IMPLIED.items():
            if self.is_a("capability_types", capability, base):
                return relationship
        return ""


def vnf_requirements(document: dict[str, Any], index: TypeIndex) -> set[tuple[str, str]]:
    """(node, requirement) of every VNF node of a VNFD template.

    A VNF node in its own VNFD (the top-level file, or a flavour file)
    stands for the VNF the NSD places: the NSD fulfils its requirements,
    so an unassigned one there is not missing.
    """
    topology = document.get("topology_template")
    nodes = topology.get("node_templates") if isinstance(topology, dict) else None
    pairs: set[tuple[str, str]] = set()
    for name, node in nodes.items() if isinstance(nodes, dict) else []:
        node_type = node.get("type") if isinstance(node, dict) else None
        if isinstance(node_type, str) and index.is_a("node_types", node_type, _VNF):
            pairs.update((str(name), requirement) for requirement in index.requirements(node_type))
    return pairs
