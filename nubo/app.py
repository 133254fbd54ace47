"""Composition root: builds nubo's object graph from settings.

Nothing else in nubo reads environment variables or global state, and nothing
else builds a repository: the graph has one ``Database`` and every service
gets the repositories (ports of ``nubo.store.port``) it needs. Built with
its default arguments the graph has only real VIM drivers and no fault hook;
tests, and the test entry point ``nubo.testing``, pass their own registry (with
the fake VIM) and fault hook.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI

from nubo import collector
from nubo.api.server import ApiServices, create_api
from nubo.api.versions import SOL005_APIS
from nubo.auth import Auth, HashCost, RateLimits, TokenPolicy, build_auth
from nubo.autoscale.loops import AutoScaling, build_autoscaling
from nubo.catalogue.events import CatalogueEvents
from nubo.catalogue.fetch import PackageFetcher
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
from nubo.nfvo.deployment import Timeouts
from nubo.nfvo.events import EventBus
from nubo.nfvo.instances import NsInstances
from nubo.nfvo.operations import FaultHook, OpRunner
from nubo.nfvo.reconcile import Reconciler
from nubo.nfvo.service import NsService
from nubo.nfvo.tasks import cancel_and_wait
from nubo.nfvo.vims import VimService
from nubo.nfvo.workflows import NsWorkflows
from nubo.notify.sealing import Seal
from nubo.notify.sources import NsFactsReader
from nubo.notify.subscriptions import Subscriptions
from nubo.settings import Settings
from nubo.store.alarms import SqlAlarmRepository
from nubo.store.audit import SqlAuditStore
from nubo.store.database import Database
from nubo.store.database import probe as probe_database
from nubo.store.decisions import SqlDecisionStore
from nubo.store.identity import SqlIdentityRepository
from nubo.store.kpis import SqlKpiStore
from nubo.store.leases import SqlLeadership, SqlLeases
from nubo.store.memory import SqlLoopMemory
from nubo.store.metrics import SqlMetricStore
from nubo.store.nsds import SqlNsdRepository
from nubo.store.operations import SqlOperationRepository
from nubo.store.outbox import SqlOutbox
from nubo.store.packages import SqlPackageStore
from nubo.store.port import (
    AlarmRepository,
    AuditRepository,
    DecisionRepository,
    IdentityRepository,
    KpiRepository,
    Leadership,
    LoopMemory,
    MetricRepository,
    NsdRepository,
    NsLeases,
    NsRecordRepository,
    OperationRepository,
    Outbox,
    PackageRepository,
    SubscriptionRepository,
    TokenRepository,
    VimRepository,
)
from nubo.store.records import SqlNsRecordRepository
from nubo.store.subscriptions import SqlSubscriptionStore
from nubo.store.tokens import SqlTokenStore
from nubo.store.vims import SqlVimRepository
from nubo.tls import server_tls
from nubo.vim import docker as docker_vim
from nubo.vim.registry import DriverRegistry

log = logging.getLogger("nubo")

#: the leadership whose holder runs fault watching, healing, monitoring, KPIs, auto-scaling
BACKGROUND_LOOPS = "background-loops"


def default_registry() -> DriverRegistry:
    """The drivers of a production orchestrator: real VIMs only."""
    registry = DriverRegistry()
    docker_vim.register(registry)
    return registry


@dataclass(frozen=True)
class Repositories:
    """Every repository of the orchestrator, each typed as its port, all on one database."""

    vims: VimRepository
    nsds: NsdRepository
    nsrs: NsRecordRepository
    operations: OperationRepository
    alarms: AlarmRepository
    packages: PackageRepository
    subscriptions: SubscriptionRepository
    outbox: Outbox
    metrics: MetricRepository
    kpis: KpiRepository
    decisions: DecisionRepository
    memory: LoopMemory
    identity: IdentityRepository
    tokens: TokenRepository
    audit: AuditRepository
    #: the per-NS locks this replica takes
    leases: NsLeases
    #: this replica's claims to lead background work (loops, notification delivery)
    leadership: Leadership


def build_repositories(database: Database, replica: str, lease_seconds: float) -> Repositories:
    """The SQL repositories on ``database``; leases and claims are ``replica``'s."""
    # operations write NSRs too, with the records' own writer and its memory of the index
    nsrs = SqlNsRecordRepository(database)
    return Repositories(
        vims=SqlVimRepository(database),
        nsds=SqlNsdRepository(database),
        nsrs=nsrs,
        operations=SqlOperationRepository(database, nsrs),
        alarms=SqlAlarmRepository(database),
        packages=SqlPackageStore(database),
        subscriptions=SqlSubscriptionStore(database),
        outbox=SqlOutbox(database),
        metrics=SqlMetricStore(database),
        kpis=SqlKpiStore(database),
        decisions=SqlDecisionStore(database),
        memory=SqlLoopMemory(database),
        identity=SqlIdentityRepository(database),
        tokens=SqlTokenStore(database),
        audit=SqlAuditStore(database),
        leases=SqlLeases(database, replica, ttl=lease_seconds),
        leadership=SqlLeadership(database, replica, ttl=lease_seconds),
    )


@dataclass
class Nubo:
    """The running orchestrator: every service, wired."""

    settings: Settings
    database: Database
    repositories: Repositories
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
    auth: Auth
    #: VNF package content fetched from URIs (upload_from_uri)
    fetcher: PackageFetcher
    started: bool = field(default=False)
    #: whether this replica runs the background loops (one replica does at a time)
    leading: bool = field(default=False)
    _reconcile_task: asyncio.Task[None] | None = None
    _replica_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        collector.tune()  # before the records and the loops' bursts fill the heap
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        await self.database.init()
        generated = await self.auth.start(self.settings.initial_admin_password())
        if generated is not None:
            _announce_admin_password(generated)
        await self.runner.start()
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
        await self._follow_leadership()
        self._replica_task = asyncio.create_task(self._as_replica(), name="replica duties")

    async def _as_replica(self) -> None:
        """What every replica does while it runs, a few times per lease period.

        It takes over the operations of replicas that died (their leases
        expired, see ``recover``), and leads the background loops when no
        other live replica does.
        """
        period = self.settings.lease_seconds / 3
        while True:
            await asyncio.sleep(period)
            try:
                taken = await self.ns.recover()
                if taken:
                    log.warning("replica.took_over operations=%d", len(taken))
                await self._follow_leadership()
                if self.leading:
                    await self.auth.audit.prune_once()
            except Exception:
                log.exception("replica.duties_failed replica=%s", self.settings.replica)

    async def _follow_leadership(self) -> None:
        try:
            leading = await self.repositories.leadership.claim(BACKGROUND_LOOPS)
        except Exception:
            log.exception("replica.claim_failed replica=%s", self.settings.replica)
            leading = False
        if leading and not self.leading:
            log.info("replica.leads replica=%s work=%s", self.settings.replica, BACKGROUND_LOOPS)
            await self._start_loops()
        elif not leading and self.leading:
            log.warning("replica.stands_by replica=%s", self.settings.replica)
            await self._stop_loops()
        self.leading = leading

    async def _start_loops(self) -> None:
        if self.settings.fault_management:
            await self.fault.start()
        if self.settings.monitoring:
            await self.monitoring.start()
            await self.kpis.start()
            if self.settings.autoscaling:
                await self.autoscaling.start()

    async def _stop_loops(self) -> None:
        # first: no heal or scaling may start while stopping
        await self.autoscaling.stop()
        await self.kpis.stop()
        await self.fault.stop()
        await self.monitoring.stop()

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
        if self._replica_task is not None:
            await cancel_and_wait([self._replica_task])
            self._replica_task = None
        await self._stop_loops()
        if self.leading:
            self.leading = False
            try:
                await self.repositories.leadership.resign(BACKGROUND_LOOPS)
            except Exception:
                log.exception("replica.resign_failed replica=%s", self.settings.replica)
        if self._reconcile_task is not None:
            await cancel_and_wait([self._reconcile_task])
            self._reconcile_task = None
        await self.runner.shutdown()
        await self.fetcher.stop()
        await self.subscriptions.stop()
        await self.vims.close()
        await self.database.close()
        self.started = False

    def api(self) -> FastAPI:
        return create_api(
            ApiServices(
                ns=self.ns,
                catalogue=self.catalogue,
                vims=self.vims,
                auth=self.auth,
                alarms=self.fault.alarms,
                metrics=self.monitoring.reader if self.settings.monitoring else None,
                autoscaling=self.autoscaling if self.settings.autoscaling else None,
                kpis=self.kpis if self.settings.monitoring else None,
                instances=self.instances,
                packages=self.packages,
                fetcher=self.fetcher,
                subscriptions=self.subscriptions,
                page_size=self.settings.page_size,
                replica=self.settings.replica,
                on_startup=self.start,
                on_shutdown=self.stop,
            )
        )


def build(
    settings: Settings,
    registry: DriverRegistry | None = None,
    fault_hook: FaultHook | None = None,
) -> Nubo:
    """Wire the orchestrator; nothing touches the disk or a VIM until ``start``.

    ``registry`` defaults to the production drivers (``default_registry``);
    ``fault_hook`` runs at every workflow step boundary, for tests only.
    """
    database = Database(settings.db_url)
    repos = build_repositories(database, settings.replica, settings.lease_seconds)
    if registry is None:
        registry = default_registry()
    vims = VimService(repos.vims, registry)

    def parse(document: dict[str, Any]) -> Nsd:
        return parse_nsd(document)

    events = EventBus()
    subscriptions = Subscriptions(
        repos.subscriptions,
        repos.outbox,
        events,
        timeout=settings.notification_timeout,
        attempts=settings.notification_attempts,
        backoff=settings.notification_backoff,
        queue_size=settings.notification_queue_size,
        allowed_hosts=settings.notification_allowed_hosts,
        leadership=repos.leadership,
        versions={api.name: api.current for api in SOL005_APIS},
        describe_ns=NsFactsReader(repos.nsrs, repos.nsds, repos.packages),
        seal=Seal(settings.callback_credentials_key),
    )
    catalogue_events = CatalogueEvents(subscriptions.publish_catalogue_event)
    packages = VnfPackageCatalogue(repos.packages, repos.nsds, catalogue_events)
    catalogue = NsdCatalogue(
        repos.nsds, repos.nsrs, parse, packages=packages, events=catalogue_events
    )
    runner = OpRunner(
        repos.nsrs,
        repos.operations,
        repos.leases,
        op_timeout=settings.op_timeout,
        fault_hook=fault_hook,
        events=events,
    )
    workflows = NsWorkflows(
        vims,
        catalogue.parsed,
        timeouts=Timeouts(
            start=settings.start_timeout,
            stop=settings.stop_timeout,
            script=settings.script_timeout,
        ),
    )
    ns = NsService(
        repos.nsrs,
        repos.operations,
        runner,
        workflows,
        vims,
        catalogue.parsed,
        check_nsd=catalogue.ensure_usable,
    )
    instances = NsInstances(ns)
    fault = build_fault_management(
        ns,
        vims,
        repos.alarms,
        interval=settings.fault_interval,
        resync_interval=settings.fault_resync_interval,
        policy_for=policy_from_descriptor(catalogue.parsed),
        notify=subscriptions.publish_alarm,
        memory=repos.memory,
    )
    monitoring = build_monitoring(ns, vims, repos.metrics, interval=settings.metrics_interval)
    autoscaling = build_autoscaling(
        ns,
        monitoring.reader,
        repos.decisions,
        catalogue.parsed,
        interval=settings.autoscale_interval,
        max_age=3 * settings.metrics_interval,
        memory=repos.memory,
        retention=settings.decision_retention,
    )
    kpis = build_kpis(
        repos.kpis,
        monitoring.reader,
        interval=settings.metrics_interval,
        notify=subscriptions.publish_kpi_event,
    )
    auth = build_auth(
        repos.identity,
        repos.tokens,
        repos.audit,
        cost=HashCost(
            time_cost=settings.password_time_cost,
            memory_cost_kib=settings.password_memory_cost,
            parallelism=settings.password_parallelism,
        ),
        policy=TokenPolicy(
            access_ttl=settings.token_ttl,
            refresh_ttl=settings.refresh_token_ttl,
            sync_interval=settings.token_sync_interval,
        ),
        limits=RateLimits(
            per_user=settings.token_rate_per_user,
            per_address=settings.token_rate_per_address,
            period=settings.token_rate_period,
        ),
        audit_retention=settings.audit_retention,
    )
    return Nubo(
        settings,
        database,
        repos,
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
        auth,
        PackageFetcher(
            packages,
            allowed_hosts=settings.package_fetch_allowed_hosts,
            max_bytes=settings.package_fetch_max_bytes,
            timeout=settings.package_fetch_timeout,
        ),
    )


def _announce_admin_password(password: str) -> None:
    """Show a generated administrator password once, on the terminal, never in the log."""
    print(
        "\n  nubo: the initial administrator is 'admin' with the password\n"
        f"      {password}\n"
        "  It is shown only this once: log in with `nubo login` and change it\n"
        "  (`nubo user passwd admin`), or set NUBO_ADMIN_PASSWORD(_FILE) before a first start.\n",
        file=sys.stderr,
        flush=True,
    )


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


def run_server(
    settings: Settings,
    registry: DriverRegistry | None = None,
    fault_hook: FaultHook | None = None,
) -> None:
    """Serve the HTTP API until interrupted (``nubo serve``); the rest as for ``build``."""
    import uvicorn

    tls = server_tls(settings)  # checked by ``nubo serve`` already: here for other callers
    configure_logging(settings.log_level)
    nubo = build(settings, registry=registry, fault_hook=fault_hook)
    uvicorn.run(
        nubo.api(),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        ssl_certfile=str(tls.certificate) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
    )
