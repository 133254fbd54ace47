"""The FastAPI application: routes, problem handlers, lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import APIRouter, Depends, FastAPI
from fastapi.routing import APIRoute

import nubo
from nubo.api.alarms import router as alarms_router
from nubo.api.alarms import vim_alarms_router
from nubo.api.audit import AuditRecorder
from nubo.api.audit import router as audit_router
from nubo.api.autoscale import router as autoscale_router
from nubo.api.identity import router as identity_router
from nubo.api.kpis import router as kpis_router
from nubo.api.metrics import router as metrics_router
from nubo.api.negotiation import VersionNegotiation
from nubo.api.negotiation import router as versions_router
from nubo.api.nsd import router as nsd_router
from nubo.api.nslcm import router as nslcm_router
from nubo.api.nslcm_ops import router as nslcm_ops_router
from nubo.api.oauth import router as oauth_router
from nubo.api.openbaton import router as openbaton_router
from nubo.api.problems import install_problem_handlers
from nubo.api.security import (
    Authentication,
    authorize,
    check_permissions,
    document_permissions,
)
from nubo.api.subscriptions import ROUTERS as subscription_routers
from nubo.api.vnfpkgm import router as vnfpkgm_router
from nubo.auth import Auth
from nubo.autoscale.loops import AutoScaling
from nubo.catalogue.fetch import PackageFetcher
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
    #: tokens, grants, users and projects: every route but a few needs a token
    auth: Auth
    alarms: AlarmService | None = None
    metrics: MetricsReader | None = None
    autoscaling: AutoScaling | None = None
    kpis: Kpis | None = None
    instances: NsInstances | None = None
    packages: VnfPackageCatalogue | None = None
    #: fetches VNF package content from URIs (upload_from_uri)
    fetcher: PackageFetcher | None = None
    subscriptions: Subscriptions | None = None
    #: items per page of a SOL005 list (SOL013 §5.4)
    page_size: int = 100
    #: this replica's name, on the audit trail's events
    replica: str = ""
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
    # added first, so inside the negotiation: a 401 under a SOL005 prefix carries Version too
    app.add_middleware(Authentication, tokens=lambda: services.auth.tokens)
    app.add_middleware(VersionNegotiation)
    # outermost: a call refused before any route is recorded too
    app.add_middleware(AuditRecorder, trail=lambda: services.auth.audit, replica=services.replica)
    routers = [
        oauth_router,
        identity_router,
        audit_router,
        versions_router,
        openbaton_router,
        alarms_router,
        vim_alarms_router,
        metrics_router,
        autoscale_router,
        kpis_router,
        nsd_router,
        vnfpkgm_router,
        nslcm_router,
        nslcm_ops_router,
        *subscription_routers,
        system_router,
    ]
    check_permissions(
        route for router in routers for route in router.routes if isinstance(route, APIRoute)
    )
    for router in routers:
        app.include_router(router, dependencies=[Depends(authorize)])
    document_permissions(app)
    return app


system_router = APIRouter(tags=["system"])


@system_router.get("/health")
async def health() -> dict[str, str]:
    return {"status": "ok", "version": nubo.__version__}
