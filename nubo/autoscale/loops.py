"""AutoScaling: the auto-scaler's background task, started and stopped with nubo.

One periodic task runs ``AutoScaler.run_once`` every ``interval`` seconds,
and every ``stepping_interval`` seconds while an action of several steps is
under way, so that its next step starts soon after the previous one ends;
every ``PRUNE_INTERVAL`` seconds it deletes decisions older than ``retention``.
``stop`` cancels and awaits the task, so nothing is left running; operations
already launched belong to the LCM runner and end (or are recovered) there.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time

from nubo.autoscale.decisions import DecisionLog
from nubo.autoscale.engine import AutoScaler, Clock
from nubo.monitor.query import MetricsReader
from nubo.nfvo.service import NsService
from nubo.nfvo.tasks import cancel_and_wait
from nubo.nfvo.workflows import NsdLoader
from nubo.store.port import DecisionRepository, LoopMemory

log = logging.getLogger("nubo.autoscale")

#: seconds between two deletions of decisions past their retention
PRUNE_INTERVAL = 60.0
#: seconds decisions are kept unless the settings say otherwise
RETENTION = 7 * 86400.0


class AutoScaling:
    """Owns the auto-scaler, its decision log and its task."""

    def __init__(
        self,
        scaler: AutoScaler,
        interval: float = 1.0,
        stepping_interval: float = 0.1,
        retention: float = RETENTION,
    ) -> None:
        self.scaler = scaler
        self.decisions: DecisionLog = scaler.decisions
        self.interval = interval
        self.stepping_interval = min(stepping_interval, interval)
        self.retention = retention
        self._pruned_at = -math.inf
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None

    async def start(self) -> None:
        """Start the periodic pass; a no-op when running."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="autoscale-periodic")
            log.info("autoscale.started interval=%s", self.interval)

    async def stop(self) -> None:
        """Cancel the task and wait for it to end."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait([task])
            # while stopped another replica may sample: start again from what is stored
            self.scaler.newest.close()
            log.info("autoscale.stopped")

    async def _loop(self) -> None:
        while True:
            try:
                await self.scaler.run_once()
                await self.prune_once()
            except Exception:  # one bad pass must not end auto-scaling
                log.exception("autoscale.pass_failed")
            await asyncio.sleep(self._pause())

    async def prune_once(self) -> int:
        """Delete the decisions past their retention, once per ``PRUNE_INTERVAL``."""
        now = self.scaler.clock()
        if now - self._pruned_at < PRUNE_INTERVAL:
            return 0
        self._pruned_at = now
        deleted = await self.decisions.prune(now - self.retention)
        if deleted:
            log.info("autoscale.pruned decisions=%d retention=%s", deleted, self.retention)
        return deleted

    def _pause(self) -> float:
        """Until the next pass: short while stepping, and never past a period's end."""
        if self.scaler.scaling():
            return self.stepping_interval
        now = self.scaler.clock()
        due = self.scaler.next_due(now)
        return self.interval if due is None else min(self.interval, due - now + 0.01)


def build_autoscaling(
    ns: NsService,
    reader: MetricsReader,
    decisions: DecisionRepository,
    load_nsd: NsdLoader,
    interval: float = 1.0,
    *,
    clock: Clock = time.time,
    max_age: float = 15.0,
    memory: LoopMemory | None = None,
    retention: float = RETENTION,
) -> AutoScaling:
    """Wire the auto-scaler and its loop on the decision store (called by the composition root).

    ``max_age`` should be about three sampling intervals of the metrics
    collector: older samples no longer describe the VNFC.
    """
    scaler = AutoScaler(
        ns, reader, DecisionLog(decisions), load_nsd, clock, max_age=max_age, memory=memory
    )
    return AutoScaling(scaler, interval, retention=retention)
