"""Metric routes, the Prometheus exposition and ``nubo metrics`` over the in-memory VIM."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI

from nubo.api.metrics import router as metrics_router
from nubo.app import Nubo
from nubo.cli.client import CliConfig
from nubo.cli.main import main
from nubo.model.metrics import Metric, Sample
from nubo.model.records import NetworkServiceRecord
from nubo.model.states import OpState
from nubo.monitor.prometheus import escape
from nubo.store.metrics import SqlMetricStore
from tests.auth import bearer, token_for
from tests.conftest import fake_nubo, running

NSD = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"
T0 = 1_700_000_000.0

#: one sample line of the text format: name, optional {labels}, value
_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_exposition(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """A strict reader of the 0.0.4 text format; fails on any line it does not understand."""
    assert text.endswith("\n")
    samples: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    typed: set[str] = set()
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("gauge", "counter") and name not in typed
            typed.add(name)
            continue
        match = _LINE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, _, inner, value = match.groups()
        assert name in typed, f"{name} has no TYPE line before it"
        pairs: list[tuple[str, str]] = []
        rest = inner or ""
        while rest:
            label = _LABEL.match(rest)
            assert label, f"bad labels in {line!r}"
            pairs.append((label.group(1), label.group(2)))
            rest = rest[label.end() :]
        key = (name, frozenset(pairs))
        assert key not in samples, f"duplicate series {key}"
        samples[key] = float(value)
    return samples


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Nubo]:
    async with running(fake_nubo(tmp_path, background=True)) as nubo:
        yield nubo


@pytest.fixture
async def store(app: Nubo) -> SqlMetricStore:
    return SqlMetricStore(app.database)


def metrics_api(app: Nubo, store: SqlMetricStore | None) -> FastAPI:
    """The API with the metric routes and reader, whether or not ``create_api`` wires them yet."""
    api = app.api()
    if not any(getattr(route, "path", "") == "/metrics" for route in api.routes):
        api.include_router(metrics_router)
    api.state.services.metrics = store
    return api


@pytest.fixture
async def http(app: Nubo, store: SqlMetricStore) -> AsyncIterator[httpx.AsyncClient]:
    api = metrics_api(app, store)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=api),
        base_url="http://nubo",
        headers=bearer(await token_for(app)),
    ) as client:
        yield client


async def deploy(app: Nubo) -> NetworkServiceRecord:
    entry = await app.catalogue.onboard(NSD.read_bytes())
    nsr, op = await app.ns.instantiate(entry.id, name='sipp "quoted"\\')
    assert (await app.runner.wait(op.id, timeout=10)).state == OpState.COMPLETED
    return await app.ns.get(nsr.id)


async def fill(store: SqlMetricStore, nsr: NetworkServiceRecord, now: float) -> None:
    samples = []
    for vnfr in nsr.vnfr:
        for vnfc in vnfr.vnfcs():
            base = 10.0 if vnfr.name == "sipp-server" else 50.0
            for i in range(5):
                t = now - 40 + i * 10
                samples.append(Sample(t, nsr.id, vnfr.id, vnfc.id, Metric.CPU_PERCENT, base + i))
            samples.append(Sample(now, nsr.id, vnfr.id, vnfc.id, Metric.NET_RX_BYTES, 1234.0))
    await store.write(samples)


def problem(response: httpx.Response, status: int, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    if field is not None:
        assert body.get("field") == field, body
    return body


async def test_series_aggregate_buckets_and_per_vnfc(
    app: Nubo, store: SqlMetricStore, http: httpx.AsyncClient
) -> None:
    nsr = await deploy(app)
    await fill(store, nsr, T0)
    server = nsr.vnfr_by_name("sipp-server")
    window = {"since": str(T0 - 60), "until": str(T0), "ns": nsr.id}

    r = await http.get("/api/v1/metrics", params={**window, "vnf": "sipp-server"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["value"] for x in body["samples"]] == [10.0, 11.0, 12.0, 13.0, 14.0]
    vnfc = server.vnfcs()[0]
    assert body["vnfcs"] == {vnfc.id: {"vnf_name": "sipp-server", "hostname": vnfc.hostname}}

    r = await http.get("/api/v1/metrics", params={**window, "aggregate": "max"})
    assert r.json()["value"] == 54.0

    alias = {**window, "metric": "system.cpu.util", "vnf": server.id, "aggregate": "p50"}
    assert (await http.get("/api/v1/metrics", params=alias)).json()["value"] == 12.0

    r = await http.get("/api/v1/metrics", params={**window, "aggregate": "avg", "step": "20"})
    buckets = r.json()["buckets"]
    assert [b["value"] for b in buckets] == [30.5, 32.5, 34.0]  # both VNFCs, 20 s apart

    r = await http.get("/api/v1/metrics", params={**window, "aggregate": "min", "group": "vnfc"})
    rows = {row["vnf_name"]: row for row in r.json()["vnfcs"]}
    assert rows["sipp-server"]["value"] == 10.0 and rows["sipp-server"]["last"] == 14.0
    assert rows["sipp-client"]["value"] == 50.0 and rows["sipp-client"]["count"] == 5


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"metric": "cpu.bogus"}, "metric"),
        ({"aggregate": "median"}, "aggregate"),
        ({"since": "yesterday"}, "since"),
        ({"until": "5x"}, "until"),
        ({"since": "100", "until": "50"}, "since"),
        ({"step": "0", "aggregate": "avg"}, "step"),
        ({"since": "0", "until": "1000000", "step": "1"}, "step"),
    ],
)
async def test_bad_queries_are_400_naming_the_field(
    http: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    body = problem(await http.get("/api/v1/metrics", params=params), 400, field)
    assert body["code"] == "BAD_REQUEST"


async def test_unknown_ns_and_vnf_are_404(app: Nubo, http: httpx.AsyncClient) -> None:
    problem(await http.get("/api/v1/metrics", params={"ns": "nope"}), 404)
    nsr = await deploy(app)
    problem(await http.get("/api/v1/metrics", params={"ns": nsr.id, "vnf": "x"}), 404, "vnf")


async def test_without_a_reader_the_routes_say_monitoring_is_off(app: Nubo) -> None:
    transport = httpx.ASGITransport(app=metrics_api(app, None))
    headers = bearer(await token_for(app))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://nubo", headers=headers
    ) as client:
        body = problem(await client.get("/metrics"), 503)
        assert body["code"] == "MONITORING_DISABLED"


async def test_prometheus_exposition_parses_and_labels_each_vnfc(
    app: Nubo, store: SqlMetricStore, http: httpx.AsyncClient
) -> None:
    import time

    nsr = await deploy(app)
    await fill(store, nsr, time.time())
    r = await http.get("/metrics")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = parse_exposition(r.text)

    vnfc = nsr.vnfr_by_name("sipp-server").vnfcs()[0]
    labels = frozenset(
        {
            ("ns_id", nsr.id),
            ("ns_name", escape(nsr.name)),
            ("vnf_name", "sipp-server"),
            ("vnfc_id", vnfc.id),
            ("vnfc_hostname", vnfc.hostname),
        }
    )
    assert samples[("nubo_vnfc_cpu_percent", labels)] == 14.0
    assert samples[("nubo_vnfc_network_receive_bytes_total", labels)] == 1234.0
    assert samples[("nubo_network_services", frozenset({("status", "ACTIVE")}))] == 1.0
    assert samples[("nubo_alarms_active", frozenset())] == 0.0
    assert not any(name == "nubo_vnfc_memory_bytes" for name, _ in samples)  # no data: no line


def test_escape_follows_the_text_format() -> None:
    assert escape('a"b\\c\nd') == 'a\\"b\\\\c\\nd'


def test_cli_prints_a_per_vnfc_summary() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json={
                "metric": "cpu.percent",
                "aggregate": "p95",
                "vnfcs": [
                    {
                        "vnf_name": "load",
                        "hostname": "load-0",
                        "vnfc_id": "c1",
                        "value": 81.234,
                        "last": 79.5,
                        "count": 12,
                    }
                ],
            },
        )

    config = CliConfig(transport=httpx.MockTransport(handler), sleep=lambda _s: None)
    args = ["metrics", "ns1", "--vnf", "load", "--since", "10m", "--aggregate", "p95"]
    result = CliRunner().invoke(main, args, obj=config)
    assert result.exit_code == 0, result.output
    assert "P95" in result.output and "81.23" in result.output and "load-0" in result.output
    params = dict(seen[0].url.params)
    assert seen[0].url.path == "/api/v1/metrics"
    assert params == {
        "metric": "cpu.percent",
        "ns": "ns1",
        "since": "10m",
        "vnf": "load",
        "aggregate": "p95",
        "group": "vnfc",
    }
