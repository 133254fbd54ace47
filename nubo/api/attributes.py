"""The attributes a SOL005 view has, read from its pydantic model's JSON Schema.

Filters and attribute selectors (SOL013 §5.2, §5.3) name attributes by path
(``vnfInstance/vnfProductName``). A path is valid when the view's model has
it, whether or not a record happens to carry it now: so an unknown name is a
400 even on an empty list, and an optional attribute that is absent from every
record still filters (it matches nothing). Arrays are transparent in paths, as
in the GS: ``vnfInstance/id`` names the ``id`` of every VNF instance. A part of
a view typed as a free-form object (``userDefinedData``, ``additionalParams``)
accepts any sub-path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

Kind = Literal["string", "number", "boolean", "object", "any"]

_SCALARS: dict[str, Kind] = {
    "string": "string",
    "number": "number",
    "integer": "number",
    "boolean": "boolean",
}


@dataclass(frozen=True)
class Attribute:
    """One attribute of a view: its kind, whether it is complex, and its children."""

    kind: Kind
    complex: bool = False
    children: Mapping[str, Attribute] = field(default_factory=dict)

    @property
    def open(self) -> bool:
        """A free-form object: any sub-path is an attribute of unknown kind."""
        return self.kind == "any"

    def find(self, path: tuple[str, ...]) -> Attribute | None:
        """The attribute at ``path`` below this one; None when the view has none."""
        node = self
        for name in path:
            if node.open:
                return ANY
            child = node.children.get(name)
            if child is None:
                return None
            node = child
        return node


ANY = Attribute("any", complex=True)


def attributes_of(model: type[BaseModel]) -> Attribute:
    """The attribute tree of ``model`` as it is rendered on the wire (by alias)."""
    schema = model.model_json_schema(by_alias=True, mode="serialization")
    return _node(schema, schema.get("$defs", {}), frozenset())


def _node(schema: Mapping[str, Any], defs: Mapping[str, Any], seen: frozenset[str]) -> Attribute:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if name in seen:  # a recursive type: stop describing it
            return ANY
        return _node(defs[name], defs, seen | {name})
    branches = schema.get("anyOf") or schema.get("oneOf") or schema.get("allOf")
    if branches:
        nodes = [_node(b, defs, seen) for b in branches if b.get("type") != "null"]
        return _merge(nodes) if nodes else Attribute("any")
    kind = schema.get("type")
    if kind == "array":
        items = _node(schema.get("items", {}), defs, seen)
        # an array of scalars filters like its elements, but is complex to the selectors
        return Attribute(items.kind, complex=True, children=items.children)
    if kind == "object" or "properties" in schema:
        properties = schema.get("properties")
        if not properties:
            return ANY
        children = {name: _node(sub, defs, seen) for name, sub in properties.items()}
        return Attribute("object", complex=True, children=children)
    if isinstance(kind, str) and kind in _SCALARS:
        return Attribute(_SCALARS[kind])
    if "enum" in schema or "const" in schema:
        return Attribute("string")
    return ANY


def _merge(nodes: list[Attribute]) -> Attribute:
    if len(nodes) == 1:
        return nodes[0]
    if any(n.open for n in nodes):
        return ANY
    kinds = {n.kind for n in nodes}
    children: dict[str, Attribute] = {}
    for node in nodes:
        children.update(node.children)
    kind: Kind = kinds.pop() if len(kinds) == 1 else "any"
    return Attribute(kind, complex=any(n.complex for n in nodes), children=children)
