"""Per-server calls made for many servers at once, each bounded on its own.

A driver answers ``servers_stats`` for a batch; where it must still make one
call per server (a remote engine's stats API, a slow fake server), it makes
them here: at most ``concurrency`` in flight, each cut at ``timeout`` seconds,
so one slow or hung server costs its own answer and no other's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from nubo.model.errors import NuboError, VimTimeout

T = TypeVar("T")


async def each_bounded(
    call: Callable[[str], Awaitable[T]],
    server_ids: Sequence[str],
    timeout: float,
    concurrency: int = 32,
) -> dict[str, T | NuboError]:
    """``call`` for every server id: its answer, or the error it raised (``VimTimeout``
    past ``timeout``)."""
    answers: dict[str, T | NuboError] = {}
    queue = iter(server_ids)

    async def worker() -> None:
        # a few workers take the servers in turn: a task per server costs more than
        # its call on a fast VIM
        for server_id in queue:
            try:
                async with asyncio.timeout(timeout):
                    answers[server_id] = await call(server_id)
            except TimeoutError:
                answers[server_id] = VimTimeout(f"no answer within {timeout:g} s")
            except NuboError as exc:
                answers[server_id] = exc

    async with asyncio.TaskGroup() as group:
        for _ in range(min(concurrency, len(server_ids))):
            group.create_task(worker())
    return answers
