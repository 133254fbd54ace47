"""Stopping background tasks for sure.

On Python 3.11, ``asyncio.wait_for`` can swallow a cancellation when the
awaited work finishes at the same moment (fixed in 3.12), so a loop that was
cancelled once may go on running and a plain ``gather`` after ``cancel`` then
waits forever. Every background loop of nubo is stopped through here: cancel,
wait a little, and cancel again what is still running.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

log = logging.getLogger("nubo")


async def cancel_and_wait(tasks: Iterable[asyncio.Task[object]], retry_every: float = 0.5) -> None:
    """Cancel ``tasks`` and return once every one of them has ended."""
    pending = {task for task in tasks if not task.done()}
    rounds = 0
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=retry_every)
        rounds += 1
        if pending and rounds % 10 == 0:
            names = ", ".join(sorted(task.get_name() for task in pending))
            log.warning("tasks.still_running after=%ss tasks=%s", rounds * retry_every, names)
