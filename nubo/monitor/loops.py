"""Monitoring: the sampling and retention loop, started and stopped as one.

One task samples every ``interval`` seconds (measured from the start of a
round, so the rate holds when sampling takes a while) and prunes the store
every ``prune_interval`` seconds. ``stop`` cancels and awaits the task, so
nothing is left running.
"""

from __future__ import annotations

import asyncio
import logging
import time

from nubo.monitor.query import MetricsReader
from nubo.monitor.sampler import Clock, MetricSampler
from nubo.nfvo.service import NsService
from nubo.nfvo.tasks import cancel_and_wait
from nubo.nfvo.vims import VimService
from nubo.store.port import MetricRepository, PruneReport

#: the shortest per-call stats timeout, whatever the sampling interval
STATS_TIMEOUT_FLOOR = 2.0

log = logging.getLogger("nubo.monitor")


class Monitoring:
    """Owns the sampler, the metric store and the loop that drives them."""

    def __init__(
        self,
        sampler: MetricSampler,
        store: MetricRepository,
        *,
        prune_interval: float = 60.0,
        clock: Clock = time.time,
    ) -> None:
        self.sampler = sampler
        self.store = store
        self.prune_interval = prune_interval
        self.clock = clock
        self._task: asyncio.Task[None] | None = None
        self._last_prune = float("-inf")

    @property
    def reader(self) -> MetricsReader:
        return self.store

    @property
    def running(self) -> bool:
        return self._task is not None

    async def start(self) -> None:
        """Start sampling; a no-op when running."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="monitor-sampling")
            log.info("monitor.started interval=%s", self.sampler.interval)

    async def stop(self) -> None:
        """Cancel the loop and wait for it to end."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait([task])
            log.info("monitor.stopped")

    async def pass_once(self) -> PruneReport | None:
        """One round: sample, then prune when ``prune_interval`` has passed."""
        await self.sampler.run_once()
        now = self.clock()
        if now - self._last_prune < self.prune_interval:
            return None
        self._last_prune = now
        return await self.store.prune(now)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await self.pass_once()
            except Exception:  # one bad round must not end monitoring
                log.exception("monitor.round_failed")
            delay = self.sampler.interval - (loop.time() - started)
            await asyncio.sleep(max(delay, 0.0))


def build_monitoring(
    ns: NsService,
    vims: VimService,
    store: MetricRepository,
    interval: float = 5.0,
    *,
    clock: Clock = time.time,
) -> Monitoring:
    """Wire the sampler and its loop on the metric store (called by the composition root)."""
    # a call may take most of a round (a longer round delays the next one, which
    # then starts at once); but a one-shot Docker stats call answers at the
    # engine's next collection, up to about a second later: a timeout below ~2 s
    # fails whole rounds at 1 s sampling
    timeout = max(STATS_TIMEOUT_FLOOR, min(3.0, interval * 0.8))
    sampler = MetricSampler(ns, vims, store, interval, clock, timeout=timeout)
    return Monitoring(sampler, store, clock=clock)
