"""The content of a SOL005 NSD upload: what kind it is, and a SOL001 NSD read from it.

An NSD's content arrives as Open Baton JSON, as SOL001 YAML, or as a zip (an
NSD CSAR whose own Definitions come with it). A SOL001 NSD names its VNFs by
node types that the onboarded VNF packages define, so it is parsed with the
packages' Definitions as extra files (with the env files their VNFDs name);
what it used is then kept with it (``sol001_body``), so that it parses to the
same NSD for as long as it is stored, whatever happens to the packages later.
"""

from __future__ import annotations

import base64
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from nubo.descriptors.csar import read_csar
from nubo.descriptors.tosca import ToscaNsd, read_tosca_nsd
from nubo.model.descriptors import Nsd
from nubo.model.errors import FieldProblem, InvalidDescriptor

__all__ = [
    "SOL001",
    "ContentKind",
    "NsdUpload",
    "content_kind",
    "original_content",
    "parse_sol001_body",
    "read_sol001_upload",
    "with_package_hints",
]

#: ``NsdEntry.format`` of a SOL001 NSD
SOL001 = "sol001"

_JSON = {"application/json"}
_YAML = {"text/plain", "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}
_ZIP = {"application/zip", "application/x-zip-compressed", "application/x-zip"}
_SNIFF = {"", "application/octet-stream"}
_ZIP_MAGIC = b"PK\x03\x04"


class ContentKind(StrEnum):
    """The formats an NSD's content may come in."""

    OPENBATON_JSON = "application/json"
    SOL001_YAML = "application/yaml"
    CSAR = "application/zip"


def content_kind(media_type: str | None, data: bytes) -> ContentKind | None:
    """The kind of an upload by its media type (sniffed when there is none); None if unsupported."""
    media = (media_type or "").split(";", 1)[0].strip().lower()
    if media in _JSON:
        return ContentKind.OPENBATON_JSON
    if media in _YAML:
        return ContentKind.SOL001_YAML
    if media in _ZIP:
        return ContentKind.CSAR
    if media not in _SNIFF:
        return None
    if data.startswith(_ZIP_MAGIC):
        return ContentKind.CSAR
    if data.lstrip().startswith(b"{"):
        return ContentKind.OPENBATON_JSON
    return ContentKind.SOL001_YAML


@dataclass(frozen=True)
class NsdUpload:
    """A SOL001 NSD read from an upload, and the self-contained body to store for it."""

    tosca: ToscaNsd
    body: dict[str, Any]


def read_sol001_upload(
    data: bytes, kind: ContentKind, package_files: Mapping[str, str]
) -> NsdUpload:
    """Parse YAML or an NSD CSAR, imports resolved among its own and the packages' files."""
    files = dict(package_files)
    artifacts: dict[str, bytes] = {}
    if kind is ContentKind.CSAR:
        csar = read_csar(data)
        folder = posixpath.dirname(csar.entry_definitions)
        definitions = csar.definitions()
        own = {_relative(name, folder): text for name, text in definitions.items()}
        template = own.pop(posixpath.basename(csar.entry_definitions))
        files.update(own)  # the NSD's own copies win over the packages'
        # Its other files (Files/...) are there for the env files its own VNFDs name.
        artifacts = {
            _relative(name, folder): content
            for name, content in csar.files.items()
            if name not in definitions
        }
        extra: dict[str, Any] = {
            "entry": csar.entry_definitions,
            "archive": base64.b64encode(data).decode("ascii"),
        }
    else:
        template = _text(data)
        extra = {}
    tosca = read_tosca_nsd(template, extra_files=files, artifacts=artifacts)
    tosca = _every_flavour(tosca, template, files, artifacts)
    return NsdUpload(tosca, {"template": template, "files": tosca.files, **extra})


def _every_flavour(
    tosca: ToscaNsd, template: str, files: dict[str, str], artifacts: Mapping[str, bytes]
) -> ToscaNsd:
    """``tosca`` (its default NS flavour) checked with each of its other flavours too:
    any may be instantiated, so the NSD keeps the files of all, and their warnings."""
    others = [f for f in tosca.nsd.flavours if f != tosca.nsd.flavour_id]
    if not others:
        return tosca
    used = dict(tosca.files)
    warnings = list(tosca.nsd.warnings)
    vnfd_files = list(tosca.vnfd_files)
    problems: list[FieldProblem] = []
    for flavour in others:
        try:
            other = read_tosca_nsd(
                template, extra_files=files, artifacts=artifacts, flavour=flavour
            )
        except InvalidDescriptor as exc:
            problems.extend(exc.problems)
            continue
        used.update(other.files)
        warnings.extend(w for w in other.nsd.warnings if w not in warnings)
        vnfd_files.extend(f for f in other.vnfd_files if f not in vnfd_files)
    if problems:
        raise InvalidDescriptor(list(dict.fromkeys(problems)))
    nsd = replace(tosca.nsd, warnings=tuple(warnings))
    return replace(tosca, nsd=nsd, files=used, vnfd_files=tuple(vnfd_files))


def parse_sol001_body(body: dict[str, Any], flavour: str | None = None) -> Nsd:
    """The NSD of a stored SOL001 body (``{"template": ..., "files": {...}}``) in NS
    deployment flavour ``flavour`` (None: its default one)."""
    template, files = body.get("template"), body.get("files")
    if not isinstance(template, str) or not isinstance(files, dict):
        raise InvalidDescriptor(
            [FieldProblem("$", "a stored SOL001 NSD needs its template and files")]
        )
    extra = {str(k): str(v) for k, v in files.items()}
    return read_tosca_nsd(template, extra_files=extra, flavour=flavour).nsd


def original_content(body: dict[str, Any]) -> tuple[bytes, str]:
    """The bytes a SOL001 NSD was uploaded as, and their media type."""
    archive = body.get("archive")
    if isinstance(archive, str):
        return base64.b64decode(archive), ContentKind.CSAR.value
    return str(body.get("template", "")).encode("utf-8"), "application/yaml"


def _relative(name: str, folder: str) -> str:
    return posixpath.relpath(name, folder) if folder else name


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        message = f"not UTF-8 text: {exc.reason} at byte {exc.start}"
        raise InvalidDescriptor([FieldProblem("$", message)]) from exc


# --- naming the VNF package that is missing -------------------------------------------------

_NO_FILE = re.compile(r"^cannot import '(?P<name>[^']+)': no such file in the package$")
_NO_TYPE = re.compile(r"^(unknown node type|no VNFD substitutes) '(?P<name>[^']+)'")


def with_package_hints(
    problems: list[FieldProblem],
    disabled_files: Mapping[str, str],
    disabled_types: Mapping[str, str],
) -> list[FieldProblem]:
    """Problems about a missing VNFD or VNF type, told in terms of VNF packages.

    Through the SOL005 API, an NSD's VNFDs come from the ONBOARDED, ENABLED
    VNF packages; a user who forgot to onboard (or enable) one should read
    that, not "no such file in the package". ``disabled_files`` and
    ``disabled_types`` name the DISABLED package that has a file or type.
    """
    hinted: list[FieldProblem] = []
    for problem in problems:
        message = problem.message
        no_file = _NO_FILE.match(message)
        no_type = _NO_TYPE.match(message)
        if no_file:
            name = no_file["name"]
            message = (
                f"cannot import {name!r}: no such file in the NSD, and no ONBOARDED, ENABLED "
                "VNF package has it in its Definitions"
                + _disabled(disabled_files.get(posixpath.normpath(name)))
            )
        elif no_type:
            message += "; no ONBOARDED, ENABLED VNF package provides it" + _disabled(
                disabled_types.get(no_type["name"])
            )
        hinted.append(FieldProblem(problem.path, message))
    return hinted


def _disabled(package_id: str | None) -> str:
    return f" (VNF package {package_id} has it but is DISABLED)" if package_id else ""
