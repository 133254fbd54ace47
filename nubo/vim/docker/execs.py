"""Commands run inside a container, and files written into one (the VIM's exec capability).

Lifecycle scripts of a VNF package run inside its VNFCs' containers: the
script goes in with ``put_archive`` and runs with ``exec``, its output read
as it comes, keeping only the tail (``EXEC_OUTPUT_LIMIT``), so a chatty
script costs bounded memory. The read runs in one of the engine's threads;
when the command outlives its timeout the caller gets ``VimTimeout`` and the
thread ends with the command or with the connection's own timeout. Docker
has no call that stops an exec, so the command itself is left to end.
"""

from __future__ import annotations

import asyncio
import io
import tarfile
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from nubo.model.errors import VimTimeout
from nubo.vim.docker.engine import DockerEngine
from nubo.vim.port import EXEC_OUTPUT_LIMIT, ExecResult

#: bytes of output kept while reading: enough for EXEC_OUTPUT_LIMIT characters of UTF-8
_KEPT_BYTES = EXEC_OUTPUT_LIMIT * 4
#: looks at an exec whose output has ended, until the engine gives its exit code
_EXIT_POLLS = 40


def files_archive(directory: str, files: Mapping[str, bytes]) -> bytes:
    """A tar of ``files`` under ``directory`` (relative to /), executable, owned by root."""
    buffer = io.BytesIO()
    now = time.time()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(f"{directory.strip('/')}/{name}")
            info.size, info.mode, info.mtime = len(content), 0o755, now
            archive.addfile(info, io.BytesIO(content))
    return buffer.getvalue()


def output_tail(chunks: Iterable[bytes]) -> tuple[str, bool]:
    """The last ``EXEC_OUTPUT_LIMIT`` characters of a stream, and whether there was more."""
    kept = bytearray()
    dropped = False
    for chunk in chunks:
        kept += chunk
        if len(kept) > 2 * _KEPT_BYTES:
            del kept[:-_KEPT_BYTES]
            dropped = True
    text = kept.decode("utf-8", "replace")
    if len(text) > EXEC_OUTPUT_LIMIT:
        return text[-EXEC_OUTPUT_LIMIT:], True
    return text, dropped


class DockerExecs:
    """``put_files`` and ``exec_in_server`` on containers of one engine."""

    def __init__(self, engine: DockerEngine) -> None:
        self._engine = engine

    async def put_files(
        self, container_id: str, name: str, directory: str, files: Mapping[str, bytes]
    ) -> None:
        archive = files_archive(directory, files)
        await self._engine.call(
            f"copy files into server {name}", "put_archive", container_id, "/", archive
        )

    async def run(
        self,
        container_id: str,
        name: str,
        command: Sequence[str],
        environment: Mapping[str, str],
        timeout: float,
    ) -> ExecResult:
        created = await self._engine.call(
            f"create exec in server {name}",
            "exec_create",
            container_id,
            list(command),
            environment=dict(environment),
            stdout=True,
            stderr=True,
        )
        exec_id = created["Id"]
        api = await self._engine.api()
        reading = self._engine.run(f"run exec in server {name}", _read, api, exec_id)
        try:
            output, truncated = await asyncio.wait_for(reading, timeout)
        except TimeoutError:
            raise VimTimeout(
                f"command {' '.join(command)!r} in server {name} still runs after {timeout:g} s"
            ) from None
        return ExecResult(await self._exit_code(exec_id, name), output, truncated)

    async def _exit_code(self, exec_id: str, name: str) -> int:
        # the stream ends as the command does; the engine may record its end a moment later
        for _ in range(_EXIT_POLLS):
            inspected = await self._engine.call(
                f"inspect exec in server {name}", "exec_inspect", exec_id
            )
            code = inspected.get("ExitCode")
            if not inspected.get("Running") and code is not None:
                return int(code)
            await asyncio.sleep(0.05)
        raise VimTimeout(f"exec in server {name} ended its output but not its process")


def _read(api: Any, exec_id: str) -> tuple[str, bool]:
    return output_tail(api.exec_start(exec_id, stream=True))
