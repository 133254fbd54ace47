"""KPI evaluation: the reconciler, its loop, and the service the API calls.

``KpiEvaluator.run_once`` reads every KPI, computes its aggregate over its
window from the ``MetricsReader``, and records the KPI's new state; a change
of state is also recorded as a ``KpiEvent`` and handed to an optional
``notify`` hook (where subscriptions will plug in). The state lives in the
KPI's stored body, so a restarted orchestrator carries on where it stopped
and does not announce again a crossing it already announced.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import time
from collections.abc import Awaitable, Callable

from nubo.model.errors import BadRequest, Conflict, NotFound
from nubo.model.kpis import Kpi, KpiEvent, KpiSpec, define_kpi
from nubo.model.records import NetworkServiceRecord
from nubo.model.states import NsStatus
from nubo.model.tenancy import SYSTEM, Scope
from nubo.monitor.query import MetricsReader
from nubo.monitor.sampler import Clock
from nubo.nfvo.tasks import cancel_and_wait
from nubo.store.port import KpiRepository

log = logging.getLogger("nubo.monitor.kpis")

Notify = Callable[[KpiEvent], Awaitable[None]]


class KpiEvaluator:
    """Evaluates every KPI once per ``run_once``; one failing KPI never stops the others."""

    def __init__(
        self,
        store: KpiRepository,
        reader: MetricsReader,
        clock: Clock = time.time,
        notify: Notify | None = None,
    ) -> None:
        self.store = store
        self.reader = reader
        self.clock = clock
        self.notify = notify

    async def run_once(self) -> list[KpiEvent]:
        """Evaluate every KPI at the clock's time; the events of the KPIs that changed."""
        now = self.clock()
        events: list[KpiEvent] = []
        for kpi in await self.store.list():
            try:
                event = await self.evaluate(kpi, now)
            except Exception:  # a bad KPI or a failed query costs that KPI's round only
                log.exception("kpi.evaluation_failed kpi=%s ns=%s", kpi.id, kpi.nsr_id)
                continue
            if event is not None:
                events.append(event)
        return events

    async def evaluate(self, kpi: Kpi, now: float) -> KpiEvent | None:
        """Evaluate one KPI at ``now`` and record the outcome; its event, if it changed state."""
        value = await self.reader.aggregate(
            kpi.metric,
            kpi.aggregate,
            since=now - kpi.window,
            until=now,
            nsr_id=kpi.nsr_id,
            vnfr_id=kpi.vnfr_id,
        )
        updated, event = kpi.evaluated(value, now)
        if not await self.store.record(updated, event):
            return None  # deleted meanwhile
        if event is not None:
            log.info(
                "kpi.changed kpi=%s name=%r ns=%s vnf=%s from=%s to=%s value=%s threshold=%s",
                kpi.id,
                kpi.name,
                kpi.nsr_id,
                kpi.vnf or "-",
                event.previous_state or "-",
                event.state,
                value,
                kpi.threshold,
            )
            await self._tell(event)
        return event

    async def _tell(self, event: KpiEvent) -> None:
        if self.notify is None:
            return
        try:
            await self.notify(event)
        except Exception:  # a subscriber's failure never stops KPI evaluation
            log.exception("kpi.notify_failed kpi=%s event=%s", event.kpi_id, event.id)


class Kpis:
    """KPI definitions for the API, and the loop that evaluates them."""

    def __init__(self, evaluator: KpiEvaluator, interval: float = 5.0) -> None:
        self.evaluator = evaluator
        self.store = evaluator.store
        self.interval = interval
        self._task: asyncio.Task[None] | None = None
        # a name is unique per NS: serialise the check and the insert
        self._define_lock = asyncio.Lock()

    # -- the loop ---------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._task is not None

    async def start(self) -> None:
        """Start evaluating every ``interval`` seconds; a no-op when running."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="kpi-evaluation")
            log.info("kpi.started interval=%s", self.interval)

    async def stop(self) -> None:
        """Cancel the loop and wait for it to end."""
        task, self._task = self._task, None
        if task is not None:
            await cancel_and_wait([task])
            log.info("kpi.stopped")

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await self.evaluator.run_once()
            except Exception:  # one bad round must not end KPI evaluation
                log.exception("kpi.round_failed")
            await asyncio.sleep(max(self.interval - (loop.time() - started), 0.0))

    # -- definitions ------------------------------------------------------------------
    async def define(self, nsr: NetworkServiceRecord, spec: KpiSpec) -> Kpi:
        """A new KPI of ``nsr``; ``BadRequest`` names a bad field, ``Conflict`` a taken name."""
        if nsr.status is NsStatus.TERMINATED:
            raise Conflict(f"NS {nsr.id} is TERMINATED", current_state=nsr.status.value)
        vnfr_id = vnf_name = None
        if spec.vnf:
            try:
                vnfr = nsr.find_vnfr(spec.vnf)
            except NotFound:
                raise BadRequest(f"VNF {spec.vnf} not found in NS {nsr.id}", field="vnf") from None
            vnfr_id, vnf_name = vnfr.id, vnfr.name
        kpi = define_kpi(
            spec,
            nsr_id=nsr.id,
            project_id=nsr.project_id,
            vnfr_id=vnfr_id,
            vnf_name=vnf_name,
            now=self.evaluator.clock(),
        )
        async with self._define_lock:
            if any(k.name == kpi.name for k in await self.store.list(nsr.id)):
                raise Conflict(f"NS {nsr.id} already has a KPI named {kpi.name!r}", field="name")
            await self.store.add(kpi)
        log.info("kpi.defined kpi=%s name=%r ns=%s", kpi.id, kpi.name, kpi.nsr_id)
        return kpi

    async def list(self, nsr_id: str, scope: Scope = SYSTEM) -> builtins.list[Kpi]:
        return await self.store.list(nsr_id, scope)

    async def get(self, nsr_id: str, kpi_id: str, scope: Scope = SYSTEM) -> Kpi:
        """The KPI of that NS; ``NotFound`` also when it belongs to another NS or project."""
        kpi = await self.store.get(kpi_id, scope)
        if kpi.nsr_id != nsr_id:
            raise NotFound(f"KPI {kpi_id} not found in NS {nsr_id}", kpi_id=kpi_id)
        return kpi

    async def delete(self, nsr_id: str, kpi_id: str, scope: Scope = SYSTEM) -> None:
        await self.get(nsr_id, kpi_id, scope)
        await self.store.delete(kpi_id)
        log.info("kpi.deleted kpi=%s ns=%s", kpi_id, nsr_id)

    async def events(
        self,
        nsr_id: str,
        kpi_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        scope: Scope = SYSTEM,
    ) -> builtins.list[KpiEvent]:
        """Events of one KPI (or of every KPI of the NS), newest first."""
        if kpi_id is not None:
            await self.get(nsr_id, kpi_id, scope)
        return await self.store.events(
            kpi_id=kpi_id, nsr_id=nsr_id, since=since, until=until, limit=limit, scope=scope
        )


def build_kpis(
    store: KpiRepository,
    reader: MetricsReader,
    interval: float = 5.0,
    *,
    clock: Clock = time.time,
    notify: Notify | None = None,
) -> Kpis:
    """Wire the evaluator and its loop on the KPI store (called by the composition root)."""
    evaluator = KpiEvaluator(store, reader, clock, notify)
    return Kpis(evaluator, interval)
