"""KPIs (evaluation, hysteresis, persistence, routes, CLI) and the configuration history."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI

from nubo.api.kpis import router as kpis_router
from nubo.app import Nubo
from nubo.cli.client import CliConfig
from nubo.cli.main import main
from nubo.model.kpis import Kpi, KpiEvent, KpiSpec, KpiState, define_kpi
from nubo.model.metrics import Aggregate, Metric, Sample
from nubo.model.states import LcmOperationType, OpState
from nubo.monitor.kpis import KpiEvaluator, Kpis, build_kpis
from nubo.store.kpis import SqlKpiStore
from nubo.store.metrics import SqlMetricStore
from tests.auth import bearer, token_for
from tests.conftest import fake_nubo, running
from tests.unit.test_metrics_api import deploy, problem

T0 = 1_700_000_000.0


@dataclass
class ScriptedReader:
    """A MetricsReader whose aggregate is whatever the test sets; it records each query."""

    value: float | None = None
    fail_for: str | None = None
    queries: list[dict[str, Any]] = field(default_factory=list)
    asked: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(0))

    async def aggregate(self, metric: Metric, aggregate: Aggregate, **where: Any) -> float | None:
        if where.get("nsr_id") == self.fail_for:
            raise RuntimeError("query failed")
        self.queries.append({"metric": metric, "aggregate": aggregate, **where})
        self.asked.release()
        return self.value


@dataclass
class Clock:
    now: float = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Nubo]:
    async with running(fake_nubo(tmp_path)) as nubo:
        yield nubo


@pytest.fixture
def store(app: Nubo) -> SqlKpiStore:
    return SqlKpiStore(app.database)


def kpi(clear: float | None = None, nsr_id: str = "n1", **spec: Any) -> Kpi:
    values: dict[str, Any] = {"name": "cpu-high", "metric": "system.cpu.util", "threshold": 80.0}
    values.update(spec)
    values["clear_threshold"] = clear
    return define_kpi(
        KpiSpec(**values), nsr_id=nsr_id, project_id="default", vnfr_id=None, vnf_name=None, now=T0
    )


async def drive(
    evaluator: KpiEvaluator, reader: ScriptedReader, clock: Clock, values: list[float | None]
) -> list[KpiEvent]:
    events: list[KpiEvent] = []
    for value in values:
        clock.now += 5
        reader.value = value
        events += await evaluator.run_once()
    return events


# -- evaluation -------------------------------------------------------------------------
async def test_crossing_up_and_down_emits_one_event_each(store: SqlKpiStore) -> None:
    reader, clock, told = ScriptedReader(), Clock(), []

    async def notify(event: KpiEvent) -> None:
        told.append(event)

    evaluator = KpiEvaluator(store, reader, clock, notify)
    await store.add(kpi(clear=70.0))

    events = await drive(evaluator, reader, clock, [50, 85, 90, 79, 81, 75, 69, 75, 79])

    assert [(e.previous_state, e.state, e.value) for e in events] == [
        (KpiState.OK, KpiState.VIOLATED, 85),
        (KpiState.VIOLATED, KpiState.OK, 69),
    ]
    assert [e.time for e in events] == [T0 + 10, T0 + 35]
    assert told == events
    assert await store.events(nsr_id="n1") == events[::-1]  # newest first
    (stored,) = await store.list("n1")
    assert (stored.state, stored.value, stored.state_since) == (KpiState.OK, 79, T0 + 35)
    expected = {"metric": Metric.CPU_PERCENT, "aggregate": Aggregate.AVG, "nsr_id": "n1"}
    assert reader.queries[-1] == {**expected, "since": T0 - 15, "until": T0 + 45, "vnfr_id": None}


async def test_without_a_clear_threshold_a_hovering_value_flaps(store: SqlKpiStore) -> None:
    reader, clock = ScriptedReader(), Clock()
    await store.add(kpi(clear=None))
    events = await drive(KpiEvaluator(store, reader, clock), reader, clock, [50, 85, 79, 81, 79])
    assert [e.state for e in events] == [KpiState.VIOLATED, KpiState.OK] * 2


async def test_no_data_is_a_state_and_old_samples_fall_out_of_the_window(
    app: Nubo, store: SqlKpiStore
) -> None:
    metrics, clock = SqlMetricStore(app.database), Clock()
    evaluator = KpiEvaluator(store, metrics, clock)
    await store.add(kpi(window=30.0, aggregate="max", comparison_operator=">"))

    assert await evaluator.run_once() == []  # NO_DATA at creation crossed nothing
    assert (await store.list())[0].state is KpiState.NO_DATA

    await metrics.write([Sample(T0 + 10, "n1", "f1", "c1", Metric.CPU_PERCENT, 95.0)])
    clock.now = T0 + 20
    (up,) = await evaluator.run_once()
    assert (up.previous_state, up.state, up.value) == (KpiState.NO_DATA, KpiState.VIOLATED, 95)

    clock.now = T0 + 41  # the sample is now older than the 30 s window
    (gone,) = await evaluator.run_once()
    assert (gone.previous_state, gone.state) == (KpiState.VIOLATED, KpiState.NO_DATA)
    assert gone.value is None


async def test_state_survives_a_new_evaluator(app: Nubo, store: SqlKpiStore) -> None:
    reader, clock = ScriptedReader(), Clock()
    await store.add(kpi())
    (first,) = await drive(KpiEvaluator(store, reader, clock), reader, clock, [90])
    assert (first.previous_state, first.state) == (None, KpiState.VIOLATED)  # violated at birth

    restarted = KpiEvaluator(SqlKpiStore(app.database), reader, clock)
    assert await drive(restarted, reader, clock, [91]) == []  # not announced twice
    (down,) = await drive(restarted, reader, clock, [10])
    assert down.previous_state is KpiState.VIOLATED and len(await store.events()) == 2


async def test_one_failing_kpi_or_subscriber_never_stops_the_others(store: SqlKpiStore) -> None:
    reader, clock = ScriptedReader(value=99, fail_for="bad"), Clock()

    async def notify(event: KpiEvent) -> None:
        raise RuntimeError("subscriber down")

    await store.add(kpi(nsr_id="bad"))
    await store.add(kpi(nsr_id="good"))
    evaluator = KpiEvaluator(store, reader, clock, notify)
    assert [e.nsr_id for e in await evaluator.run_once()] == ["good"]
    states = {k.nsr_id: k for k in await store.list()}
    assert (states["bad"].state, states["good"].state) == (None, KpiState.VIOLATED)

    await store.delete(states["good"].id)  # deleted while being evaluated: stays deleted
    reader.value = 1
    assert await evaluator.evaluate(states["good"], T0 + 5) is None
    assert [k.nsr_id for k in await store.list()] == ["bad"] and await store.events() == []


async def test_a_vnf_kpi_reads_only_that_vnf(app: Nubo) -> None:
    nsr = await deploy(app)
    metrics, clock = SqlMetricStore(app.database), Clock()
    samples = [
        Sample(T0 - 5, nsr.id, vnfr.id, vnfc.id, Metric.CPU_PERCENT, 10.0 if i == 0 else 90.0)
        for i, vnfr in enumerate(nsr.vnfr)
        for vnfc in vnfr.vnfcs()
    ]
    await metrics.write(samples)
    kpis = build_kpis(SqlKpiStore(app.database), metrics, clock=clock)
    first = nsr.vnfr[0]
    spec = {"metric": "cpu.percent", "threshold": 50.0}
    await kpis.define(nsr, KpiSpec(name="one-vnf", vnf=first.name, **spec))
    await kpis.define(nsr, KpiSpec(name="whole-ns", **spec))

    await kpis.evaluator.run_once()

    states = {k.name: (k.vnfr_id, k.state, k.value) for k in await kpis.list(nsr.id)}
    assert states == {
        "one-vnf": (first.id, KpiState.OK, 10.0),
        "whole-ns": (None, KpiState.VIOLATED, 50.0),
    }


async def test_the_loop_evaluates_until_stopped(store: SqlKpiStore) -> None:
    reader = ScriptedReader(value=99)
    await store.add(kpi())
    kpis = Kpis(KpiEvaluator(store, reader, Clock()), interval=0.01)
    await kpis.start()
    await kpis.start()  # a no-op when running
    try:
        async with asyncio.timeout(5):
            for _ in range(3):
                await reader.asked.acquire()
    finally:
        await kpis.stop()
    assert len(reader.queries) >= 3 and not kpis.running
    assert len(await store.events()) == 1


# -- routes -----------------------------------------------------------------------------
def kpi_api(app: Nubo, kpis: Kpis | None, reader: SqlMetricStore | None = None) -> FastAPI:
    """The API with the KPI routes and services, whether or not ``create_api`` wires them yet."""
    api = app.api()
    if not any(getattr(r, "path", "").endswith("/kpis") for r in api.routes):
        api.include_router(kpis_router)
    api.state.services.kpis = kpis
    api.state.services.metrics = reader
    return api


@dataclass
class Api:
    client: httpx.AsyncClient
    kpis: Kpis
    metrics: SqlMetricStore


@pytest.fixture
async def api(app: Nubo) -> AsyncIterator[Api]:
    metrics = SqlMetricStore(app.database)
    kpis = build_kpis(SqlKpiStore(app.database), metrics)
    transport = httpx.ASGITransport(app=kpi_api(app, kpis, metrics))
    headers = bearer(await token_for(app))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://nubo", headers=headers
    ) as client:
        yield Api(client, kpis, metrics)


GOOD = {"name": "cpu", "metric": "cpu.percent", "comparison_operator": ">=", "threshold": 80}


async def test_kpi_routes_create_list_events_delete(app: Nubo, api: Api) -> None:
    nsr = await deploy(app)
    base = f"/api/v1/ns-records/{nsr.id}/kpis"

    r = await api.client.post(base, json={**GOOD, "vnf": "sipp-server", "clear_threshold": 70})
    assert r.status_code == 201, r.text
    created = r.json()
    assert r.headers["Location"] == f"{base}/{created['id']}"
    assert created["vnf"] == "sipp-server" and created["state"] is None
    problem(await api.client.post(base, json=GOOD), 409, "name")

    server = nsr.vnfr_by_name("sipp-server")
    sample = Sample(time.time(), nsr.id, server.id, server.vnfcs()[0].id, Metric.CPU_PERCENT, 97)
    await api.metrics.write([sample])
    await api.kpis.evaluator.run_once()

    (listed,) = (await api.client.get(base)).json()
    assert (listed["state"], listed["value"]) == ("VIOLATED", 97.0)
    assert (await api.client.get(f"{base}/{created['id']}")).json() == listed
    (event,) = (await api.client.get(f"{base}/{created['id']}/events")).json()
    assert (event["previous_state"], event["state"], event["threshold"]) == (None, "VIOLATED", 80)

    other = await deploy(app)
    problem(await api.client.get(f"/api/v1/ns-records/{other.id}/kpis/{created['id']}"), 404)
    assert (await api.client.delete(f"{base}/{created['id']}")).status_code == 204
    problem(await api.client.get(f"{base}/{created['id']}"), 404)
    problem(await api.client.get(f"{base}/{created['id']}/events"), 404)
    assert (await api.client.get(base)).json() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"metric": "cpu.bogus"}, "metric"),
        ({"aggregate": "median"}, "aggregate"),
        ({"comparison_operator": "=>"}, "comparison_operator"),
        ({"window": 0}, "window"),
        ({"clear_threshold": 90}, "clear_threshold"),
        ({"comparison_operator": "==", "clear_threshold": 70}, "clear_threshold"),
        ({"vnf": "nope"}, "vnf"),
    ],
)
async def test_a_bad_kpi_is_400_naming_the_field(
    app: Nubo, api: Api, change: dict[str, Any], field: str
) -> None:
    nsr = await deploy(app)
    r = await api.client.post(f"/api/v1/ns-records/{nsr.id}/kpis", json={**GOOD, **change})
    assert problem(r, 400, field)["code"] == "BAD_REQUEST"
    assert await api.kpis.list(nsr.id) == []


async def test_a_malformed_body_is_400_and_an_unknown_ns_404(app: Nubo, api: Api) -> None:
    nsr = await deploy(app)
    body = {k: v for k, v in GOOD.items() if k != "threshold"}
    errors = problem(await api.client.post(f"/api/v1/ns-records/{nsr.id}/kpis", json=body), 400)
    assert [e["path"] for e in errors["errors"]] == ["$.threshold"]
    problem(await api.client.post("/api/v1/ns-records/nope/kpis", json=GOOD), 404)
    problem(await api.client.get("/api/v1/ns-records/nope/kpis"), 404)
    problem(await api.client.get("/api/v1/ns-records/nope/history"), 404)


async def test_without_kpis_the_routes_say_so(app: Nubo) -> None:
    transport = httpx.ASGITransport(app=kpi_api(app, None))
    headers = bearer(await token_for(app))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://nubo", headers=headers
    ) as client:
        body = problem(await client.get("/api/v1/ns-records/x/kpis"), 503)
        assert body["code"] == "KPIS_DISABLED"


# -- configuration history --------------------------------------------------------------
async def test_history_lists_the_operations_of_a_window_with_the_metric(
    app: Nubo, api: Api
) -> None:
    nsr = await deploy(app)
    vnfr = nsr.vnfr_by_name("sipp-client")
    op = await app.ns.scale_out(nsr.id, vnfr.id, vnfr.vdu[0].id)
    scale = await app.runner.wait(op.id, timeout=10)
    assert scale.state == OpState.COMPLETED
    start, end = scale.start_time.timestamp(), scale.state_entered_time.timestamp()
    vnfc = vnfr.vnfcs()[0]
    other = nsr.vnfr_by_name("sipp-server")  # not scaled: not in the scale-out's before/after
    other_vnfc = other.vnfcs()[0]
    await api.metrics.write(
        [
            Sample(start - 30, nsr.id, vnfr.id, vnfc.id, Metric.CPU_PERCENT, 90.0),
            Sample(start - 30, nsr.id, other.id, other_vnfc.id, Metric.CPU_PERCENT, 10.0),
            Sample(end + 1, nsr.id, vnfr.id, vnfc.id, Metric.CPU_PERCENT, 40.0),
            Sample(end + 2, nsr.id, vnfr.id, vnfc.id, Metric.CPU_PERCENT, 50.0),
        ]
    )
    url = f"/api/v1/ns-records/{nsr.id}/history"

    whole = (await api.client.get(url)).json()  # default window: the NS's whole life
    assert [e["operation"] for e in whole["events"]] == ["INSTANTIATE", "SCALE_OUT"]
    assert "buckets" in whole and whole["metric"] is None

    window = {"since": str(start - 0.001), "until": str(end + 120), "step": "200"}
    r = await api.client.get(url, params={**window, "metric": "system.cpu.util"})
    assert r.status_code == 200, r.text
    answer = r.json()
    (event,) = answer["events"]  # INSTANTIATE ended before the window
    assert event["operation"] == LcmOperationType.SCALE_OUT
    assert event["state"] == "COMPLETED" and event["vnfr_id"] == vnfr.id
    assert event["vnfc_id"] and event["steps"] == len(scale.steps) > 0
    assert event["error_code"] is None
    assert (event["metric_before"], event["metric_after"]) == (90, 45)
    assert (answer["metric"], answer["aggregate"], answer["step"]) == ("cpu.percent", "avg", 200)
    assert [b["value"] for b in answer["buckets"]] == [45.0]  # the sample before is outside

    problem(await api.client.get(url, params={"metric": "bogus"}), 400, "metric")
    problem(await api.client.get(url, params={"since": "1h", "until": "2h"}), 400, "since")


async def test_a_deleted_nsr_keeps_its_history(app: Nubo, api: Api) -> None:
    nsr = await deploy(app)
    await app.repositories.nsrs.delete_nsr(nsr.id)
    events = (await api.client.get(f"/api/v1/ns-records/{nsr.id}/history")).json()["events"]
    assert [e["operation"] for e in events] == ["INSTANTIATE"]


# -- CLI --------------------------------------------------------------------------------
def test_cli_creates_a_kpi_and_prints_the_history() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path.endswith("/kpis"):
            return httpx.Response(201, json={**GOOD, "id": "k1", "aggregate": "avg", "window": 60})
        event = {"operation": "SCALE_OUT", "state": "COMPLETED", "time": T0, "end_time": T0 + 3}
        event.update(vnfr_id="f1", steps=4, metric_before=91.5, metric_after=42.25)
        return httpx.Response(200, json={"metric": "cpu.percent", "events": [event]})

    config = CliConfig(transport=httpx.MockTransport(handler), sleep=lambda _s: None)
    args = ["kpi", "create", "ns1", "--name", "cpu", "--threshold", "80", "--op", ">", "--vnf", "v"]
    result = CliRunner().invoke(main, args, obj=config)
    assert result.exit_code == 0, result.output
    assert seen[0].url.path == "/api/v1/ns-records/ns1/kpis"
    sent = {**GOOD, "aggregate": "avg", "window": 60.0, "comparison_operator": ">", "vnf": "v"}
    assert json.loads(seen[0].content) == sent

    args = ["history", "ns1", "--since", "1h", "--metric", "cpu.percent"]
    result = CliRunner().invoke(main, args, obj=config)
    assert result.exit_code == 0, result.output
    assert "SCALE_OUT" in result.output and "91.50" in result.output and "42.25" in result.output
    assert dict(seen[1].url.params) == {"since": "1h", "metric": "cpu.percent", "aggregate": "avg"}
