"""SOL013 §5.2 attribute-based filtering, evaluated on a view's JSON.

``filter=(eq,nsState,INSTANTIATED);(cont,nsInstanceName,sipp)`` keeps the
items every expression matches. An expression is ``(op,attribute,value...)``
with the operators ``eq``, ``neq``, ``gt``, ``lt``, ``gte``, ``lte``, ``cont``
and ``ncont``; ``eq``/``cont`` with several values match when any value
matches, ``neq``/``ncont`` when none does. A value holding ``,``, ``)``, ``;``
or ``'`` is written in single quotes, a quote inside doubled
(``'it''s, quoted'``). Where an attribute path crosses an array, the
expression looks at every element: ``eq`` matches when one of them is equal,
``neq`` when none is. An absent attribute equals nothing.

The filter is checked against the view's attributes (``nubo.api.attributes``)
before anything is read, so a typo is a 400 naming the expression, not an
empty list.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from nubo.api.attributes import Attribute
from nubo.model.errors import BadRequest

_ORDERED = {
    "gt": lambda a, b: a > b,
    "lt": lambda a, b: a < b,
    "gte": lambda a, b: a >= b,
    "lte": lambda a, b: a <= b,
}
OPERATORS = ("eq", "neq", "gt", "lt", "gte", "lte", "cont", "ncont")


def bad_filter(message: str, part: str) -> BadRequest:
    return BadRequest(f"filter: {message}: {part}", field="filter", part=part)


@dataclass(frozen=True)
class Expression:
    """One ``(op,attribute,values)`` of a filter, checked against the view's attributes."""

    op: str
    path: tuple[str, ...]
    values: tuple[str, ...]
    kind: str
    text: str

    def matches(self, document: Any) -> bool:
        found = [v for v in values_at(document, self.path) if v is not None]
        if self.op in ("eq", "neq"):
            hit = any(_equal(v, x) for v in found for x in self.values)
            return hit if self.op == "eq" else not hit
        if self.op in ("cont", "ncont"):
            hit = any(isinstance(v, str) and x in v for v in found for x in self.values)
            return hit if self.op == "cont" else not hit
        compare: Callable[[Any, Any], bool] = _ORDERED[self.op]
        return any(_ordered(compare, v, self.values[0]) for v in found)


@dataclass(frozen=True)
class Filter:
    """Every expression of a ``filter`` parameter; an item passes when all match."""

    expressions: tuple[Expression, ...]

    def matches(self, document: Any) -> bool:
        return all(e.matches(document) for e in self.expressions)


def parse_filter(text: str, view: Attribute) -> Filter:
    """The filter ``text`` for items of ``view``; ``BadRequest`` naming the bad part."""
    expressions = []
    for raw, fields in _expressions(text):
        if len(fields) < 3:
            raise bad_filter("an expression is (op,attribute,value[,value...])", raw)
        op, name, values = fields[0], fields[1], tuple(fields[2:])
        if op not in OPERATORS:
            raise bad_filter(f"unknown operator {op!r}; use one of {', '.join(OPERATORS)}", raw)
        path = tuple(name.split("/"))
        if not all(path):
            raise bad_filter(f"{name!r} is not an attribute path (a/b/c)", raw)
        attribute = view.find(path)
        if attribute is None:
            raise bad_filter(f"the resource has no attribute {name!r}", raw)
        if attribute.kind == "object":
            raise bad_filter(f"{name!r} is a structure; filter on one of its attributes", raw)
        expressions.append(_checked(Expression(op, path, values, attribute.kind, raw)))
    return Filter(tuple(expressions))


def _checked(expression: Expression) -> Expression:
    op, kind, raw = expression.op, expression.kind, expression.text
    if op in ("cont", "ncont") and kind not in ("string", "any"):
        raise bad_filter(f"{op} applies to string attributes, not to a {kind}", raw)
    if op in _ORDERED:
        if len(expression.values) != 1:
            raise bad_filter(f"{op} compares with one value", raw)
        if kind == "boolean":
            raise bad_filter(f"{op} does not apply to a boolean", raw)
    for value in expression.values:
        if kind == "number" and _number(value) is None:
            raise bad_filter(f"{value!r} is not a number", raw)
        if kind == "boolean" and value not in ("true", "false"):
            raise bad_filter(f"{value!r} is not true or false", raw)
    return expression


def values_at(document: Any, path: Sequence[str]) -> Iterator[Any]:
    """Every value at ``path`` in ``document``, looking into each element of an array."""
    if isinstance(document, list):
        for element in document:
            yield from values_at(element, path)
    elif not path:
        yield document
    elif isinstance(document, dict) and path[0] in document:
        yield from values_at(document[path[0]], path[1:])


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _equal(value: Any, text: str) -> bool:
    if isinstance(value, bool):
        return text == ("true" if value else "false")
    if isinstance(value, int | float):
        return _number(text) == value
    return isinstance(value, str) and value == text


def _ordered(compare: Callable[[Any, Any], bool], value: Any, text: str) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        number = _number(text)
        return number is not None and compare(value, number)
    return isinstance(value, str) and compare(value, text)


def _expressions(text: str) -> Iterator[tuple[str, list[str]]]:
    """Split a filter into its expressions, each as (its text, its comma-separated fields)."""
    i, n = 0, len(text)
    if not text:
        raise bad_filter("empty filter", text)
    while i < n:
        start = i
        if text[i] != "(":
            raise bad_filter("an expression starts with '('", text[i:])
        fields, i = _fields(text, i + 1)
        yield text[start:i], fields
        if i < n:
            if text[i] != ";" or i + 1 == n:
                raise bad_filter("expressions are separated by ';'", text[start:])
            i += 1


def _fields(text: str, i: int) -> tuple[list[str], int]:
    """The fields of one expression from just after its '(' to just after its ')'."""
    fields: list[str] = []
    current: list[str] = []
    start = i - 1
    while i < len(text):
        char = text[i]
        if char == "'" and not current:
            value, i = _quoted(text, i, start)
            current.append(value)
            if i < len(text) and text[i] not in ",)":
                raise bad_filter("a quoted value ends before ',' or ')'", text[start:])
            continue
        if char in ",)":
            fields.append("".join(current))
            current = []
            i += 1
            if char == ")":
                return fields, i
            continue
        if char in "(;'":
            raise bad_filter(f"{char!r} inside a value must be quoted", text[start : i + 1])
        current.append(char)
        i += 1
    raise bad_filter("an expression ends with ')'", text[start:])


def _quoted(text: str, i: int, start: int) -> tuple[str, int]:
    """A single-quoted value from its opening quote; returns it and the index after it."""
    out: list[str] = []
    i += 1
    while i < len(text):
        if text[i] == "'":
            if text[i + 1 : i + 2] == "'":
                out.append("'")
                i += 2
                continue
            return "".join(out), i + 1
        out.append(text[i])
        i += 1
    raise bad_filter("a quoted value is not closed", text[start:])
