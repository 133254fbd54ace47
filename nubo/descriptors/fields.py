"""Typed field reading from parsed JSON objects, with every problem located by path.

Descriptor parsers must report all problems of a document at once, each with
the JSON path of the offending field. That bookkeeping does not depend on the
format, so it lives here, apart from any one format's mapping (Open Baton
today, SOL001 TOSCA later), and is shared by the parsers.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from nubo.model.errors import FieldProblem

__all__ = ["FieldReader", "JsonObject", "as_int", "as_number", "json_kind"]

_INTEGER = re.compile(r"\s*[+-]?\d+\s*")

JsonObject = dict[str, Any]


def json_kind(value: Any) -> str:
    """The JSON name of a value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "list" if isinstance(value, list) else "object"


def as_int(value: Any) -> int | None:
    """An integer from a JSON value (numeric strings accepted), or None if it is none."""
    # Open Baton documents often quote numbers ("value": "1"), so numeric
    # strings count; booleans are ints to Python but never to a JSON author.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    return None


def as_number(value: Any) -> float | None:
    """A finite number from a JSON value (numeric strings accepted), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


class FieldReader:
    """Reads typed fields out of JSON objects, recording problems instead of raising.

    Every accessor returns a usable fallback after a problem so that reading
    goes on and later problems are found in the same pass.
    """

    def __init__(self) -> None:
        self.problems: list[FieldProblem] = []
        #: what the document carries that is accepted but not used, each at its path
        self.warnings: list[FieldProblem] = []

    def report(self, path: str, message: str) -> None:
        self.problems.append(FieldProblem(path, message))

    def warn(self, path: str, message: str) -> None:
        self.warnings.append(FieldProblem(path, message))

    def text(
        self,
        obj: JsonObject,
        key: str,
        path: str,
        *,
        required: bool = False,
        default: str = "",
        scalars: bool = False,
    ) -> str:
        """A string field; with ``scalars`` a number or boolean is taken as its JSON text."""
        where = f"{path}.{key}"
        value = obj.get(key)
        if value is None:
            if required:
                self.report(where, "required")
            return default
        if scalars and isinstance(value, int | float | bool):
            return json.dumps(value)
        if not isinstance(value, str):
            self.report(where, f"expected a string, got {json_kind(value)}")
            return default
        if required and not value.strip():
            self.report(where, "must not be empty")
        return value

    def choice(
        self, obj: JsonObject, key: str, path: str, allowed: tuple[str, ...], default: str = ""
    ) -> str:
        """A string field that must be one of ``allowed``; required unless a default is given."""
        value = self.text(obj, key, path, required=not default, default=default)
        if value and value not in allowed:
            self.report(f"{path}.{key}", f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def integer(self, obj: JsonObject, key: str, path: str, *, minimum: int) -> int | None:
        """A required integer field (numeric strings accepted) of at least ``minimum``."""
        where = f"{path}.{key}"
        if obj.get(key) is None:
            self.report(where, "required")
            return None
        value = as_int(obj[key])
        if value is None or value < minimum:
            self.report(where, f"expected an integer >= {minimum}, got {obj[key]!r}")
            return None
        return value

    def flag(self, obj: JsonObject, key: str, path: str) -> bool:
        """An optional boolean field (false when absent); ``"true"``/``"false"`` accepted."""
        value = obj.get(key)
        if value is None:
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        self.report(f"{path}.{key}", f"expected true or false, got {value!r}")
        return False

    def number(self, obj: JsonObject, key: str, path: str, default: float | None = None) -> float:
        """A number field (int, float or numeric string); required unless a default is given."""
        where = f"{path}.{key}"
        if obj.get(key) is None:
            if default is None:
                self.report(where, "required")
            return default or 0.0
        value = as_number(obj[key])
        if value is None:
            self.report(where, f"expected a number, got {obj[key]!r}")
            return 0.0
        return value

    def obj(self, obj: JsonObject, key: str, path: str, *, required: bool = False) -> JsonObject:
        """A nested object; an empty one when absent or of the wrong type."""
        value = obj.get(key)
        if value is None:
            if required:
                self.report(f"{path}.{key}", "required")
            return {}
        if not isinstance(value, dict):
            self.report(f"{path}.{key}", f"expected an object, got {json_kind(value)}")
            return {}
        return value

    def items(
        self, obj: JsonObject, key: str, path: str, *, required: str | None = None
    ) -> list[tuple[str, Any]]:
        """(path, item) pairs of a list field; ``required`` is the message if absent or empty."""
        where = f"{path}.{key}"
        value = obj.get(key)
        if value is None or value == []:
            if required:
                self.report(where, required)
            return []
        if not isinstance(value, list):
            self.report(where, f"expected a list, got {json_kind(value)}")
            return []
        return [(f"{where}[{i}]", item) for i, item in enumerate(value)]

    def objects(
        self, obj: JsonObject, key: str, path: str, *, required: str | None = None
    ) -> list[tuple[str, JsonObject]]:
        """(path, object) pairs of a list of objects; other items are reported and skipped."""
        found: list[tuple[str, JsonObject]] = []
        for where, item in self.items(obj, key, path, required=required):
            if isinstance(item, dict):
                found.append((where, item))
            else:
                self.report(where, f"expected an object, got {json_kind(item)}")
        return found

    def strings(
        self, obj: JsonObject, key: str, path: str, *, required: str | None = None
    ) -> list[tuple[str, str]]:
        """(path, string) pairs of a list of strings; other items are reported and skipped."""
        found: list[tuple[str, str]] = []
        for where, item in self.items(obj, key, path, required=required):
            if isinstance(item, str):
                found.append((where, item))
            else:
                self.report(where, f"expected a string, got {json_kind(item)}")
        return found
