"""Tar archives (plain or compressed), read as safely as ``csar`` reads a zip.

Open Baton's package tool makes a VNF package as a tar of ``Metadata.yaml``,
``vnfd.json`` and ``scripts/``. A tar has no central directory, so the
limits are applied while reading: the entry count as headers come, the size
by counting what really comes out (a small ``.tar.gz`` may inflate to a lot).
Links, devices and paths that could leave the archive are refused, each at
its entry's name. Pure: read from memory.
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Callable

from nubo.model.errors import FieldProblem, InvalidDescriptor

__all__ = ["is_tar", "unpack_tar"]

_ARCHIVE = "$"


def is_tar(data: bytes) -> bool:
    """Whether ``data`` opens as a tar (gzip, bzip2 and xz compression included)."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            return archive.next() is not None
    except (tarfile.TarError, OSError, EOFError, ValueError):
        return False


def unpack_tar(
    data: bytes,
    max_size: int,
    max_files: int,
    path_problem: Callable[[str], str | None],
    canonical: Callable[[str], str],
) -> dict[str, bytes]:
    """Every regular file of the tar by canonical name; ``InvalidDescriptor`` for any problem.

    ``path_problem`` and ``canonical`` are the zip reader's rules for names, so
    both formats accept the same paths.
    """
    files: dict[str, bytes] = {}
    problems: list[FieldProblem] = []
    budget = max_size
    count = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            while (member := archive.next()) is not None:
                count += 1
                if count > max_files:
                    raise _problem(
                        f"more than {max_files} entries; at most {max_files} are allowed"
                    )
                reason = path_problem(member.name)
                if member.issym() or member.islnk():
                    reason = "links are not accepted"
                elif not (member.isfile() or member.isdir()):
                    reason = "only files and folders are accepted (no devices or pipes)"
                if reason:
                    problems.append(FieldProblem(member.name, reason))
                    continue
                if member.isdir():
                    continue
                name = canonical(member.name)
                if name in files:
                    problems.append(FieldProblem(member.name, f"a second entry for {name}"))
                    continue
                if member.size > budget:
                    raise _problem(
                        f"more than {max_size} bytes unpacked; at most {max_size} are allowed"
                    )
                stream = archive.extractfile(member)
                content = stream.read(budget + 1) if stream is not None else b""
                if len(content) > budget:
                    raise _problem(
                        f"more than {max_size} bytes unpacked; at most {max_size} are allowed"
                    )
                budget -= len(content)
                files[name] = content
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise _problem(f"a damaged tar archive: {exc}") from exc
    if problems:
        raise InvalidDescriptor(problems)
    return files


def _problem(message: str) -> InvalidDescriptor:
    return InvalidDescriptor([FieldProblem(_ARCHIVE, message)])
