"""``OutboxWriter``: accepted notifications go to the outbox off the publisher's path.

The event listener runs inside ``EventBus.publish``, on the path of an LCM
operation or an alarm, and must never wait for the database. It hands each
notification to ``accept``, which only appends to a buffer in memory; one
task writes what the buffer holds in batches, in acceptance order, and then
tells the dispatcher which subscribers have new rows.

What is lost: a notification accepted but not yet written when the process
dies (normally a few milliseconds' worth; more while the database does not
answer, when the buffer keeps the batch and tries again). A stop writes the
buffer out first, for a bounded time. The buffer is bounded too: when the
database stays away, the oldest notification goes, with a warning.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from nubo.nfvo.tasks import cancel_and_wait
from nubo.store.port import Outbox, OutboxEntry

log = logging.getLogger("nubo.notify")

#: rows written in one transaction
_BATCH = 200
#: seconds between tries while the database refuses a batch
_RETRY = 1.0
#: notifications kept in memory while the database does not answer
BUFFER_LIMIT = 10_000
#: seconds a stop waits for the buffer to be written
FLUSH_TIMEOUT = 5.0


class OutboxWriter:
    """Batches accepted notifications into the outbox; ``accept`` never blocks."""

    def __init__(
        self,
        outbox: Outbox,
        keep: int,
        on_written: Callable[[set[str]], None],
        on_dropped: Callable[[OutboxEntry], None],
        limit: int = BUFFER_LIMIT,
    ) -> None:
        self._outbox = outbox
        self._keep = keep
        self._on_written = on_written
        self._on_dropped = on_dropped
        self._limit = max(1, limit)
        self._buffer: deque[tuple[str, dict[str, Any]]] = deque()
        self._ready = asyncio.Event()
        self._closing = False
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._closing = False
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="notify-outbox-writer")

    async def stop(self, timeout: float = FLUSH_TIMEOUT) -> None:
        """Write what is buffered (for at most ``timeout`` seconds), then end."""
        task, self._task = self._task, None
        if task is None:
            return
        self._closing = True
        self._ready.set()
        _, pending = await asyncio.wait({task}, timeout=timeout)
        if pending:
            await cancel_and_wait(pending)
        if self._buffer:
            log.warning("notify.not_written notifications=%d", len(self._buffer))
            self._buffer.clear()

    def accept(self, subscription_id: str, body: dict[str, Any]) -> None:
        """Buffer one notification for the outbox."""
        if len(self._buffer) >= self._limit:
            sid, oldest = self._buffer.popleft()
            self._on_dropped(OutboxEntry(0, sid, oldest, 0, datetime.fromtimestamp(0, UTC)))
        self._buffer.append((subscription_id, body))
        self._ready.set()

    def buffered(self, subscription_ids: Iterable[str]) -> dict[str, int]:
        """Notifications not yet written, per subscription of ``subscription_ids``."""
        wanted = set(subscription_ids)
        counts: dict[str, int] = {}
        for sid, _ in self._buffer:
            if sid in wanted:
                counts[sid] = counts.get(sid, 0) + 1
        return counts

    def discard(self, subscription_id: str) -> None:
        """Forget what is buffered for a deleted subscription."""
        kept = [item for item in self._buffer if item[0] != subscription_id]
        self._buffer.clear()
        self._buffer.extend(kept)

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            await self._write_buffer()
            if self._closing and not self._buffer:
                return

    async def _write_buffer(self) -> None:
        while self._buffer:
            batch = [self._buffer.popleft() for _ in range(min(_BATCH, len(self._buffer)))]
            try:
                dropped = await self._outbox.add(batch, self._keep)
            except Exception:
                log.exception("notify.outbox_write_failed notifications=%d", len(batch))
                self._buffer.extendleft(reversed(batch))
                await asyncio.sleep(_RETRY)
                continue
            for entry in dropped:
                self._on_dropped(entry)
            self._on_written({sid for sid, _ in batch})
