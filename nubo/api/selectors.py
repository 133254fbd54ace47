"""SOL013 §5.3 attribute selectors, applied to a view's JSON.

- ``all_fields``: every attribute.
- ``fields=a,b/c``: the simple attributes, and of the complex ones (objects and
  arrays) only those listed; ``b/c`` keeps of ``b`` its simple attributes and
  its complex ``c``.
- ``exclude_fields=a,b/c``: every attribute but those listed.
- ``exclude_default``: every attribute but the resource's default exclusions
  (the GS lists them per resource); it may be combined with ``fields`` (a listed
  attribute is kept) or ``exclude_fields``. Without any selector a list is
  answered as with ``exclude_default``.

``all_fields`` combines with nothing, ``fields`` not with ``exclude_fields``:
such a request is a 400, as is a path the view does not have.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nubo.api.attributes import Attribute
from nubo.model.errors import BadRequest

#: a set of attribute paths as a tree: {"b": {"c": {}}}; an empty dict ends a path
PathTree = Mapping[str, "PathTree"]


@dataclass(frozen=True)
class Selection:
    """What of each item to answer: the ``fields`` to keep and the paths to drop."""

    fields: PathTree | None
    excluded: PathTree

    def apply(self, document: dict[str, Any]) -> dict[str, Any]:
        kept = document if self.fields is None else _keep(document, self.fields)
        return _drop(kept, self.excluded) if self.excluded else kept


def parse_selection(
    view: Attribute,
    defaults: Sequence[str],
    *,
    all_fields: bool,
    fields: str | None,
    exclude_fields: str | None,
    exclude_default: bool,
) -> Selection:
    """The selection the query asks for; ``BadRequest`` naming the parameter at fault."""
    if all_fields and (fields is not None or exclude_fields is not None or exclude_default):
        raise BadRequest(
            "all_fields cannot be combined with fields, exclude_fields or exclude_default",
            field="all_fields",
        )
    if fields is not None and exclude_fields is not None:
        raise BadRequest("fields and exclude_fields cannot be combined", field="fields")
    if all_fields:
        return Selection(None, {})
    kept = _paths(view, "fields", fields) if fields is not None else None
    dropped = _paths(view, "exclude_fields", exclude_fields) if exclude_fields is not None else []
    if exclude_default or (fields is None and exclude_fields is None):
        named = kept or []
        dropped += [
            (name,)
            for name in defaults
            if view.find((name,)) is not None and not any(p[0] == name for p in named)
        ]
    return Selection(_tree(kept) if kept is not None else None, _tree(dropped))


def _paths(view: Attribute, parameter: str, text: str) -> list[tuple[str, ...]]:
    paths = []
    for name in text.split(","):
        path = tuple(name.strip().split("/"))
        if not all(path):
            raise BadRequest(
                f"{parameter}: {name!r} is not an attribute path (a/b/c)",
                field=parameter,
                part=name,
            )
        attribute = view.find(path)
        if attribute is None:
            raise BadRequest(
                f"{parameter}: the resource has no attribute {name!r}", field=parameter, part=name
            )
        if parameter == "fields" and not attribute.complex:
            continue  # simple attributes are always answered
        paths.append(path)
    return paths


def _tree(paths: Sequence[tuple[str, ...]]) -> dict[str, Any]:
    tree: dict[str, Any] = {}
    for path in paths:
        node = tree
        for i, name in enumerate(path):
            if name in node and not node[name]:
                break  # a shorter path already names the whole attribute
            if i == len(path) - 1:
                node[name] = {}
            else:
                node = node.setdefault(name, {})
    return tree


def _is_complex(value: Any) -> bool:
    return isinstance(value, dict | list)


def _keep(document: Any, tree: PathTree) -> Any:
    if isinstance(document, list):
        return [_keep(element, tree) for element in document]
    if not isinstance(document, dict):
        return document
    kept = {}
    for name, value in document.items():
        if name in tree:
            kept[name] = value if not tree[name] else _keep(value, tree[name])
        elif not _is_complex(value):
            kept[name] = value
    return kept


def _drop(document: Any, tree: PathTree) -> Any:
    if isinstance(document, list):
        return [_drop(element, tree) for element in document]
    if not isinstance(document, dict):
        return document
    kept = {}
    for name, value in document.items():
        if name not in tree:
            kept[name] = value
        elif tree[name]:
            kept[name] = _drop(value, tree[name])
    return kept
