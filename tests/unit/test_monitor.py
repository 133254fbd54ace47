"""Monitoring over the in-memory VIM: sampler, metric store queries, retention, the loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nubo.app import Nubo
from nubo.model.metrics import Aggregate, Metric, Sample, aggregate_values, percentile
from nubo.model.records import NetworkServiceRecord
from nubo.model.states import OpState
from nubo.monitor.loops import Monitoring, build_monitoring
from nubo.monitor.query import MetricsReader
from nubo.monitor.sampler import MetricSampler
from nubo.store.metrics import SqlMetricStore
from nubo.vim.fake import FakeVimDriver
from tests.conftest import fake_nubo

NSD = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"
T0 = 1_700_000_000.0


@dataclass
class Env:
    nubo: Nubo
    fake: FakeVimDriver
    store: SqlMetricStore

    async def deploy(self) -> NetworkServiceRecord:
        entry = await self.nubo.catalogue.onboard(NSD.read_bytes())
        nsr, op = await self.nubo.ns.instantiate(entry.id, name="sipp")
        assert (await self.nubo.runner.wait(op.id, timeout=10)).state == OpState.COMPLETED
        return await self.nubo.ns.get(nsr.id)

    def sampler(self, timeout: float = 3.0) -> MetricSampler:
        return MetricSampler(
            self.nubo.ns, self.nubo.vims, self.store, 1.0, lambda: T0, timeout=timeout
        )


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    app = fake_nubo(tmp_path)
    await app.start()
    fake = await app.vims.driver((await app.vims.default()).id)
    assert isinstance(fake, FakeVimDriver)
    try:
        yield Env(app, fake, SqlMetricStore(app.database))
    finally:
        await app.stop()


def s(t: float, value: float, vnfc: str = "c1", vnfr: str = "f1", nsr: str = "n1") -> Sample:
    return Sample(t, nsr, vnfr, vnfc, Metric.CPU_PERCENT, value)


async def test_sampler_writes_every_metric_of_every_running_vnfc(env: Env) -> None:
    nsr = await env.deploy()
    server = nsr.vnfr_by_name("sipp-server").vnfcs()[0]
    client = nsr.vnfr_by_name("sipp-client").vnfcs()[0]
    env.fake.set_load(server.vc_id, cpu_percent=75, memory_bytes=256 << 20, rx_bytes=10)
    env.fake.set_load(client.vc_id, cpu_percent=None, tx_bytes=99)

    report = await env.sampler().run_once()

    assert report.vnfcs == 2 and not report.failed
    assert report.samples == 6 + 4  # the client reports no CPU value
    at: dict[str, Any] = {"since": T0, "until": T0}
    assert await env.store.series(Metric.CPU_PERCENT, vnfc_id=server.id, **at) == [
        Sample(T0, nsr.id, nsr.vnfr_by_name("sipp-server").id, server.id, Metric.CPU_PERCENT, 75)
    ]
    values = {
        m: [x.value for x in await env.store.series(m, vnfc_id=server.id, **at)] for m in Metric
    }
    assert values == {
        Metric.CPU_PERCENT: [75.0],
        Metric.CPU_IDLE: [25.0],
        Metric.MEMORY_BYTES: [float(256 << 20)],
        Metric.MEMORY_PERCENT: [25.0],
        Metric.NET_RX_BYTES: [10.0],
        Metric.NET_TX_BYTES: [0.0],
    }
    vnfr_id = nsr.vnfr_by_name("sipp-client").id
    reader: MetricsReader = env.store
    assert await reader.latest(Metric.NET_TX_BYTES, vnfr_id=vnfr_id, max_age=5, now=T0) == {
        client.id: 99.0
    }


async def test_rounds_at_rest_read_the_vnfc_index_once(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index is read again only when an NS changed (a new one here), and every
    ``reindex`` seconds in any case; each round still samples every running VNFC."""
    await env.deploy()
    sampler = env.sampler()
    read: list[int] = []
    locations = env.nubo.ns.vnfc_locations

    async def counting(**kwargs: Any) -> Any:
        read.append(1)
        return await locations(**kwargs)

    monkeypatch.setattr(env.nubo.ns, "vnfc_locations", counting)
    for _ in range(5):
        assert (await sampler.run_once()).vnfcs == 2
    assert read == [1]
    await env.deploy()  # a new NS: its VNFCs are sampled from the next round
    assert (await sampler.run_once()).vnfcs == 4
    assert (await sampler.run_once()).vnfcs == 4
    assert read == [1, 1]
    always = MetricSampler(env.nubo.ns, env.nubo.vims, env.store, 1.0, lambda: T0, reindex=0)
    await always.run_once()
    await always.run_once()
    assert read == [1, 1, 1, 1]


async def test_a_vnfc_the_vim_cannot_sample_is_reported_not_fatal(env: Env) -> None:
    nsr = await env.deploy()
    server = nsr.vnfr_by_name("sipp-server").vnfcs()[0]
    env.fake.crash(server.vc_id)  # the record still says RUNNING: the VIM refuses
    report = await env.sampler().run_once()
    assert report.vnfcs == 2 and list(report.failed) == [server.id]
    assert report.samples == 6


async def test_one_slow_server_costs_its_sample_not_the_round(env: Env) -> None:
    nsr = await env.deploy()
    server = nsr.vnfr_by_name("sipp-server").vnfcs()[0]
    client = nsr.vnfr_by_name("sipp-client").vnfcs()[0]
    env.fake.set_load(server.vc_id, delay=5.0, cpu_percent=50)
    env.fake.set_load(client.vc_id, cpu_percent=10)

    started = time.monotonic()
    report = await env.sampler(timeout=0.2).run_once()
    elapsed = time.monotonic() - started

    assert elapsed < 1.0, elapsed
    assert "0.2 s" in report.failed[server.id] and client.id not in report.failed
    latest = await env.store.latest(
        Metric.CPU_PERCENT, vnfr_id=nsr.vnfr_by_name("sipp-client").id, max_age=1, now=T0
    )
    assert latest == {client.id: 10.0}


async def test_many_slow_servers_run_concurrently(env: Env) -> None:
    nsr = await env.deploy()
    for vnfc in nsr.all_vnfcs():
        env.fake.set_load(vnfc.vc_id, delay=0.3)
    started = time.monotonic()
    report = await env.sampler(timeout=2.0).run_once()
    assert time.monotonic() - started < 0.55  # not 2 x 0.3 one after the other
    assert not report.failed and report.samples == 12


async def test_latest_ignores_old_samples_and_other_vnfs(env: Env) -> None:
    await env.store.write(
        [s(T0 - 100, 1.0), s(T0 - 2, 2.0), s(T0 - 1, 3.0, "c2"), s(T0, 9.0, "c3", vnfr="f2")]
    )
    newest = env.store.newest_time
    assert await newest(Metric.CPU_PERCENT, vnfr_id="f1", max_age=10, now=T0) == T0 - 1
    assert await newest(Metric.CPU_PERCENT, vnfr_id="f1", max_age=0.5, now=T0) is None
    assert await env.store.latest(Metric.CPU_PERCENT, vnfr_id="f1", max_age=10, now=T0) == {
        "c1": 2.0,
        "c2": 3.0,
    }
    assert await env.store.latest(Metric.CPU_PERCENT, vnfr_id="f1", max_age=1.5, now=T0) == {
        "c2": 3.0
    }
    assert await env.store.latest(Metric.CPU_IDLE, vnfr_id="f1", max_age=10, now=T0) == {}


async def test_series_and_aggregates_filter_by_window_and_scope(env: Env) -> None:
    values = [10.0, 20.0, 30.0, 40.0, 100.0]
    await env.store.write([s(T0 + i, v) for i, v in enumerate(values)])
    await env.store.write([s(T0 + 1, 1000.0, "c9", nsr="other")])
    window: dict[str, Any] = {"since": T0, "until": T0 + 10, "nsr_id": "n1"}

    series = await env.store.series(Metric.CPU_PERCENT, **window)
    assert [x.value for x in series] == values
    assert [
        x.value for x in await env.store.series(Metric.CPU_PERCENT, since=T0 + 1, until=T0 + 2)
    ] == [20.0, 1000.0, 30.0]

    async def agg(a: Aggregate) -> float | None:
        return await env.store.aggregate(Metric.CPU_PERCENT, a, **window)

    assert await agg(Aggregate.AVG) == 40.0
    assert await agg(Aggregate.MIN) == 10.0 and await agg(Aggregate.MAX) == 100.0
    assert await agg(Aggregate.SUM) == 200.0 and await agg(Aggregate.COUNT) == 5.0
    assert await agg(Aggregate.LAST) == 100.0
    assert await agg(Aggregate.P50) == 30.0
    assert await agg(Aggregate.P90) == pytest.approx(76.0)
    assert await agg(Aggregate.P95) == pytest.approx(88.0)
    empty = await env.store.aggregate(Metric.CPU_PERCENT, Aggregate.AVG, since=0, until=1)
    assert empty is None


def test_percentile_matches_linear_interpolation() -> None:
    assert percentile([], 50) is None
    assert percentile([5.0], 99) == 5.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([3.0, 1.0, 2.0], 100) == 3.0
    assert aggregate_values([], Aggregate.COUNT) == 0.0


async def test_prune_rolls_old_raw_rows_into_minutes_and_drops_old_rollups(env: Env) -> None:
    store = SqlMetricStore(env.nubo.database, raw_retention=3600, rollup_retention=86400)
    base = 1_700_000_040.0  # a minute boundary
    old = [s(base + i * 10, v) for i, v in enumerate([10.0, 20.0, 30.0, 40.0, 50.0, 60.0])]
    old += [s(base + 60, 70.0), s(base + 70, 90.0)]  # the next minute, two samples
    fresh = [s(base + 3600, 5.0)]
    await store.write(old + fresh)

    now = base + 120 + 3600  # both old minutes are past the raw retention
    report = await store.prune(now)
    assert (report.rollups_written, report.raw_deleted, report.rollups_deleted) == (2, 8, 0)
    rows = await store.series(Metric.CPU_PERCENT, since=0, until=now)
    assert [(r.time, r.value) for r in rows] == [
        (base, 35.0),
        (base + 60, 80.0),
        (base + 3600, 5.0),
    ]
    window: dict[str, Any] = {"since": 0.0, "until": now}
    assert await store.aggregate(Metric.CPU_PERCENT, Aggregate.MIN, **window) == 5.0
    assert await store.aggregate(Metric.CPU_PERCENT, Aggregate.MAX, **window) == 90.0
    assert (
        await store.aggregate(Metric.CPU_PERCENT, Aggregate.MIN, since=0, until=base + 61) == 10.0
    )

    again = await store.prune(now)  # idempotent: nothing left to roll up
    assert (again.rollups_written, again.raw_deleted) == (0, 0)

    later = await store.prune(base + 86400 + 1)  # first rollup now past its retention
    assert later.rollups_deleted == 1
    rows = await store.series(Metric.CPU_PERCENT, since=0, until=now)
    assert [r.value for r in rows] == [80.0, 5.0]


async def test_prune_never_splits_a_minute(env: Env) -> None:
    store = SqlMetricStore(env.nubo.database, raw_retention=100)
    base = 1_700_000_040.0
    await store.write([s(base + 10, 1.0), s(base + 50, 3.0)])
    # cut-off (now - 100) falls inside the minute: it stays raw
    assert (await store.prune(base + 130)).rollups_written == 0
    assert (await store.prune(base + 160)).rollups_written == 1
    rows = await store.series(Metric.CPU_PERCENT, since=0, until=base + 200)
    assert [(r.time, r.value) for r in rows] == [(base, 2.0)]


async def test_monitoring_loop_samples_and_stops_cleanly(env: Env) -> None:
    nsr = await env.deploy()
    monitoring = build_monitoring(env.nubo.ns, env.nubo.vims, env.nubo.repositories.metrics, 0.05)
    assert isinstance(monitoring, Monitoring)
    for vnfc in nsr.all_vnfcs():
        env.fake.set_load(vnfc.vc_id, cpu_percent=42)
    await monitoring.start()
    await monitoring.start()  # idempotent
    try:
        for _ in range(100):
            values = await monitoring.reader.series(
                Metric.CPU_PERCENT, since=0, until=time.time() + 1, nsr_id=nsr.id
            )
            if len(values) >= 4:
                break
            await asyncio.sleep(0.02)
        assert len(values) >= 4 and {v.value for v in values} == {42.0}
    finally:
        await monitoring.stop()
    assert not monitoring.running
    await monitoring.stop()  # idempotent
