"""Composition root: builds nubo's object graph from settings.

Nothing else in nubo reads environment variables or global state; tests build
the same graph with their own settings, drivers and fault hooks.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from nubo.api.server import ApiServices, create_api
from nubo.autoscale.loops import AutoScaling, build_autoscaling
from nubo.catalogue.nsd import NsdCatalogue
from nubo.catalogue.packages import VnfPackageCatalogue
from nubo.descriptors.openbaton import parse_nsd
from nubo.fault.healer import policy_from_descriptor
from nubo.fault.loops import FaultManagement, build_fault_management
from nubo.model.descriptors import Nsd
from nubo.model.errors import NotFound
from nubo.model.records import LcmOpOcc
from nubo.monitor.kpis import Kpis, build_kpis
from nubo.monitor.loops import Monitoring, build_monitoring
from nubo.nfvo.events import EventBus
from nubo.nfvo.instances import NsInstances
from nubo.nfvo.locks import NsLocks
from nubo.nfvo.operations import FaultHook, OpRunner
from nubo.nfvo.reconcile import Reconciler
from nubo.nfvo.service import NsService
from nubo.nfvo.tasks import cancel_and_wait
from nubo.nfvo.vims import VimService
from nubo.nfvo.workflows import NsWorkflows, Timeouts
from nubo.notify.subscriptions import Subscriptions
from nubo.settings import Settings
from nubo.store.database import probe as probe_database
from nubo.store.sql import SqlStore
from nubo.vim import docker as docker_vim
from nubo.vim import fake as fake_vim
from nubo.vim.registry import DriverRegistry

log = logging.getLogger("nubo")


def default_registry() -> DriverRegistry:
    registry = DriverRegistry()
    docker_vim.register(registry)
    fake_vim.register(registry)
    return registry


@dataclass
class Nubo:
    """The running orchestrator: every service, wired."""

    settings: Settings
    store: SqlStore
    registry: DriverRegistry
    vims: VimService
    catalogue: NsdCatalogue
    packages: VnfPackageCatalogue
    runner: OpRunner
    workflows: NsWorkflows
    ns: NsService
    instances: NsInstances
    events: EventBus
    subscriptions: Subscriptions
    fault: FaultManagement
    monitoring: Monitoring
    autoscaling: AutoScaling
    kpis: Kpis
    started: bool = field(default=False)
    _reconcile_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        await self.store.init()
        await self.subscriptions.start()
        await self.vims.ensure_default(
            self.settings.default_vim_name,
            self.settings.default_vim_type,
            self.settings.default_vim_endpoint,
            self.settings.subnet_pool,
        )
        recovered = await self.ns.recover()
        if recovered:
            log.warning("start.recovering operations=%d", len(recovered))
        self._reconcile_task = asyncio.create_task(
            self._reconcile_after(recovered), name="start-up reconcile"
        )
        if self.settings.fault_management:
            await self.fault.start()
        if self.settings.monitoring:
            await self.monitoring.start()
            await self.kpis.start()
            if self.settings.autoscaling:
                await self.autoscaling.start()

    async def _reconcile_after(self, recovered: list[LcmOpOcc]) -> None:
        """Once recovery has finished, make records and VIMs agree (see ``Reconciler``)."""
        for op in recovered:
            try:
                await self.runner.wait(op.id)
            except NotFound:
                continue
        try:
            report = await Reconciler(self.ns).run_once()
        except Exception:
            log.exception("start.reconcile_failed")
            return
        log.info(
            "start.reconciled differences=%d skipped=%d",
            len(report.differences),
            len(report.skipped),
        )
        self.started = True

    async def stop(self) -> None:
        # first: no heal or scaling may start while shutting down
        await self.autoscaling.stop()
        await self.kpis.stop()
        await self.fault.stop()
        await self.monitoring.stop()
        if self._reconcile_task is not None:
            await cancel_and_wait([self._reconcile_task])
            self._reconcile_task = None
        await self.runner.shutdown()
        await self.subscriptions.stop()
        await self.vims.close()
        await self.store.close()
        self.started = False

    def api(self) -> FastAPI:
        return create_api(
            ApiServices(
                ns=self.ns,
                catalogue=self.catalogue,
                vims=self.vims,
                alarms=self.fault.alarms,
                metrics=self.monitoring.reader if self.settings.monitoring else None,
                autoscaling=self.autoscaling if self.settings.autoscaling else None,
                kpis=self.kpis if self.settings.monitoring else None,
                instances=self.instances,
                packages=self.packages,
                subscriptions=self.subscriptions,
                on_startup=self.start,
                on_shutdown=self.stop,
            )
        )


def build(
    settings: Settings,
    registry: DriverRegistry | None = None,
    fault_hook: FaultHook | None = None,
) -> Nubo:
    """Wire the orchestrator; nothing touches the disk or a VIM until ``start``."""
    if settings.crash_at and fault_hook is None:
        fault_hook = crash_hook(settings.crash_at)
    store = SqlStore(settings.db_url)
    registry = registry or default_registry()
    vims = VimService(store, registry)

    def parse(document: dict[str, Any]) -> Nsd:
        return parse_nsd(document)

    packages = VnfPackageCatalogue(store.engine, store)
    catalogue = NsdCatalogue(store, parse, packages=packages)
    events = EventBus()
    subscriptions = Subscriptions(
        store.engine,
        events,
        timeout=settings.notification_timeout,
        attempts=settings.notification_attempts,
        backoff=settings.notification_backoff,
        queue_size=settings.notification_queue_size,
        allowed_hosts=settings.notification_allowed_hosts,
    )
    runner = OpRunner(
        store,
        NsLocks(),
        op_timeout=settings.op_timeout,
        fault_hook=fault_hook,
        events=events,
    )
    workflows = NsWorkflows(
        vims,
        catalogue.parsed,
        timeouts=Timeouts(start=settings.start_timeout, stop=settings.stop_timeout),
    )
    ns = NsService(
        store, runner, workflows, vims, catalogue.parsed, check_nsd=catalogue.ensure_usable
    )
    instances = NsInstances(ns)
    fault = build_fault_management(
        ns,
        vims,
        store,
        interval=settings.fault_interval,
        policy_for=policy_from_descriptor(catalogue.parsed),
        notify=subscriptions.publish_alarm,
    )
    monitoring = build_monitoring(ns, vims, store.engine, interval=settings.metrics_interval)
    autoscaling = build_autoscaling(
        ns,
        monitoring.reader,
        store,
        catalogue.parsed,
        interval=settings.autoscale_interval,
        max_age=3 * settings.metrics_interval,
    )
    kpis = build_kpis(
        store.engine,
        monitoring.reader,
        interval=settings.metrics_interval,
        notify=subscriptions.publish_kpi_event,
    )
    return Nubo(
        settings,
        store,
        registry,
        vims,
        catalogue,
        packages,
        runner,
        workflows,
        ns,
        instances,
        events,
        subscriptions,
        fault,
        monitoring,
        autoscaling,
        kpis,
    )


def crash_hook(point: str) -> FaultHook:
    """A fault hook that kills this process with SIGKILL at ``point`` (tests only)."""

    async def hook(operation: str, where: str) -> None:
        if f"{operation}:{where}" == point:
            log.warning("crash_at point=%s: killing the orchestrator", point)
            os.kill(os.getpid(), signal.SIGKILL)

    log.warning("crash_at is set: nubo will kill itself at %s", point)
    return hook


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="time=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
    )
    # one INFO line per notification POST is noise; nubo logs deliveries itself
    logging.getLogger("httpx").setLevel(logging.WARNING)


def check_database(settings: Settings) -> None:
    """Raise ``InvalidDatabaseUrl`` or ``DatabaseUnavailable`` unless the database answers.

    A wrong URL or a database that is down is the likeliest start-up failure:
    ``nubo serve`` reports it in one line before it starts the HTTP server,
    rather than as a traceback from inside the server's start-up.
    """
    asyncio.run(probe_database(settings.db_url))


def run_server(settings: Settings) -> None:
    """Serve the HTTP API until interrupted (``nubo serve``)."""
    import uvicorn

    configure_logging(settings.log_level)
    nubo = build(settings)
    uvicorn.run(nubo.api(), host=settings.host, port=settings.port, log_level="warning")
