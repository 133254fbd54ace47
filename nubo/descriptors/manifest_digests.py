"""Refresh the digests of a SOL004 manifest after the package's files changed.

Package authors edit a VNFD, and its digest in the manifest goes stale: the
package is then refused at onboarding, as it must be. This rewrites the
manifest's ``Algorithm``/``Hash`` lines from the files themselves (keeping
each entry's algorithm, SHA-256 when it has none) and lists files the
manifest does not list yet, leaving the rest of the text as it was. A signed
manifest is not touched: new digests would void its signature.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from nubo.descriptors.package_manifest import DIGEST_ALGORITHMS, parse_manifest
from nubo.model.errors import FieldProblem, InvalidDescriptor

__all__ = ["refresh_manifest"]

_DEFAULT = "SHA-256"
_ENTRY_LINES = ("algorithm", "hash")


def refresh_manifest(
    text: str, files: Mapping[str, bytes], manifest_path: str
) -> tuple[str, list[str]]:
    """The manifest with every local file's digest recomputed, and what changed.

    ``files`` are the package's files by path (the manifest itself may be
    among them; it is never listed). Raises ``InvalidDescriptor`` when the
    manifest is malformed or signed, or lists a file the package lacks.
    """
    manifest, problems = parse_manifest(text, manifest_path)
    if manifest.signature or any(e.signature or e.certificate for e in manifest.entries):
        problems.append(
            FieldProblem(manifest_path, "the manifest is signed: new digests would void it")
        )
    entries = {entry.line: entry for entry in manifest.entries}
    for entry in manifest.entries:
        if entry.source and not entry.is_uri and entry.source not in files:
            problems.append(
                FieldProblem(
                    manifest_path,
                    f"line {entry.line}: lists {entry.source}, which is not in the package",
                )
            )
    if problems:
        raise InvalidDescriptor(problems)

    changes: list[str] = []
    out: list[str] = []
    replacing = False
    for number, line in enumerate(text.splitlines(), start=1):
        listing = entries.get(number)
        if listing is not None and not listing.is_uri and listing.source in files:
            algorithm = listing.algorithm or _DEFAULT
            digest = _digest(algorithm, files[listing.source])
            if digest != listing.hash:
                changes.append(f"{listing.source}: new {algorithm} digest")
            out += [line, f"Algorithm: {algorithm}", f"Hash: {digest}"]
            replacing = True
            continue
        key = line.split(":", 1)[0].strip().lower()
        if replacing and key in _ENTRY_LINES and not line[:1].isspace():
            continue  # the entry's old digest
        replacing = False
        out.append(line)

    listed = {entry.source for entry in manifest.entries}
    missing = sorted(name for name in files if name not in listed and name != manifest_path)
    added: list[str] = []
    for name in missing:
        added += ["", f"Source: {name}", f"Algorithm: {_DEFAULT}"]
        added.append(f"Hash: {_digest(_DEFAULT, files[name])}")
        changes.append(f"{name}: listed")
    at = _insertion_point(out)
    out[at:at] = added
    return "\n".join(out).rstrip("\n") + "\n", changes


def _digest(algorithm: str, content: bytes) -> str:
    return hashlib.new(DIGEST_ALGORITHMS[algorithm], content).hexdigest()


def _insertion_point(lines: list[str]) -> int:
    """Where new entries go: before the non-MANO artifact sets, else at the end."""
    for index, line in enumerate(lines):
        if line.strip().lower().startswith("non_mano_artifact_sets:"):
            while index > 0 and not lines[index - 1].strip():
                index -= 1
            return index
    end = len(lines)
    while end > 0 and not lines[end - 1].strip():
        end -= 1
    return end
