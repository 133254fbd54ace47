"""Open Baton VNF packages: ``Metadata.yaml``, ``vnfd.json`` and ``scripts/``, tar or zip.

Open Baton onboards a VNF on its own as such a package (a tar, as its
package tool makes them) and NSDs then name its VNFD by id (``"vnfd":
[{"id": ...}]``). nubo reads it through the same VNF package route as a
CSAR: ``Metadata.yaml`` gives the package's name and provider, ``vnfd.json``
the VNFD, checked as Open Baton checks a VNFD inside an NSD with the
package's scripts (every problem located in ``vnfd.json``: a lifecycle
event naming a script the package lacks is refused), and the files of
``scripts/`` stay in the package as its artifacts. The VNFD id is the ``id``
that ``vnfd.json`` gives, else the package's name.

The VNFD is kept among the package's Definitions under a name of its own
(``openbaton-vnfd-<id>.json``), and each script its lifecycle events name
under ``openbaton-scripts-<id>/<script>``, so that two such packages never
ship two different files under one name; an NSD that names the VNFD gets
the scripts with it (``package_scripts``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import yaml  # type: ignore[import-untyped]

from nubo.descriptors.openbaton import parse_nsd
from nubo.descriptors.openbaton_lifecycle import PACKAGE_SCRIPTS
from nubo.descriptors.tosca_package import SoftwareImage, VnfPackageSummary
from nubo.model.errors import FieldProblem, InvalidDescriptor

__all__ = [
    "METADATA",
    "VNFD_JSON",
    "is_open_baton_package",
    "package_scripts",
    "read_open_baton_package",
]

METADATA = "Metadata.yaml"
VNFD_JSON = "vnfd.json"
SCRIPTS = "scripts/"
_SCRIPTS_PREFIX = "openbaton-scripts-"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def is_open_baton_package(files: Mapping[str, bytes], tosca_metadata: Mapping[str, str]) -> bool:
    """No TOSCA.meta, and Open Baton's two files at the root."""
    return not tosca_metadata and METADATA in files and VNFD_JSON in files


def read_open_baton_package(
    files: Mapping[str, bytes],
) -> tuple[VnfPackageSummary, str, dict[str, str]]:
    """(summary, VNFD definition name, definitions); ``InvalidDescriptor`` lists every problem.

    The definitions are the VNFD's text and the text of each script it names.
    """
    metadata = _metadata(files[METADATA])
    text = files[VNFD_JSON].decode("utf-8-sig", errors="replace")
    try:
        vnfd = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        problem = FieldProblem(VNFD_JSON, f"malformed JSON: {exc.msg} at {where}")
        raise InvalidDescriptor([problem]) from None
    if not isinstance(vnfd, dict):
        raise InvalidDescriptor([FieldProblem(VNFD_JSON, "expected a JSON object (the VNFD)")])
    name = metadata.get("name")
    if not isinstance(name, str) or not name.strip():
        raise InvalidDescriptor([FieldProblem(f"{METADATA}:name", "required: the package's name")])
    scripts = _scripts(files)
    link = metadata.get("scripts-link")
    if link and not scripts and _named_scripts(vnfd):
        raise InvalidDescriptor(
            [
                FieldProblem(
                    f"{METADATA}:scripts-link",
                    f"nubo does not fetch lifecycle scripts ({link}): put the scripts the "
                    f"VNFD's lifecycle events name ({', '.join(_named_scripts(vnfd))}) into "
                    "the package's scripts/ folder",
                )
            ]
        )
    model = _checked(vnfd | {PACKAGE_SCRIPTS: scripts}, name)
    vnfd_id = vnfd["id"] if isinstance(vnfd.get("id"), str) and vnfd["id"].strip() else name
    summary = VnfPackageSummary(
        vnfd_id=vnfd_id,
        provider=str(metadata.get("provider") or model.vendor),
        product_name=name,
        software_version=model.version,
        vnfd_version=model.version,
        node_type="",
        flavour_id="",
        images=tuple(SoftwareImage(id=vdu.name, name=vdu.image) for vdu in model.vdus),
    )
    safe_id = _UNSAFE.sub("_", vnfd_id)
    definitions = {f"openbaton-vnfd-{safe_id}.json": text} | {
        f"{_SCRIPTS_PREFIX}{safe_id}/{script.name}": script.text for script in model.scripts
    }
    return summary, f"openbaton-vnfd-{safe_id}.json", definitions


def package_scripts(vnfd_file: str, definitions: Mapping[str, str]) -> dict[str, str]:
    """The scripts an Open Baton package keeps beside its VNFD ``vnfd_file``, by name."""
    safe_id = vnfd_file.removeprefix("openbaton-vnfd-").removesuffix(".json")
    prefix = f"{_SCRIPTS_PREFIX}{safe_id}/"
    return {
        name.removeprefix(prefix): text
        for name, text in definitions.items()
        if name.startswith(prefix)
    }


def _scripts(files: Mapping[str, bytes]) -> dict[str, str]:
    """The text of every file under ``scripts/``, by its name there; binary ones refused."""
    found: dict[str, str] = {}
    problems: list[FieldProblem] = []
    for path, content in sorted(files.items()):
        if not path.startswith(SCRIPTS):
            continue
        try:
            found[path.removeprefix(SCRIPTS)] = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            problems.append(
                FieldProblem(path, f"not UTF-8 text ({exc.reason}): a lifecycle script is text")
            )
    if problems:
        raise InvalidDescriptor(problems)
    return found


def _metadata(data: bytes) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(data.decode("utf-8-sig", errors="replace"))
    except yaml.YAMLError as exc:
        raise InvalidDescriptor([FieldProblem(METADATA, f"malformed YAML: {exc}")]) from None
    if not isinstance(loaded, dict):
        raise InvalidDescriptor([FieldProblem(METADATA, "expected a map (name, provider...)")])
    return loaded


def _checked(vnfd: dict[str, Any], name: str) -> Any:
    """The VNFD as an NSD of its own would read it; its problems located in vnfd.json.

    Its ``requires`` names VNFs of the NSDs that will use it, so it is checked
    there, not here, where the VNFD is alone.
    """
    links = _links(vnfd)
    alone = {key: value for key, value in vnfd.items() if key != "requires"}
    document = {"name": name, "vld": [{"name": link} for link in links], "vnfd": [alone]}
    try:
        return parse_nsd(document).vnfds[0]
    except InvalidDescriptor as exc:
        raise InvalidDescriptor(
            [
                FieldProblem(p.path.replace("$.vnfd[0]", f"{VNFD_JSON}:$", 1), p.message)
                for p in exc.problems
            ]
        ) from None


def _links(vnfd: dict[str, Any]) -> list[str]:
    """The virtual links the VNFD attaches to, in the order it names them."""
    found: list[str] = []

    def add(value: Any) -> None:
        if isinstance(value, str) and value and value not in found:
            found.append(value)

    for link in _list(vnfd.get("virtual_link")):
        add(link.get("name") if isinstance(link, dict) else None)
    for vdu in _list(vnfd.get("vdu")):
        for vnfc in _list(vdu.get("vnfc") if isinstance(vdu, dict) else None):
            points = vnfc.get("connection_point") if isinstance(vnfc, dict) else None
            for point in _list(points):
                add(point.get("virtual_link_reference") if isinstance(point, dict) else None)
    return found


def _named_scripts(vnfd: dict[str, Any]) -> list[str]:
    """The script names the VNFD's lifecycle events give, each once."""
    names: list[str] = []
    for event in _list(vnfd.get("lifecycle_event")):
        listed = event.get("lifecycle_events") if isinstance(event, dict) else None
        names.extend(n for n in _list(listed) if isinstance(n, str) and n not in names)
    return names


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
