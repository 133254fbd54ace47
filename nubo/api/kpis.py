"""KPI and configuration-history routes of an NS.

``/api/v1/ns-records/{nsrId}/kpis`` defines, lists, shows and deletes KPIs
(with their current state) and lists a KPI's events;
``/api/v1/ns-records/{nsrId}/history`` answers the NS's lifecycle operations
of a window, with a metric of the same window when ``metric`` is given.
Times are read as ``/api/v1/metrics`` reads them (epoch seconds, ISO 8601,
or a duration back from now such as ``5m``). The routes read
``request.app.state.services.kpis`` (a ``Kpis``), ``.ns`` and ``.metrics``.
"""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from nubo.api.metrics import (
    MAX_BUCKETS,
    metrics_reader,
    parse_aggregate,
    parse_metric,
    parse_time,
)
from nubo.api.tenancy import RequestScope
from nubo.model.errors import BadRequest, NuboError
from nubo.model.kpis import Kpi, KpiEvent, KpiSpec
from nubo.model.metrics import Aggregate
from nubo.model.records import LcmOpOcc
from nubo.model.tenancy import Scope
from nubo.monitor.history import DEFAULT_AROUND, NsHistory, default_since, ns_history
from nubo.monitor.kpis import Kpis
from nubo.nfvo.service import NsService

router = APIRouter(prefix="/api/v1", tags=["kpis"])

_KPIS = "/ns-records/{nsr_id}/kpis"


class KpisDisabled(NuboError):
    code = "KPIS_DISABLED"
    status = 503
    title = "KPI evaluation is not running"


def kpis_service(request: Request) -> Kpis:
    service: Any = getattr(request.app.state.services, "kpis", None)
    if not isinstance(service, Kpis):
        raise KpisDisabled("this orchestrator runs without KPI evaluation (monitoring is off)")
    return service


def _ns(request: Request) -> NsService:
    service: NsService = request.app.state.services.ns
    return service


@router.post(_KPIS, status_code=201, response_model=Kpi)
async def create_kpi(
    request: Request, scope: RequestScope, response: Response, nsr_id: str, spec: KpiSpec
) -> Kpi:
    """Define a KPI of the NS (in its project); 400 names the field in error, 404 for an
    unknown NS."""
    kpis = kpis_service(request)
    nsr = await _ns(request).get(nsr_id, scope)
    kpi = await kpis.define(nsr, spec)
    response.headers["Location"] = f"{request.url.path.rstrip('/')}/{kpi.id}"
    return kpi


@router.get(_KPIS, response_model=list[Kpi])
async def list_kpis(request: Request, scope: RequestScope, nsr_id: str) -> list[Kpi]:
    """The NS's KPIs with their current state, oldest first."""
    kpis = kpis_service(request)
    await _ns(request).get(nsr_id, scope)
    return await kpis.list(nsr_id, scope)


@router.get(_KPIS + "/{kpi_id}", response_model=Kpi)
async def get_kpi(request: Request, scope: RequestScope, nsr_id: str, kpi_id: str) -> Kpi:
    return await kpis_service(request).get(nsr_id, kpi_id, scope)


@router.delete(_KPIS + "/{kpi_id}", status_code=204)
async def delete_kpi(request: Request, scope: RequestScope, nsr_id: str, kpi_id: str) -> Response:
    await kpis_service(request).delete(nsr_id, kpi_id, scope)
    return Response(status_code=204)


@router.get(_KPIS + "/{kpi_id}/events", response_model=list[KpiEvent])
async def list_kpi_events(
    request: Request,
    scope: RequestScope,
    nsr_id: str,
    kpi_id: str,
    since: str | None = None,
    until: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[KpiEvent]:
    """The KPI's state changes, newest first."""
    now = time.time()
    start, end = parse_time(since, now, "since"), parse_time(until, now, "until")
    return await kpis_service(request).events(nsr_id, kpi_id, start, end, limit, scope)


@router.get("/ns-records/{nsr_id}/history", response_model=NsHistory, tags=["ns-records"])
async def ns_configuration_history(
    request: Request,
    scope: RequestScope,
    nsr_id: str,
    since: Annotated[str | None, Query(description="default: the NS's first operation")] = None,
    until: Annotated[str | None, Query(description="default: now")] = None,
    metric: Annotated[str | None, Query(description="a metric to read beside the events")] = None,
    aggregate: Annotated[str | None, Query(description="avg (default), max, p95, ...")] = None,
    step: Annotated[float | None, Query(description="seconds per metric bucket")] = None,
    around: Annotated[
        float, Query(gt=0, description="seconds before/after each operation")
    ] = DEFAULT_AROUND,
) -> NsHistory:
    """The NS's lifecycle operations of a window, with a metric of the same window."""
    chosen = parse_metric(metric) if metric else None
    agg = parse_aggregate(aggregate) or Aggregate.AVG
    ops = await _operations(request, scope, nsr_id)
    now = time.time()
    end = parse_time(until, now, "until")
    end = now if end is None else end
    start = parse_time(since, now, "since")
    start = default_since(ops, end) if start is None else start
    if start > end:
        raise BadRequest("since must not be after until", field="since")
    if step is not None and (step <= 0 or (end - start) / step > MAX_BUCKETS):
        raise BadRequest(f"step must be > 0 and give at most {MAX_BUCKETS} buckets", field="step")
    reader = metrics_reader(request) if chosen is not None else None
    return await ns_history(
        nsr_id,
        ops,
        start,
        end,
        reader=reader,
        metric=chosen,
        aggregate=agg,
        step=step,
        around=around,
    )


async def _operations(request: Request, scope: Scope, nsr_id: str) -> list[LcmOpOcc]:
    """The NS's operations; a deleted NSR's operations stay as its history (of its project:
    the operations are the scope's, so the NS's metrics read beside them are too)."""
    ns = _ns(request)
    ops = await ns.operations(nsr_id, scope)
    if not ops:
        await ns.get(nsr_id, scope)  # 404 for an NS that never existed (in the project)
    return ops
