"""tosca-parser's errors retold in the descriptor author's terms, its text kept after.

tosca-parser names a problem by its own model ("Relationship ... in template
... has a wrong number of occurrences", "Data value of type ... is missing
required field ...") and often not where it is. For the errors authors meet
most, nubo finds the field in the template, says what is wrong there and what
would be right, and appends tosca-parser's words as the detail; any other
error is passed on as tosca-parser wrote it.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import Any

from nubo.descriptors.tosca_types import TypeIndex

__all__ = ["explain"]

_NODES = "topology_template.node_templates"
_OCCURRENCES = re.compile(
    r'Relationship "([^"]+)" in template "([^"]+)" has a wrong number of occurrences'
)
_NODE_FIELD = re.compile(r'Node template "([^"]+)" contains unknown field "([^"]+)"')
_PROPERTY = re.compile(
    r'"properties" of template "([^"]+)" (is missing required field|contains unknown field) '
    r'"(?:\[\')?([^"\']+)(?:\'\])?"'
)
_VALUE = re.compile(
    r'The value "([^"]*)" of property "[^"]*" is not valid\. Expected a value from "\[([^"]*)\]"'
)
_TEMPLATE_KEYS = (
    "type",
    "description",
    "metadata",
    "directives",
    "properties",
    "attributes",
    "requirements",
    "capabilities",
    "interfaces",
    "artifacts",
    "node_filter",
    "copy",
)
_DATA_FIELD = re.compile(
    r'Data value of type "([^"]+)" (is missing required field|contains unknown field) '
    r'"(?:\[\')?([^"\']+)(?:\'\])?"'
)


def explain(
    message: str, path: str, document: dict[str, Any], index: TypeIndex
) -> list[tuple[str, str]]:
    """(path, message) pairs for one tosca-parser error: nubo's account, then its text."""
    occurrences = _OCCURRENCES.search(message)
    if occurrences:
        requirement, node = occurrences.groups()
        return [_occurrences(requirement, node, document, index, message)]
    retold = _node_problem(message, document, index)
    if retold is not None:
        return [retold]
    data_field = _DATA_FIELD.search(message)
    if data_field:
        data_type, kind, field = data_field.groups()
        found = list(_values_of(data_type, document, index))
        missing = kind.startswith("is missing")
        located = [
            (where, value)
            for where, value in found
            if (field not in value) == missing  # the value that lacks (or has) the field
        ]
        if located:
            return [
                (
                    f"{where}.{field}" if not missing else where,
                    (
                        f"{field!r} is required in a {data_type} value: add it"
                        if missing
                        else f"{field!r} is not a field of {data_type}: remove it, or check "
                        "its spelling against the type"
                    )
                    + f" (tosca-parser: {message})",
                )
                for where, value in located
            ]
    return [(path, message)]


def _node_problem(
    message: str, document: dict[str, Any], index: TypeIndex
) -> tuple[str, str] | None:
    """An unknown key or a missing or unknown property of a node template, retold."""
    detail = f" (tosca-parser: {message})"
    node_field = _NODE_FIELD.search(message)
    if node_field:
        node, field = node_field.groups()
        return (
            f"{_NODES}.{node}.{field}",
            f"{field!r} is not a key of a node template{_nearest(field, _TEMPLATE_KEYS)}" + detail,
        )
    prop = _PROPERTY.search(message)
    if prop:
        node, kind, field = prop.groups()
        template = _nodes(document).get(node)
        node_type = template.get("type") if isinstance(template, dict) else None
        if not isinstance(node_type, str):
            return None
        if kind.startswith("is missing"):
            return (
                f"{_NODES}.{node}.properties",
                f"property {field!r} is required by {node_type}: add it" + detail,
            )
        known = list(index.merged("node_types", node_type, "properties"))
        return (
            f"{_NODES}.{node}.properties.{field}",
            f"{field!r} is not a property of {node_type}{_nearest(field, known)}" + detail,
        )
    value = _VALUE.search(message)
    if value:
        bad, allowed = value.groups()
        for where in _paths_holding(bad, document):
            return (where, f"{bad!r} is not one of the allowed values: {allowed}" + detail)
    return None


def _nearest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.7)
    return f": did you mean {close[0]!r}?" if close else ": remove it, or check its spelling"


def _paths_holding(value: str, document: dict[str, Any]) -> Iterator[str]:
    """The paths of node properties whose value (or one of whose list items) is ``value``."""

    def walk(path: str, item: Any) -> Iterator[str]:
        if isinstance(item, dict):
            for key, nested in item.items():
                yield from walk(f"{path}.{key}", nested)
        elif isinstance(item, list):
            if value in [str(entry) for entry in item if not isinstance(entry, dict | list)]:
                yield path
            for i, nested in enumerate(item):
                yield from walk(f"{path}[{i}]", nested)
        elif str(item) == value:
            yield path

    for name, node in _nodes(document).items():
        if isinstance(node, dict):
            yield from walk(f"{_NODES}.{name}.properties", node.get("properties"))


def _occurrences(
    requirement: str, node: str, document: dict[str, Any], index: TypeIndex, message: str
) -> tuple[str, str]:
    template = _nodes(document).get(node)
    node_type = template.get("type") if isinstance(template, dict) else None
    spec = index.requirements(node_type).get(requirement, {}) if isinstance(node_type, str) else {}
    bounds = spec.get("occurrences") or [1, 1]
    listed = template.get("requirements") if isinstance(template, dict) else None
    given = (
        sum(1 for entry in listed if isinstance(entry, dict) and requirement in entry)
        if isinstance(listed, list)
        else 0
    )
    low, high = [*bounds, 1, 1][:2] if isinstance(bounds, list) else (1, 1)
    wanted = f"{low}" if low == high else f"{low} to {high}"
    if given < _as_count(low):
        advice = (
            f"assign it (- {requirement}: <node>), or expose it in the VNFD's "
            f"substitution_mappings.requirements as [ {node}, {requirement} ] when the NSD "
            "connects it"
        )
    else:
        advice = f"assign it at most {high} time(s)"
    return (
        f"{_NODES}.{node}.requirements",
        f"requirement {requirement!r} of {node!r} is assigned {given} time(s), its type "
        f"{node_type} wants {wanted}: {advice} (tosca-parser: {message})",
    )


def _as_count(value: Any) -> int:
    return value if isinstance(value, int) else 0


def _nodes(document: dict[str, Any]) -> dict[str, Any]:
    topology = document.get("topology_template")
    nodes = topology.get("node_templates") if isinstance(topology, dict) else None
    return nodes if isinstance(nodes, dict) else {}


def _values_of(
    data_type: str, document: dict[str, Any], index: TypeIndex
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(path, value) of every node property (or artifact property) given as ``data_type``."""
    for name, node in _nodes(document).items():
        node_type = node.get("type") if isinstance(node, dict) else None
        if not isinstance(node_type, str):
            continue
        definitions = index.merged("node_types", node_type, "properties")
        yield from _matching(
            f"{_NODES}.{name}.properties", node.get("properties"), definitions, data_type, index
        )


def _matching(
    path: str, values: Any, definitions: dict[str, Any], data_type: str, index: TypeIndex
) -> Iterator[tuple[str, dict[str, Any]]]:
    for key, value in values.items() if isinstance(values, dict) else []:
        spec = definitions.get(key)
        declared = spec.get("type") if isinstance(spec, dict) else None
        if not isinstance(declared, str) or not isinstance(value, dict):
            continue
        if index.is_a("data_types", declared, data_type):
            yield f"{path}.{key}", value
        nested = index.merged("data_types", declared, "properties")
        if nested:
            yield from _matching(f"{path}.{key}", value, nested, data_type, index)
