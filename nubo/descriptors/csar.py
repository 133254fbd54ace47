"""ETSI SOL004 VNF packages: TOSCA CSAR zip archives, read safely and checked.

A package arrives as bytes from an untrusted uploader, so the archive itself
is distrusted before any content is looked at: entry count, declared and
actual uncompressed size, overlapping entries (the non-recursive zip bomb),
path traversal, absolute names, encrypted entries and symbolic links are all
refused. Only then is the package read: ``TOSCA-Metadata/TOSCA.meta`` (or,
without it, the single YAML file at the root) gives the entry definitions,
and the SOL004 manifest's digests are checked against the files. Every
problem is reported at once, located by the file inside the archive (``$``
for the archive as a whole), as one ``InvalidDescriptor``. Pure: the archive
is read from memory, nothing touches the disk or the network.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import posixpath
import re
import stat
import struct
import zipfile
import zlib
from dataclasses import dataclass

from nubo.descriptors.package_manifest import (
    DIGEST_ALGORITHMS,
    Manifest,
    VnfProductInfo,
    is_uri,
    parse_manifest,
)
from nubo.descriptors.tar_archive import is_tar, unpack_tar
from nubo.model.errors import FieldProblem, InvalidDescriptor, NotFound

__all__ = [
    "ARCHIVE",
    "DEFAULT_MAX_FILES",
    "DEFAULT_MAX_SIZE",
    "TOSCA_META",
    "CsarPackage",
    "read_csar",
]

DEFAULT_MAX_SIZE = 100 * 1024 * 1024
DEFAULT_MAX_FILES = 2000
#: the problem path for the archive as a whole
ARCHIVE = "$"
TOSCA_META = "TOSCA-Metadata/TOSCA.meta"
ENTRY_DEFINITIONS = "Entry-Definitions"
ETSI_ENTRY_MANIFEST = "ETSI-Entry-Manifest"
# Keys naming further files (or, for licences and tests, folders) that must exist.
_ETSI_ENTRIES = (
    "ETSI-Entry-Change-Log",
    "ETSI-Entry-Licenses",
    "ETSI-Entry-Certificate",
    "ETSI-Entry-Tests",
)
_YAML = (".yaml", ".yml")
_DRIVE = re.compile(r"[A-Za-z]:")
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class CsarPackage:
    """A VNF package whose archive is safe, whose entry exists and whose digests match."""

    #: path of the main TOSCA service template inside the package
    entry_definitions: str
    #: every file of the package, by its path inside the archive
    files: dict[str, bytes]
    #: block 0 of TOSCA-Metadata/TOSCA.meta; empty for a package without it
    metadata: dict[str, str]
    manifest: Manifest | None = None
    manifest_path: str | None = None
    #: manifest sources outside the package (URIs), whose digests were not checked
    unverified: tuple[str, ...] = ()

    @property
    def product(self) -> VnfProductInfo | None:
        """Provider, product name and package version from the manifest, if there is one."""
        return self.manifest.product if self.manifest else None

    def definitions(self) -> dict[str, str]:
        """The YAML files under the entry's folder (path -> text): the entry and its imports."""
        folder = posixpath.dirname(self.entry_definitions)
        prefix = f"{folder}/" if folder else ""
        return {
            name: self.files[name].decode("utf-8-sig")
            for name in sorted(self.files)
            if name.startswith(prefix) and name.lower().endswith(_YAML)
        }

    def artifact(self, path: str) -> bytes:
        """The bytes of one file of the package (``Files/...``, ``Scripts/...``)."""
        content = self.files.get(_canonical(path))
        if content is None:
            raise NotFound(f"no file {path!r} in the VNF package")
        return content


def read_csar(
    data: bytes, *, max_size: int = DEFAULT_MAX_SIZE, max_files: int = DEFAULT_MAX_FILES
) -> CsarPackage:
    """Read and check a SOL004 CSAR; raise InvalidDescriptor listing every problem."""
    files = _unpack(data, max_size, max_files)
    problems: list[FieldProblem] = []
    metadata: dict[str, str] = {}
    if TOSCA_META in files:
        metadata, entry, manifest_path = _from_tosca_meta(files, problems)
    else:
        entry, manifest_path = _from_root_yaml(files, problems)
    manifest: Manifest | None = None
    unverified: tuple[str, ...] = ()
    if manifest_path:
        manifest, unverified = _check_manifest(files, manifest_path, problems)
    if entry:
        _check_definitions(files, entry, problems)
    if problems or not entry:
        raise InvalidDescriptor(problems)
    return CsarPackage(entry, files, metadata, manifest, manifest_path, unverified)


# --- the archive ------------------------------------------------------------


def _unpack(data: bytes, max_size: int, max_files: int) -> dict[str, bytes]:
    """Every file of the archive, after the archive as a whole was found safe.

    A tar is read too: Open Baton VNF packages are tars (``tar_archive``).
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, struct.error) as exc:
        if is_tar(data):
            return unpack_tar(data, max_size, max_files, _path_problem, _canonical)
        raise _archive_problem(
            f"not a ZIP archive (a CSAR is a zip file; an Open Baton VNF package a zip or "
            f"a tar): {exc}"
        ) from exc
    with archive:
        infos = archive.infolist()
        _check_limits(infos, max_size, max_files)
        members, problems = _safe_members(infos)
        if problems:
            raise InvalidDescriptor(problems)
        files: dict[str, bytes] = {}
        budget = max_size
        for name, info in members:
            try:
                files[name] = content = _read_member(archive, info, budget)
            except _OverBudget:
                message = f"inflates past the limit of {max_size} bytes (a zip bomb?)"
                raise _archive_problem(message) from None
            except (zipfile.BadZipFile, zlib.error, NotImplementedError, EOFError, OSError) as exc:
                problems.append(FieldProblem(info.filename, f"cannot be read: {exc}"))
                continue
            budget -= len(content)
    if problems:
        raise InvalidDescriptor(problems)
    return files


def _check_limits(infos: list[zipfile.ZipInfo], max_size: int, max_files: int) -> None:
    """Refuse, before inflating anything, an archive too big or built as a zip bomb."""
    if len(infos) > max_files:
        raise _archive_problem(f"{len(infos)} entries; at most {max_files} are allowed")
    declared = sum(info.file_size for info in infos)
    if declared > max_size:
        raise _archive_problem(f"{declared} bytes uncompressed; at most {max_size} are allowed")
    # Entries sharing compressed data multiply the inflated size without nesting.
    ordered = sorted(infos, key=lambda info: info.header_offset)
    for before, after in itertools.pairwise(ordered):
        if before.header_offset + before.compress_size > after.header_offset:
            raise _archive_problem(
                f"entries {before.filename} and {after.filename} overlap (a zip bomb?)"
            )


def _safe_members(
    infos: list[zipfile.ZipInfo],
) -> tuple[list[tuple[str, zipfile.ZipInfo]], list[FieldProblem]]:
    """The file entries by canonical name, and a problem for every unsafe entry."""
    problems: list[FieldProblem] = []
    members: list[tuple[str, zipfile.ZipInfo]] = []
    seen: dict[str, str] = {}
    for info in infos:
        reason = _path_problem(info.filename)
        if info.flag_bits & 0x1:
            reason = "encrypted entries are not accepted"
        elif stat.S_ISLNK(info.external_attr >> 16):
            reason = "symbolic links are not accepted"
        if reason:
            problems.append(FieldProblem(info.filename, reason))
            continue
        if info.is_dir():
            continue
        name = _canonical(info.filename)
        if name in seen:
            problems.append(FieldProblem(info.filename, f"a second entry for {seen[name]}"))
            continue
        seen[name] = info.filename
        members.append((name, info))
    return members, problems


def _path_problem(name: str) -> str | None:
    """Why a path inside the archive could escape or confuse it, or None."""
    if not name.strip("/"):
        return "an entry without a name"
    if "\x00" in name:
        return "a NUL character in a name"
    if "\\" in name:
        return "a backslash in a name; paths inside a CSAR use '/'"
    if name.startswith("/") or _DRIVE.match(name):
        return "an absolute path; paths inside a CSAR are relative to its root"
    if ".." in name.split("/"):
        return "'..' in a path would leave the package"
    return None


def _canonical(name: str) -> str:
    """A path with empty and '.' segments dropped, so one file has one name."""
    return "/".join(part for part in name.split("/") if part not in ("", "."))


class _OverBudget(Exception):
    """An entry inflated past the archive's remaining size budget."""


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int) -> bytes:
    # Declared sizes were checked already; counting what really comes out
    # keeps a lying header from inflating past the limit.
    chunks: list[bytes] = []
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            budget -= len(chunk)
            if budget < 0:
                raise _OverBudget
            chunks.append(chunk)
    return b"".join(chunks)


def _archive_problem(message: str) -> InvalidDescriptor:
    return InvalidDescriptor([FieldProblem(ARCHIVE, message)])


# --- the package --------------------------------------------------------------


def _from_tosca_meta(
    files: dict[str, bytes], problems: list[FieldProblem]
) -> tuple[dict[str, str], str | None, str | None]:
    """TOSCA.meta block 0, the entry definitions and the manifest it names."""
    text = _text(files, TOSCA_META, problems)
    if text is None:
        return {}, None, None
    meta = _parse_tosca_meta(text, problems)
    entry = _reference(files, meta, ENTRY_DEFINITIONS, problems, required=True)
    if entry and not entry.lower().endswith(_YAML):
        problems.append(FieldProblem(TOSCA_META, f"{ENTRY_DEFINITIONS} {entry} is not YAML"))
    manifest = _reference(files, meta, ETSI_ENTRY_MANIFEST, problems)
    if manifest and not manifest.lower().endswith(".mf"):
        problems.append(FieldProblem(TOSCA_META, f"{ETSI_ENTRY_MANIFEST} {manifest} is not .mf"))
    for key in _ETSI_ENTRIES:
        _reference(files, meta, key, problems, folder=True)
    return meta, entry, manifest


def _parse_tosca_meta(text: str, problems: list[FieldProblem]) -> dict[str, str]:
    """Block 0 of TOSCA.meta: 'Name: value' lines up to the first blank line."""
    meta: dict[str, str] = {}
    last: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            if meta:
                break
            continue
        if line.startswith(" ") and last:
            meta[last] += line[1:].rstrip()  # a continuation line, as in JAR manifests
            continue
        name, colon, value = line.partition(":")
        name = name.strip()
        if not colon or not name:
            problems.append(FieldProblem(TOSCA_META, f"line {number}: expected 'Name: value'"))
            continue
        if name in meta:
            problems.append(FieldProblem(TOSCA_META, f"line {number}: a second {name}"))
        meta[name] = value.strip()
        last = name
    return meta


def _reference(
    files: dict[str, bytes],
    meta: dict[str, str],
    key: str,
    problems: list[FieldProblem],
    *,
    required: bool = False,
    folder: bool = False,
) -> str | None:
    """The package path TOSCA.meta gives under ``key``, if it is given, safe and present."""
    value = meta.get(key, "")
    if not value:
        if required or key in meta:
            problems.append(
                FieldProblem(TOSCA_META, f"{key} is {'empty' if key in meta else 'required'}")
            )
        return None
    reason = _path_problem(value)
    if reason:
        problems.append(FieldProblem(TOSCA_META, f"{key} {value}: {reason}"))
        return None
    path = _canonical(value)
    if path in files or (folder and any(name.startswith(f"{path}/") for name in files)):
        return path
    problems.append(FieldProblem(TOSCA_META, f"{key} names {value}, which is not in the package"))
    return None


def _from_root_yaml(
    files: dict[str, bytes], problems: list[FieldProblem]
) -> tuple[str | None, str | None]:
    """Without TOSCA.meta: the single YAML file at the root, and its same-named manifest."""
    roots = sorted(name for name in files if "/" not in name and name.lower().endswith(_YAML))
    if len(roots) != 1:
        problems.append(FieldProblem(ARCHIVE, _no_entry(files, roots)))
        return None, None
    entry = roots[0]
    manifest = f"{posixpath.splitext(entry)[0]}.mf"
    if manifest in files:
        return entry, manifest
    for name in sorted(files):
        if "/" not in name and name.lower().endswith(".mf"):
            problems.append(
                FieldProblem(name, f"the manifest must be named {manifest}, after {entry}")
            )
    return entry, None


def _no_entry(files: dict[str, bytes], roots: list[str]) -> str:
    if roots:
        return (
            f"without {TOSCA_META} the root must hold exactly one YAML file, "
            f"found {len(roots)}: {', '.join(roots)}"
        )
    nested = sorted(name for name in files if name.endswith(f"/{TOSCA_META}"))
    if nested:
        folder = nested[0][: -len(TOSCA_META)]
        return (
            f"no {TOSCA_META} at the root, but {nested[0]} exists: "
            f"zip the contents of {folder}, not the folder itself"
        )
    return f"no {TOSCA_META} and no YAML file at the root: the entry definitions are unknown"


def _check_manifest(
    files: dict[str, bytes], path: str, problems: list[FieldProblem]
) -> tuple[Manifest | None, tuple[str, ...]]:
    """Parse the manifest and check every digest it gives; URIs are left unverified."""
    text = _text(files, path, problems)
    if text is None:
        return None, ()
    manifest, found = parse_manifest(text, path)
    problems.extend(found)
    unverified: list[str] = []
    for entry in manifest.entries:
        if not entry.source:
            continue
        if entry.is_uri:
            unverified.append(entry.source)
            continue
        name = _listed(files, path, entry.source, f"line {entry.line}", problems)
        if name is None or entry.algorithm is None or entry.hash is None:
            continue
        digest = hashlib.new(DIGEST_ALGORITHMS[entry.algorithm], files[name])
        if len(entry.hash) == 2 * digest.digest_size and digest.hexdigest() != entry.hash:
            problems.append(
                FieldProblem(
                    name, f"{entry.algorithm} digest of {name} does not match the manifest"
                )
            )
    for set_name, sources in manifest.non_mano_artifact_sets.items():
        for source in sources:
            if source and not is_uri(source):
                _listed(files, path, source, f"non-MANO artifact set {set_name}", problems)
    return manifest, tuple(unverified)


def _listed(
    files: dict[str, bytes], manifest: str, source: str, where: str, problems: list[FieldProblem]
) -> str | None:
    """The package path of a file the manifest lists, or None after reporting why not."""
    reason = _path_problem(source)
    if reason:
        problems.append(FieldProblem(manifest, f"{where}: Source {source}: {reason}"))
        return None
    name = _canonical(source)
    if name not in files:
        problems.append(
            FieldProblem(manifest, f"{where}: lists {source}, which is not in the package")
        )
        return None
    return name


def _check_definitions(files: dict[str, bytes], entry: str, problems: list[FieldProblem]) -> None:
    """Every YAML file the TOSCA parser will be given must be UTF-8 text."""
    folder = posixpath.dirname(entry)
    prefix = f"{folder}/" if folder else ""
    for name in sorted(files):
        if name.startswith(prefix) and name.lower().endswith(_YAML):
            _text(files, name, problems)


def _text(files: dict[str, bytes], name: str, problems: list[FieldProblem]) -> str | None:
    try:
        return files[name].decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problems.append(FieldProblem(name, f"not UTF-8 text: {exc.reason} at byte {exc.start}"))
        return None
