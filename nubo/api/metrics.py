"""Metric routes: ``GET /api/v1/metrics`` (series, aggregates) and ``GET /metrics`` (Prometheus).

``/api/v1/metrics`` answers, for one metric over a window of time, the
samples; or with ``aggregate`` one value; with ``aggregate`` and ``step`` one
value per bucket of ``step`` seconds; with ``aggregate`` and
``group=vnfc`` one value per VNFC. Times are seconds since the epoch, an ISO
8601 time, or a duration back from now (``90s``, ``5m``, ``2h``, ``1d``).
The routes read ``request.app.state.services.metrics`` (a ``MetricsReader``)
and ``.ns``.
"""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from nubo.api.tenancy import RequestScope
from nubo.fault.alarms import AlarmService
from nubo.model.errors import BadRequest, NotFound, NuboError
from nubo.model.metrics import ALIASES, Aggregate, Metric, Sample, aggregate_values, metric_named
from nubo.model.records import NetworkServiceRecord
from nubo.model.tenancy import Scope
from nubo.monitor.prometheus import CONTENT_TYPE, exposition
from nubo.monitor.query import MetricsReader
from nubo.nfvo.service import NsService

router = APIRouter(tags=["metrics"])

#: window when ``since`` is not given
DEFAULT_WINDOW = 900.0
#: at most this many buckets per answer (``step`` too small for the window is refused)
MAX_BUCKETS = 10_000
_DURATION = re.compile(r"^(\d+(?:\.\d+)?)([smhd])$")
_UNITS = {"s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


class MonitoringDisabled(NuboError):
    code = "MONITORING_DISABLED"
    status = 503
    title = "Monitoring is not running"


def metrics_reader(request: Request) -> MetricsReader:
    reader: Any = getattr(request.app.state.services, "metrics", None)
    if reader is None:
        raise MonitoringDisabled("this orchestrator runs without monitoring")
    return reader  # type: ignore[no-any-return]


def _ns(request: Request) -> NsService:
    service: NsService = request.app.state.services.ns
    return service


def parse_time(text: str | None, now: float, field: str) -> float | None:
    """Seconds since the epoch of a query time; None when not given."""
    if text is None or text == "":
        return None
    text = text.strip()
    if text == "now":
        return now
    duration = _DURATION.match(text)
    if duration:
        return now - float(duration.group(1)) * _UNITS[duration.group(2)]
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if math.isfinite(value):
        return value
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(
            f"{field} must be seconds since the epoch, an ISO 8601 time or a duration "
            f"such as 5m; got {text!r}",
            field=field,
        ) from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def parse_metric(name: str) -> Metric:
    metric = metric_named(name)
    if metric is None:
        known = ", ".join([*(m.value for m in Metric), *ALIASES])
        raise BadRequest(f"unknown metric {name!r}; known metrics: {known}", field="metric")
    return metric


def parse_aggregate(name: str | None) -> Aggregate | None:
    if not name:
        return None
    try:
        return Aggregate(name)
    except ValueError:
        known = ", ".join(a.value for a in Aggregate)
        raise BadRequest(
            f"unknown aggregate {name!r}; known aggregates: {known}", field="aggregate"
        ) from None


async def _selection(
    request: Request, scope: Scope, ns: str | None, vnf: str | None
) -> tuple[str | None, str | None, list[NetworkServiceRecord]]:
    """The NS and VNF ids to filter on, and the NSRs (that ``scope`` sees) whose VNFCs may
    answer."""
    if ns:
        nsr = await _ns(request).get(ns, scope)
        if not vnf:
            return nsr.id, None, [nsr]
        try:
            return nsr.id, nsr.find_vnfr(vnf).id, [nsr]
        except NotFound:
            raise NotFound(f"VNF {vnf} not found in NS {nsr.id}", field="vnf") from None
    return None, vnf or None, await _ns(request).list(include_terminated=True, scope=scope)


def _vnfc_index(nsrs: list[NetworkServiceRecord]) -> dict[str, dict[str, str]]:
    return {
        vnfc.id: {"vnf_name": vnfr.name, "hostname": vnfc.hostname}
        for nsr in nsrs
        for vnfr in nsr.vnfr
        for vdu in vnfr.vdu
        for vnfc in vdu.vnfc_instance
    }


def _buckets(
    samples: list[Sample], aggregate: Aggregate, since: float, step: float
) -> list[dict[str, Any]]:
    grouped: dict[int, list[float]] = {}
    for sample in samples:
        grouped.setdefault(int((sample.time - since) // step), []).append(sample.value)
    return [
        {"time": since + index * step, "value": aggregate_values(values, aggregate)}
        for index, values in sorted(grouped.items())
    ]


def _per_vnfc(
    samples: list[Sample], aggregate: Aggregate, index: dict[str, dict[str, str]]
) -> list[dict[str, Any]]:
    grouped: dict[str, list[Sample]] = {}
    for sample in samples:
        grouped.setdefault(sample.vnfc_id, []).append(sample)
    return [
        {
            "nsr_id": group[0].nsr_id,
            "vnfr_id": group[0].vnfr_id,
            "vnfc_id": vnfc_id,
            **index.get(vnfc_id, {"vnf_name": "", "hostname": ""}),
            "value": aggregate_values([s.value for s in group], aggregate),
            "last": group[-1].value,
            "count": len(group),
        }
        for vnfc_id, group in sorted(grouped.items())
    ]


@router.get("/api/v1/metrics")
async def query_metrics(
    request: Request,
    scope: RequestScope,
    metric: str = "cpu.percent",
    ns: str | None = None,
    vnf: Annotated[str | None, Query(description="VNF name (with ns) or VNFR id")] = None,
    vnfc: str | None = None,
    since: Annotated[str | None, Query(description="default: 15 minutes before until")] = None,
    until: Annotated[str | None, Query(description="default: now")] = None,
    aggregate: Annotated[str | None, Query(description="avg, min, max, p95, ...")] = None,
    step: Annotated[float | None, Query(description="seconds per bucket")] = None,
    group: Literal["vnfc"] | None = None,
) -> dict[str, Any]:
    """The samples of one metric, or an aggregate of them (overall, per bucket, per VNFC)."""
    reader = metrics_reader(request)
    chosen, agg = parse_metric(metric), parse_aggregate(aggregate)
    now = time.time()
    end = parse_time(until, now, "until")
    end = now if end is None else end
    start = parse_time(since, now, "since")
    start = end - DEFAULT_WINDOW if start is None else start
    if start > end:
        raise BadRequest("since must not be after until", field="since")
    if step is not None and (step <= 0 or (end - start) / step > MAX_BUCKETS):
        raise BadRequest(f"step must be > 0 and give at most {MAX_BUCKETS} buckets", field="step")
    nsr_id, vnfr_id, nsrs = await _selection(request, scope, ns, vnf)
    answer: dict[str, Any] = {"metric": chosen.value, "since": start, "until": end}
    if agg is not None and step is None and group is None:
        value = await reader.aggregate(
            chosen,
            agg,
            since=start,
            until=end,
            nsr_id=nsr_id,
            vnfr_id=vnfr_id,
            vnfc_id=vnfc,
            scope=scope,
        )
        return {**answer, "aggregate": agg.value, "value": value}
    samples = await reader.series(
        chosen,
        since=start,
        until=end,
        nsr_id=nsr_id,
        vnfr_id=vnfr_id,
        vnfc_id=vnfc,
        scope=scope,
    )
    index = _vnfc_index(nsrs)
    if group == "vnfc":
        agg = agg or Aggregate.AVG
        return {**answer, "aggregate": agg.value, "vnfcs": _per_vnfc(samples, agg, index)}
    if step is not None:
        agg = agg or Aggregate.AVG
        buckets = _buckets(samples, agg, start, step)
        return {**answer, "aggregate": agg.value, "step": step, "buckets": buckets}
    return {
        **answer,
        "samples": [
            {
                "time": s.time,
                "nsr_id": s.nsr_id,
                "vnfr_id": s.vnfr_id,
                "vnfc_id": s.vnfc_id,
                "value": s.value,
            }
            for s in samples
        ],
        "vnfcs": {s.vnfc_id: index[s.vnfc_id] for s in samples if s.vnfc_id in index},
    }


@router.get("/metrics", tags=["system"], response_class=Response)
async def prometheus_metrics(request: Request, scope: RequestScope) -> Response:
    """Current VNFC metrics and orchestrator gauges of the caller's project, Prometheus text
    format 0.0.4."""
    reader = metrics_reader(request)
    nsrs = await _ns(request).list(include_terminated=True, scope=scope)
    alarms: Any = getattr(request.app.state.services, "alarms", None)
    active = (
        len(await alarms.list(active_only=True, scope=scope))
        if isinstance(alarms, AlarmService)
        else None
    )
    body = await exposition(reader, nsrs, time.time(), active_alarms=active)
    return Response(body, media_type=CONTENT_TYPE)
