"""Docker environment files (``docker run --env-file``), read the way Docker reads them.

Seed 004 §4.8.11 describes a container VDU's environment as "a docker
environment variable file as accepted by the docker run --env-file option",
so nubo accepts that format and no dialect of it: one ``NAME=value`` per
line, the line's leading whitespace dropped, blank lines and lines starting
with ``#`` ignored, and the value taken literally up to the end of the line
(quotes, ``$``, backslashes and trailing spaces are part of it; Docker does
not process them either).

Two things Docker accepts are refused, because nubo runs VNFs on behalf of
someone else: a line with a bare ``NAME`` (Docker copies that variable from
the environment of the host running ``docker run``, which for nubo would be
the orchestrator's own, so its secrets could leak into a VNF), and a name
that is not a portable variable name (letters, digits and ``_``, not starting
with a digit), which shells in the images could not read. Every problem is
reported at once, each naming the file and the line.
"""

from __future__ import annotations

import re

from nubo.model.errors import FieldProblem, InvalidDescriptor

__all__ = ["parse_env_file", "read_env_file"]

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BOM = "\ufeff"


def parse_env_file(text: str, name: str) -> dict[str, str]:
    """The variables of env file ``name``; ``InvalidDescriptor`` listing every problem."""
    variables, problems = read_env_file(text, name)
    if problems:
        raise InvalidDescriptor(problems)
    return variables


def read_env_file(text: str, name: str) -> tuple[dict[str, str], list[FieldProblem]]:
    """The variables of env file ``name`` in file order, and its problems.

    A variable set twice keeps the last value, as with Docker. Problems are
    located at ``name`` with the line number in the message (``line 3: ...``),
    like the problems of a package manifest.
    """
    variables: dict[str, str] = {}
    problems: list[FieldProblem] = []
    # Split on newlines only: str.splitlines would also break at form feeds,
    # vertical tabs and Unicode separators, which Docker keeps in the value.
    for number, raw in enumerate(text.removeprefix(_BOM).split("\n"), start=1):
        line = raw.removesuffix("\r").lstrip()
        if not line or line.startswith("#"):
            continue
        message = _problem(line)
        if message:
            problems.append(FieldProblem(name, f"line {number}: {message}"))
            continue
        key, _, value = line.partition("=")
        variables[key] = value
    return variables, problems


def _problem(line: str) -> str:
    """What is wrong with a non-blank, non-comment line ('' if nothing)."""
    # Undecodable bytes arrive as surrogate escapes; Docker refuses them too.
    if any("\udc80" <= c <= "\udcff" for c in line):
        return "not UTF-8 text"
    if "\0" in line:
        return "contains a NUL character, which no environment variable can hold"
    key, equals, _ = line.partition("=")
    if not equals:
        return (
            f"{_shown(key)} has no '=': Docker would copy it from the environment of the host, "
            "which nubo never passes to a VNF; give it a value (NAME=value, or NAME= for empty)"
        )
    if not key:
        return "no variable name before '='"
    if key != key.rstrip():
        return f"{_shown(key)} ends in whitespace: write NAME=value with no space before '='"
    if not _NAME.fullmatch(key):
        return (
            f"{_shown(key)} is not a valid environment variable name "
            "(letters, digits and '_', not starting with a digit)"
        )
    return ""


def _shown(key: str) -> str:
    return repr(key if len(key) <= 60 else key[:57] + "...")
