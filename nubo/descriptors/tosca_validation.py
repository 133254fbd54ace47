"""TOSCA Simple Profile validation of one template by OpenStack's tosca-parser.

tosca-parser checks what nubo's mapping does not look at: property values
against their data types and constraints, unknown keys, requirement
occurrences, policy targets. It is handed one self-contained template (the
file with the merged type definitions of its imports inlined and no
``imports`` left), so it never opens a file or a URL. Its errors are kept,
all of them, located at the field they are about when nubo can find it, and
retold in the author's terms where nubo knows how (``tosca_messages``).

tosca-parser collects errors in a process-global collector, so templates are
validated one at a time under a lock.
"""

from __future__ import annotations

import copy
import re
import threading
from typing import Any

from toscaparser.common.exception import (  # type: ignore[import-untyped]
    ExceptionCollector,
    ValidationError,
)
from toscaparser.tosca_template import ToscaTemplate  # type: ignore[import-untyped]

from nubo.descriptors.tosca_messages import explain
from nubo.descriptors.tosca_sources import TYPE_SECTIONS, TypeSections
from nubo.descriptors.tosca_types import TypeIndex

__all__ = ["tosca_parser_problems"]

_LOCK = threading.Lock()
_QUOTED = re.compile(r'"([^"]+)"')
_OCCURRENCES = re.compile(
    r'Relationship "([^"]+)" in template "([^"]+)" has a wrong number of occurrences'
)
_DATA_ROOT = "tosca.datatypes.Root"


def tosca_parser_problems(
    document: dict[str, Any],
    types: TypeSections,
    exposed: set[tuple[str, str]],
) -> list[tuple[str, str]]:
    """(path, message) for every error tosca-parser finds in ``document``.

    ``exposed`` holds the (node template, requirement) pairs the template's
    substitution mappings expose: the enclosing NSD fulfils those, so a
    missing assignment inside this template is not an error.
    """
    template = _self_contained(document, types)
    with _LOCK:
        try:
            ToscaTemplate(yaml_dict_tpl=template)
            return []
        except ValidationError:
            errors = [str(e).strip() for e in ExceptionCollector.getExceptions()]
        except KeyError as exc:  # tosca-parser looks types up without checking they exist
            name = exc.args[0] if exc.args else ""
            return [
                (
                    "",
                    f"{name!r} is used but not defined: neither this template, its imports "
                    "nor nubo's SOL001 type files define it; import the file that defines "
                    f"it (tosca-parser: KeyError: {exc})",
                )
            ]
        except Exception as exc:  # tosca-parser trips over some broken templates
            return [("", f"tosca-parser could not read the template: {type(exc).__name__}: {exc}")]
        finally:
            ExceptionCollector.stop()
            ExceptionCollector.clear()
    names = _node_names(document)
    index = TypeIndex(types)
    problems: list[tuple[str, str]] = []
    for message in errors:
        occurrences = _OCCURRENCES.search(message)
        if occurrences and (occurrences.group(2), occurrences.group(1)) in exposed:
            continue
        problems.extend(explain(message, _path_of(message, names), document, index))
    return problems


def _node_names(document: dict[str, Any]) -> set[str]:
    topology = document.get("topology_template")
    nodes = topology.get("node_templates") if isinstance(topology, dict) else None
    return {str(name) for name in nodes} if isinstance(nodes, dict) else set()


def _path_of(message: str, node_names: set[str]) -> str:
    for quoted in _QUOTED.findall(message):
        if quoted in node_names:
            return f"topology_template.node_templates.{quoted}"
    return ""


def _self_contained(document: dict[str, Any], types: TypeSections) -> dict[str, Any]:
    template = {
        key: copy.deepcopy(value)
        for key, value in document.items()
        if key != "imports" and key not in TYPE_SECTIONS
    }
    for section, definitions in types.items():
        if definitions:
            template[section] = copy.deepcopy(definitions)
    if types.get("data_types"):
        template["data_types"] = _flattened_data_types(types)
    return template


def _flattened_data_types(types: TypeSections) -> dict[str, Any]:
    """Complex data types with their inherited properties spelt out.

    tosca-parser lets a parent's property definition win over the one a
    derived data type redefines (SOL001 relies on redefinition, e.g. a
    provider's ``additional_configurable_properties``), so every complex
    type is handed over already merged, nearest definition winning.
    """
    index = TypeIndex(types)
    flattened: dict[str, Any] = {}
    for name, definition in types["data_types"].items():
        chain = index.ancestry("data_types", name)
        if not isinstance(definition, dict) or len(chain) < 2 or chain[-1] != _DATA_ROOT:
            flattened[name] = copy.deepcopy(definition)
            continue
        merged = copy.deepcopy(definition)
        merged["derived_from"] = _DATA_ROOT
        merged["properties"] = copy.deepcopy(index.merged("data_types", name, "properties"))
        flattened[name] = merged
    return flattened
