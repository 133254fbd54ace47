"""FaultManagement: the background tasks of fault management, started and stopped as one.

One periodic task runs the watcher then the healer every ``interval``
seconds (and starts an event follower for each VIM it finds registered);
one follower task per VIM turns its events into immediate checks. Since the
events tell every change of a followed VIM, the periodic pass compares all
of its servers with the records only every ``resync_interval`` seconds (and
once after each stream opens); in between it looks only at what is recorded
down or alarmed, so with many services at rest a pass costs next to nothing. A fault
found from an event wakes the periodic task so healing starts at once, and
while a heal runs the passes come every ``healing_interval`` seconds so its
alarm clears as soon as the VNFC runs. ``stop`` cancels and awaits every
task, so nothing is left running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time

from nubo.fault.alarms import AlarmService, Notify
from nubo.fault.healer import Healer, PolicyFor, default_policy_for
from nubo.fault.watcher import FaultWatcher
from nubo.nfvo.service import NsService
from nubo.nfvo.tasks import cancel_and_wait
from nubo.nfvo.vims import VimService
from nubo.store.port import AlarmRepository, LoopMemory

log = logging.getLogger("nubo.fault")


class FaultManagement:
    """Owns the watcher, the healer and their tasks."""

    def __init__(
        self,
        watcher: FaultWatcher,
        healer: Healer,
        alarms: AlarmService,
        interval: float = 1.0,
        healing_interval: float = 0.1,
        resync_interval: float = 30.0,
    ) -> None:
        self.watcher = watcher
        self.healer = healer
        self.alarms = alarms
        self.interval = interval
        self.resync_interval = resync_interval
        self._last_full = -math.inf
        self.healing_interval = min(healing_interval, interval)
        self._wake = asyncio.Event()
        watcher.on_fault = self._wake.set
        self._periodic: asyncio.Task[None] | None = None
        self._followers: dict[str, asyncio.Task[None]] = {}
        #: followers cancelled because their VIM went away; ``stop`` still awaits them
        self._retired: set[asyncio.Task[None]] = set()
        #: set by ``stop``: a pass still under way (a cancellation can be swallowed
        #: by ``asyncio.wait_for`` on 3.11) starts no follower and no next pass
        self._stopping = False

    @property
    def running(self) -> bool:
        return self._periodic is not None

    async def start(self) -> None:
        """Start the periodic pass and the event followers; a no-op when running."""
        if self._periodic is not None:
            return
        self._stopping = False
        self._periodic = asyncio.create_task(self._loop(), name="fault-periodic")
        log.info("fault.started interval=%s", self.interval)

    async def stop(self) -> None:
        """Cancel every task and wait for them to end.

        Collects again after each wait: a task that outlived its cancellation
        for a moment must not leave a follower it started behind.
        """
        self._stopping = True
        stopped = False
        while tasks := self._tasks():
            self._periodic = None
            self._followers.clear()
            self._retired.clear()
            await cancel_and_wait(tasks)
            stopped = True
        if stopped:
            log.info("fault.stopped")

    def _tasks(self) -> list[asyncio.Task[None]]:
        tasks = [*self._followers.values(), *self._retired]
        if self._periodic is not None:
            tasks.append(self._periodic)
        return tasks

    async def pass_once(self) -> None:
        """One periodic pass: followers for new VIMs, the watcher, then the healer."""
        await self._ensure_followers()
        now = time.monotonic()
        full = self.watcher.full_due or now - self._last_full >= self.resync_interval
        await self.watcher.run_once(full=full)
        if full:
            self._last_full = now
        await self.healer.run_once()

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.pass_once()
            except Exception:  # one bad pass must not end fault management
                log.exception("fault.pass_failed")
            delay = self.healing_interval if self.healer.healing() else self.interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def _ensure_followers(self) -> None:
        registered = {vim.id for vim in await self.watcher.vims.list()}
        if self._stopping:
            return
        self._retired = {task for task in self._retired if not task.done()}
        for vim_id, task in list(self._followers.items()):
            if task.done() or vim_id not in registered:
                task.cancel()
                self._retired.add(task)
                del self._followers[vim_id]
        for vim_id in sorted(registered - self._followers.keys()):
            self._followers[vim_id] = asyncio.create_task(
                self.watcher.follow_events(vim_id), name=f"fault-events-{vim_id}"
            )


def build_fault_management(
    ns: NsService,
    vims: VimService,
    store: AlarmRepository,
    interval: float = 1.0,
    *,
    policy_for: PolicyFor = default_policy_for,
    notify: Notify | None = None,
    memory: LoopMemory | None = None,
    resync_interval: float = 30.0,
) -> FaultManagement:
    """Wire alarms, watcher, healer and their loops (called by the composition root)."""
    alarms = AlarmService(store, notify=notify)
    watcher = FaultWatcher(ns, vims, alarms)
    healer = Healer(ns, alarms, policy_for, memory=memory, restarts=watcher.restarts)
    return FaultManagement(watcher, healer, alarms, interval, resync_interval=resync_interval)
