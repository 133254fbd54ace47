"""The FastAPI application: routes, problem handlers, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI

import nubo
from nubo.api.alarms import router as alarms_router
from nubo.api.autoscale import router as autoscale_router
from nubo.api.kpis import router as kpis_router
from nubo.api.metrics import router as metrics_router
from nubo.api.negotiation import VersionNegotiation
from nubo.api.negotiation import router as versions_router
from nubo.api.nsd import router as nsd_router
from nubo.api.nslcm import router as nslcm_router
from nubo.api.nslcm_ops import router as nslcm_ops_router
from nubo.api.openbaton import router as openbaton_router
from nubo.api.problems import install_problem_handlers
from nubo.api.subscriptions import router as subscriptions_router
from nubo.api.vnfpkgm import router as vnfpkgm_router
from nubo.autoscale.loops import AutoScaling
from nubo.catalogue.nsd import NsdCatalogue
from nubo.catalogue.packages import VnfPackageCatalogue
from nubo.fault.alarms import AlarmService
from nubo.monitor.kpis import Kpis
from nubo.monitor.query import MetricsReader
from nubo.nfvo.instances import NsInstances
from nubo.nfvo.service import NsService
from nubo.nfvo.vims import VimService
from nubo.notify.subscriptions import Subscriptions


@dataclass
class ApiServices:
    """What the routes call; built by the composition root."""

    ns: NsService
    catalogue: NsdCatalogue
    vims: VimService
    alarms: AlarmService | None = None
    metrics: MetricsReader | None = None
    autoscaling: AutoScaling | None = None
    kpis: Kpis | None = None
    instances: NsInstances | None = None
    packages: VnfPackageCatalogue | None = None
    subscriptions: Subscriptions | None = None
    #: items per page of a SOL005 list (SOL013 §5.4)
    page_size: int = 100
    on_startup: Callable[[], Awaitable[None]] | None = None
    on_shutdown: Callable[[], Awaitable[None]] | None = None


def create_api(services: ApiServices) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if services.on_startup is not None:
            await services.on_startup()
        try:
            yield
        finally:
            if services.on_shutdown is not None:
                await services.on_shutdown()

    app = FastAPI(
        title="nubo",
        version=nubo.__version__,
        description="Elastic orchestration of containerised network services "
        "(ETSI NFV MANO). Open Baton Pm-Or routes under /api/v1; ETSI GS NFV-SOL 005 "
        "shaped resources under /nsd/v1, /vnfpkgm/v1, /nslcm/v1 and /nsfm/v1.",
        lifespan=lifespan,
    )
    app.state.services = services
    install_problem_handlers(app)
    app.add_middleware(VersionNegotiation)
    app.include_router(versions_router)
    app.include_router(openbaton_router)
    app.include_router(alarms_router)
    app.include_router(metrics_router)
    app.include_router(autoscale_router)
    app.include_router(kpis_router)
    app.include_router(nsd_router)
    app.include_router(vnfpkgm_router)
    app.include_router(nslcm_router)
    app.include_router(nslcm_ops_router)
    app.include_router(subscriptions_router)

    @app.get("/health", tags=["system"])
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": nubo.__version__}

    return app
