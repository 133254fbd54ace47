"""The files of a SOL001 TOSCA service template, found without the network.

A template names other files in ``imports``: the ETSI type definitions, the
VNFD templates of its VNFs, a provider's own types. nubo never fetches
anything: an import is looked up relative to the importing file among the
files handed in (a package's members, or ``base_dir`` on disk), and when the
package does not ship it, an ETSI type file is served from nubo's own
definitions (``nubo/descriptors/sol001/``) by its file name, versioned or not
(``etsi_nfv_sol001_vnfd_2_5_1_types.yaml`` too), even when imported by URL.

Every file's type sections are merged in import order, imports first and the
importing file last, so that a file overrides what it imports.

A template may also name files that are not templates, as the ``file`` of an
artifact (a VDU's Docker env file): those resolve like imports, relative to
the naming file, and are remembered (``artifacts_of``) so that a stored copy
of the template can keep them. Only YAML files are ever read as templates.
"""

from __future__ import annotations

import copy
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]

from nubo.model.errors import FieldProblem

__all__ = ["NUBO_PREFIX", "ROOT", "TYPE_SECTIONS", "ToscaFile", "ToscaSources", "located"]

#: The sections of a service template that define types.
TYPE_SECTIONS = (
    "artifact_types",
    "data_types",
    "capability_types",
    "interface_types",
    "relationship_types",
    "node_types",
    "group_types",
    "policy_types",
)
#: The logical name of the main template when it is given as text.
ROOT = "(template)"
NUBO_PREFIX = "nubo:"
_ETSI_TYPES = re.compile(r"etsi_nfv_sol001_(common|vnfd|nsd|pnfd)(?:_v?\d+_\d+_\d+)?_types\.ya?ml")
_YAML = (".yaml", ".yml")
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_NUBO_FILES = frozenset(
    f"{NUBO_PREFIX}sol001/etsi_nfv_sol001_{kind}_types.yaml"
    for kind in ("common", "vnfd", "nsd", "pnfd")
)

TypeSections = dict[str, dict[str, Any]]


def located(file: str, root: str, path: str) -> str:
    """A problem path: bare in the main template, ``file:path`` in any other file."""
    if file == root:
        return path or "$"
    return f"{file}:{path}" if path else file


@dataclass
class ToscaFile:
    """One YAML file of a template, by its logical name (a path inside the package)."""

    name: str
    document: dict[str, Any]
    imports: list[str] = field(default_factory=list)


class ToscaSources:
    """Loads a template's files and resolves their imports; problems are collected."""

    def __init__(
        self,
        root: str,
        root_text: str,
        *,
        extra_files: Mapping[str, str] | None = None,
        base_dir: Path | None = None,
        artifacts: Mapping[str, bytes] | None = None,
    ) -> None:
        self.root = root
        self.problems: list[FieldProblem] = []
        self._texts = {_normal(name): text for name, text in (extra_files or {}).items()}
        self._texts[root] = root_text
        self._base_dir = base_dir
        # Not iterated, only looked up: a package's other files may be large images.
        self._artifacts: Mapping[str, bytes] = artifacts or {}
        self._artifacts_of: dict[str, list[str]] = {}
        self._files: dict[str, ToscaFile | None] = {}
        self._types: dict[str, TypeSections] = {}

    def report(self, file: str, path: str, message: str) -> None:
        self.problems.append(FieldProblem(located(file, self.root, path), message))

    def names(self) -> list[str]:
        """Every template handed in by name (package members), in the order given.

        Templates are YAML files; the others (env files) are only read as artifacts.
        """
        return [n for n in self._texts if n == self.root or n.lower().endswith(_YAML)]

    def text(self, name: str) -> str | None:
        """The text of the file called ``name``, as it was found (None if it was not)."""
        return self._text_of(name)

    def load(self, name: str) -> ToscaFile | None:
        """The file called ``name``, parsed and with its imports resolved; None if unusable."""
        if name in self._files:
            return self._files[name]
        self._files[name] = None  # guards import cycles while this file loads
        text = self._text_of(name)
        if text is None:
            return None
        document = self._parse(name, text)
        if document is None:
            return None
        loaded = ToscaFile(name, document)
        self._files[name] = loaded
        loaded.imports = self._resolve_imports(loaded)
        return loaded

    def types(self, name: str) -> TypeSections:
        """The type sections of ``name`` merged with those of everything it imports."""
        if name in self._types:
            return self._types[name]
        merged: TypeSections = {section: {} for section in TYPE_SECTIONS}
        self._types[name] = merged  # an import cycle sees a partial, not a loop
        loaded = self.load(name)
        if loaded is None:
            return merged
        for imported in loaded.imports:
            for section, types in self.types(imported).items():
                merged[section].update(types)
        for section in TYPE_SECTIONS:
            own = loaded.document.get(section)
            if isinstance(own, dict):
                merged[section].update(own)
            elif own is not None:
                self.report(name, section, "expected a map of type definitions")
        return merged

    def artifact(self, importer: str, reference: str) -> tuple[str, str | None]:
        """The name the artifact file ``reference`` of ``importer`` resolves to, and its text.

        The text is None when the file is not there. ``artifacts`` handed in
        as bytes (a CSAR's own files) win over ``extra_files``; bytes that are
        not UTF-8 come through as surrogate escapes, for the reader to refuse
        by line.
        """
        name = _join(importer, reference)
        if name.startswith(NUBO_PREFIX):
            return name, None  # nubo's own type files are no one's artifacts
        raw = self._artifacts.get(name)
        if raw is None and name not in self._texts:
            raw = self._on_disk(name)
        text = self._texts.get(name) if raw is None else raw.decode("utf-8", "surrogateescape")
        if text is not None:
            self._texts[name] = text
            used = self._artifacts_of.setdefault(importer, [])
            if name not in used:
                used.append(name)
        return name, text

    def artifacts_of(self, name: str) -> list[str]:
        """The artifact files ``name`` named that were found, each once, in order."""
        return list(self._artifacts_of.get(name, []))

    def imported_files(self, name: str) -> list[str]:
        """``name`` and every file it imports, directly or not, each once."""
        seen: list[str] = []
        pending = [name]
        while pending:
            current = pending.pop(0)
            if current in seen:
                continue
            seen.append(current)
            loaded = self.load(current)
            if loaded is not None:
                pending.extend(loaded.imports)
        return seen

    def _text_of(self, name: str) -> str | None:
        if name.startswith(NUBO_PREFIX):
            # Only nubo's own type files: an import naming "nubo:/etc/passwd" reads nothing.
            if name not in _NUBO_FILES:
                return None
            return files("nubo.descriptors").joinpath(name.removeprefix(NUBO_PREFIX)).read_text()
        if name in self._texts:
            return self._texts[name]
        data = self._on_disk(name)
        if data is None:
            return None
        text = data.decode("utf-8")
        self._texts[name] = text
        return text

    def _on_disk(self, name: str) -> bytes | None:
        """The bytes of ``name`` under ``base_dir``; never a file outside it."""
        if self._base_dir is None or name.startswith("../"):
            return None
        candidate = self._base_dir / name
        return candidate.read_bytes() if candidate.is_file() else None

    def _parse(self, name: str, text: str) -> dict[str, Any] | None:
        if name in _NUBO_FILES:
            # a copy: tosca-parser may change the documents it is given
            return copy.deepcopy(_own_types(name))
        try:
            document = yaml.safe_load(text)
            _check_expansion(document)
        except RecursionError:
            self.report(name, "", "malformed YAML: nested too deeply")
            return None
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
            self.report(name, "", f"malformed YAML: {exc.problem or exc.context}{where}")
            return None
        except yaml.YAMLError as exc:
            self.report(name, "", f"malformed YAML: {exc}")
            return None
        if not isinstance(document, dict):
            self.report(name, "", "expected a TOSCA service template (a YAML map)")
            return None
        return document

    def _resolve_imports(self, importer: ToscaFile) -> list[str]:
        raw = importer.document.get("imports")
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.report(importer.name, "imports", "expected a list of imports")
            return []
        resolved: list[str] = []
        for i, item in enumerate(raw):
            path = f"imports[{i}]"
            reference = self._reference_of(importer.name, path, item)
            if reference is None:
                continue
            name = self._find(importer.name, reference)
            if name is None:
                self.report(importer.name, path, _not_found(reference))
            else:
                self.load(name)  # problems of the imported file are reported there
                resolved.append(name)
        return resolved

    def _reference_of(self, importer: str, path: str, item: Any) -> str | None:
        # TOSCA allows a bare string, or a map with "file" (and maybe
        # "repository"), or an old-style single-entry map {name: that}.
        if isinstance(item, dict) and "file" not in item and len(item) == 1:
            item = next(iter(item.values()))
        if isinstance(item, dict):
            if item.get("repository"):
                self.report(
                    importer,
                    f"{path}.repository",
                    "imports from repositories are not fetched (nubo does not reach "
                    "the network): ship the file in the package",
                )
                return None
            item = item.get("file")
            path = f"{path}.file"
        if not isinstance(item, str) or not item.strip():
            self.report(importer, path, "expected the name of a file to import")
            return None
        return item.strip()

    def _find(self, importer: str, reference: str) -> str | None:
        """The logical name ``reference`` resolves to from ``importer``, or None."""
        basename = posixpath.basename(reference)
        if importer.startswith(NUBO_PREFIX):
            return _nubo_types(basename)
        if _URL.match(reference):
            # Never fetched: the package's own copy next to the importer, else nubo's.
            candidates = [_join(importer, basename)]
        elif reference.startswith("/"):
            candidates = [_normal(reference)]
        else:
            candidates = [_join(importer, reference)]
        for candidate in candidates:
            if self._text_of(candidate) is not None:
                return candidate
        return _nubo_types(basename)


@cache
def _own_types(name: str) -> dict[str, Any]:
    """One of nubo's SOL001 type files, parsed once per process.

    They are large (every type of SOL001 v2.x-v4.x) and the same for every
    template: parsing them again for each one would dominate its load time.
    """
    text = files("nubo.descriptors").joinpath(name.removeprefix(NUBO_PREFIX)).read_text()
    document: dict[str, Any] = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return document


def _nubo_types(basename: str) -> str | None:
    match = _ETSI_TYPES.fullmatch(basename)
    if match is None:
        return None
    return f"{NUBO_PREFIX}sol001/etsi_nfv_sol001_{match.group(1)}_types.yaml"


def _normal(name: str) -> str:
    return posixpath.normpath(name.replace("\\", "/")).lstrip("/")


def _join(importer: str, reference: str) -> str:
    directory = "" if importer == ROOT else posixpath.dirname(importer)
    return _normal(posixpath.join(directory, reference))


def _not_found(reference: str) -> str:
    if _URL.match(reference):
        return (
            f"cannot import {reference!r}: URLs are not fetched (nubo does not reach the "
            f"network) and no file {posixpath.basename(reference)!r} is in the package"
        )
    return f"cannot import {reference!r}: no such file in the package"


#: the most nodes a template may hold once its YAML aliases are expanded
MAX_EXPANDED_NODES = 200_000


def _check_expansion(document: Any) -> None:
    """Refuse alias bombs and self-referencing documents before anything walks them.

    YAML aliases share one object, so loading stays cheap, but every later
    walk (validation, copying, JSON) visits each reference again: nine levels
    of ten aliases are 10^9 nodes. Sizes are counted once per shared object.
    """
    sizes: dict[int, int] = {}

    def size(node: Any) -> int:
        if not isinstance(node, dict | list):
            return 1
        key = id(node)
        if key in sizes:
            if sizes[key] < 0:
                raise yaml.YAMLError("a YAML alias refers to a node that contains it")
            return sizes[key]
        sizes[key] = -1
        children = [*node.keys(), *node.values()] if isinstance(node, dict) else node
        total = 1 + sum(size(child) for child in children)
        if total > MAX_EXPANDED_NODES:
            raise yaml.YAMLError(
                f"the document expands to more than {MAX_EXPANDED_NODES} nodes "
                "(YAML aliases repeated over and over)"
            )
        sizes[key] = total
        return total

    size(document)
