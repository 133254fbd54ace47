"""The auto-scaler over the in-memory VIM with a fake metrics reader and an injected clock."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from nubo.api.autoscale import router as autoscale_router
from nubo.app import Nubo
from nubo.autoscale.decisions import DecisionLog, Outcome, ScalingDecision
from nubo.autoscale.engine import COOLDOWNS, AutoScaler
from nubo.autoscale.loops import AutoScaling, build_autoscaling
from nubo.cli.client import CliConfig
from nubo.cli.main import main
from nubo.model.metrics import Aggregate, Metric, Sample
from nubo.model.records import NetworkServiceRecord
from nubo.model.states import OpState
from nubo.store.decisions import SqlDecisionStore
from nubo.store.memory import SqlLoopMemory
from nubo.store.port import SampleFeed
from nubo.vim.fake import FakeVimDriver
from tests.auth import bearer, token_for
from tests.conftest import fake_nubo

NSD = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"
CLIENT = "sipp-client"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeReader:
    """The MetricsReader of nubo.monitor.query, as if every live VNFC had been sampled just
    before each pass: one value per metric in ``values``, taken ``sample_age`` seconds ago."""

    def __init__(self, app: Nubo, clock: Clock) -> None:
        self.app = app
        self.clock = clock
        self.values: dict[Metric, float] = {}
        #: how long before the pass the newest sample was taken
        self.sample_age = 0.0
        #: (metrics asked, since) of every written_after call
        self.calls: list[tuple[frozenset[Metric], float]] = []
        #: off: no VNFC is sampled any more (the values taken so far age out)
        self.sampling = True
        self._written = 0

    async def written_after(
        self, cursor: int | None, metrics: Collection[Metric], *, since: float, limit: int = 10_000
    ) -> tuple[list[Sample], int | None]:
        self.calls.append((frozenset(metrics), since))
        if not self.sampling:
            return [], cursor
        at = self.clock.now - self.sample_age
        samples = [
            Sample(at, nsr.id, vnfr.id, vnfc.id, metric, self.values[metric])
            for nsr in await self.app.ns.list()
            for vnfr in nsr.vnfr
            for vnfc in vnfr.vnfcs()
            for metric in metrics
            if metric in self.values
        ]
        self._written += len(samples)
        return samples, self._written

    def follow(self, metrics: Collection[Metric]) -> None:
        return None  # read on every pass, as if sampled just before it

    def unfollow(self, feed: SampleFeed) -> None:
        raise AssertionError("no feed was opened")

    async def latest(
        self, metric: Metric, *, vnfr_id: str, max_age: float, now: float
    ) -> dict[str, float]:
        return {}

    async def newest_time(
        self, metric: Metric, *, vnfr_id: str, max_age: float, now: float
    ) -> float | None:
        return None

    async def series(self, metric: Metric, **_: Any) -> list[Sample]:
        return []

    async def aggregate(self, metric: Metric, aggregate: Aggregate, **_: Any) -> float | None:
        return None


@dataclass
class Env:
    app: Nubo
    fake: FakeVimDriver
    reader: FakeReader
    clock: Clock
    log: DecisionLog
    scaler: AutoScaler
    nsd_id: str = ""

    async def deploy(self, policies: list[dict[str, Any]] | None = None) -> NetworkServiceRecord:
        document = json.loads(NSD.read_text())
        if policies is not None:
            document["vnfd"][0]["auto_scale_policy"] = policies
        entry = await self.app.catalogue.onboard(json.dumps(document).encode())
        nsr, op = await self.app.ns.instantiate(entry.id, name="sipp")
        assert (await self.app.runner.wait(op.id, timeout=10)).state == OpState.COMPLETED
        return await self.app.ns.get(nsr.id)

    async def tick(self, seconds: float = 0) -> list[ScalingDecision]:
        """Advance the clock, run one pass, let the operations it launched end."""
        self.clock.advance(seconds)
        decided = await self.scaler.run_once()
        for op_id in self.app.runner.running():
            assert (await self.app.runner.wait(op_id, timeout=10)).state == OpState.COMPLETED
        return decided

    async def count(self, nsr_id: str) -> int:
        return len((await self.app.ns.get(nsr_id)).vnfr_by_name(CLIENT).vnfcs())


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    app = fake_nubo(tmp_path, start_timeout=2)
    await app.start()
    fake = await app.vims.driver((await app.vims.default()).id)
    assert isinstance(fake, FakeVimDriver)
    clock = Clock()
    reader = FakeReader(app, clock)
    log = DecisionLog(SqlDecisionStore(app.database))
    scaler = AutoScaler(app.ns, reader, log, app.catalogue.parsed, clock, max_age=15)
    try:
        yield Env(app, fake, reader, clock, log, scaler)
    finally:
        await app.stop()


def cpu_policy(
    name: str,
    op: str,
    threshold: float,
    action: str,
    value: str,
    period: int = 0,
    cooldown: int = 60,
) -> dict[str, Any]:
    return {
        "name": name,
        "threshold": 100,
        "comparisonOperator": ">=",
        "period": period,
        "cooldown": cooldown,
        "type": "VOTED",
        "alarms": [
            {
                "metric": "cpu.percent",
                "statistic": "avg",
                "comparisonOperator": op,
                "threshold": threshold,
                "weight": 1,
            }
        ],
        "actions": [{"type": action, "value": value}],
    }


def outcomes(decisions: list[ScalingDecision]) -> list[str]:
    return [d.outcome.value for d in decisions]


async def test_app_c_sipp_client_scales_out_to_five_with_cooldown_then_back_in(env: Env) -> None:
    nsr = await env.deploy()  # examples/sipp/nsd.json: the App. C policies, unchanged
    env.reader.values[Metric.CPU_IDLE] = 20.0  # system.cpu.util[,idle] <= 40: busy
    launched: list[tuple[float, int]] = []
    for _ in range(60):
        for d in await env.tick(10):
            if d.outcome == Outcome.SCALED_OUT:
                launched.append((d.time, d.vnfc_count))
        assert await env.count(nsr.id) <= 5
    assert [count for _, count in launched] == [1, 2, 3, 4]
    gaps = [b[0] - a[0] for a, b in itertools.pairwise(launched)]
    assert all(gap >= 60 for gap in gaps), gaps  # the cooldown
    assert await env.count(nsr.id) == 5
    vnfr = (await env.app.ns.get(nsr.id)).vnfr_by_name(CLIENT)
    recorded = await env.log.list(nsr.id, vnfr_id=vnfr.id, limit=1000)
    seen = set(outcomes(recorded))
    assert {"HOLDING", "SCALED_OUT", "COOLDOWN", "AT_BOUND", "NOT_HOLDING"} <= seen
    out = next(d for d in recorded if d.outcome == Outcome.SCALED_OUT)
    assert out.op_id and out.vdu_id and out.target == out.vnfc_count + 1
    [alarm] = out.alarms
    assert alarm.metric == "system.cpu.util[,idle]" and alarm.resolved_metric == "cpu.idle"
    assert alarm.value == 20.0 and alarm.holds and out.share == 100.0 and out.threshold == 100
    asked, since = env.reader.calls[-1]
    assert asked == {Metric.CPU_IDLE} and since == env.clock.now - 15  # max_age

    env.reader.values[Metric.CPU_IDLE] = 90.0  # idle: the scale-in policy holds
    ins = []
    for _ in range(60):
        ins += [d for d in await env.tick(10) if d.outcome == Outcome.SCALED_IN]
    assert [d.vnfc_count for d in ins] == [5, 4, 3, 2]
    assert await env.count(nsr.id) == 1
    latest = await env.log.list(nsr.id, limit=1)
    assert latest[0].policy == "scale-in" and latest[0].outcome == Outcome.AT_BOUND
    assert latest[0].reason == "already at the minimum of 1 VNFC(s)"


async def test_period_holding_then_scales(env: Env) -> None:
    nsr = await env.deploy([cpu_policy("out", ">=", 80, "SCALE_OUT", "1", period=30)])
    env.reader.values[Metric.CPU_PERCENT] = 95.0
    [first] = await env.tick()
    assert first.outcome == Outcome.HOLDING and first.holding_since == env.clock.now
    assert await env.tick(29) == []  # still HOLDING: not recorded again
    env.reader.values[Metric.CPU_PERCENT] = 50.0
    assert outcomes(await env.tick(1)) == ["NOT_HOLDING"]  # the count restarts
    env.reader.values[Metric.CPU_PERCENT] = 95.0
    assert outcomes(await env.tick(1)) == ["HOLDING"]
    assert await env.tick(29) == []
    assert await env.count(nsr.id) == 1
    [scaled] = await env.tick(1)
    assert scaled.outcome == Outcome.SCALED_OUT and await env.count(nsr.id) == 2


async def test_period_runs_from_the_measurement_not_from_the_pass(env: Env) -> None:
    nsr = await env.deploy([cpu_policy("out", ">=", 80, "SCALE_OUT", "1", period=10)])
    env.reader.values[Metric.CPU_PERCENT] = 95.0
    env.reader.sample_age = 0.8  # the sample showing the load was taken 0.8 s before the pass
    [first] = await env.tick()
    assert first.outcome == Outcome.HOLDING
    assert first.holding_since == pytest.approx(env.clock.now - 0.8)
    assert await env.tick(9) == []  # 9.8 s of data: not yet
    [scaled] = await env.tick(0.3)  # 10.1 s since the measurement
    assert scaled.outcome == Outcome.SCALED_OUT and await env.count(nsr.id) == 2


async def test_second_trigger_within_cooldown_is_recorded_cooldown(env: Env) -> None:
    nsr = await env.deploy([cpu_policy("out", ">=", 80, "SCALE_OUT", "1", cooldown=60)])
    env.reader.values[Metric.CPU_PERCENT] = 95.0
    assert outcomes(await env.tick()) == ["SCALED_OUT"]
    [cooling] = await env.tick(5)  # the step ended: cooldown from now
    assert cooling.outcome == Outcome.COOLDOWN and cooling.cooldown_until == env.clock.now + 60
    assert await env.tick(30) == []  # unchanged: not repeated
    assert outcomes(await env.tick(29)) == []
    assert await env.count(nsr.id) == 2
    assert outcomes(await env.tick(1)) == ["SCALED_OUT"]
    assert await env.count(nsr.id) == 3


async def test_scale_to_steps_to_the_target_then_at_bound(env: Env) -> None:
    nsr = await env.deploy([cpu_policy("to5", ">=", 80, "SCALE_TO", "7", cooldown=10)])
    env.reader.values[Metric.CPU_PERCENT] = 95.0
    steps = []
    for _ in range(6):
        steps += await env.tick(1)
    # one step per pass; the pass that sees the target reached evaluates again
    assert outcomes(steps) == ["SCALED_OUT"] * 4 + ["AT_BOUND"]
    assert [d.target for d in steps] == [5] * 5  # 7 clamped to scale_in_out
    assert [d.vnfc_count for d in steps] == [1, 2, 3, 4, 5]
    assert await env.count(nsr.id) == 5
    at_bound = steps[-1]
    assert at_bound.max_count == 5 and at_bound.reason == "already at the maximum of 5 VNFC(s)"
    assert await env.tick(30) == []
    assert outcomes(await env.tick(31)) == ["AT_BOUND"]  # reminded after repeat_after


async def test_scale_in_never_below_one(env: Env) -> None:
    nsr = await env.deploy([cpu_policy("in", "<=", 10, "SCALE_IN_TO", "0")])
    env.reader.values[Metric.CPU_PERCENT] = 1.0
    [d] = await env.tick()
    assert d.outcome == Outcome.AT_BOUND and d.target == 1 and d.min_count == 1
    assert await env.count(nsr.id) == 1


async def test_a_scale_in_held_at_the_minimum_is_recorded_once(env: Env) -> None:
    # an idle VNF rests at its minimum: no decision per VNF every repeat_after, for ever
    nsr = await env.deploy([cpu_policy("in", "<=", 10, "SCALE_IN", "1")])
    env.reader.values[Metric.CPU_PERCENT] = 1.0
    assert outcomes(await env.tick()) == ["AT_BOUND"]
    for _ in range(10):
        assert await env.tick(31) == []
    env.reader.values[Metric.CPU_PERCENT] = 50.0
    assert outcomes(await env.tick(1)) == ["NOT_HOLDING"]
    env.reader.values[Metric.CPU_PERCENT] = 1.0
    assert outcomes(await env.tick(1)) == ["AT_BOUND"]  # a new rest is recorded again
    assert await env.count(nsr.id) == 1


async def test_decisions_past_their_retention_are_deleted(env: Env) -> None:
    await env.deploy([cpu_policy("out", ">=", 80, "SCALE_OUT", "1")])
    loop = AutoScaling(env.scaler, retention=100)
    assert outcomes(await env.tick()) == ["NO_SAMPLES"]
    assert await loop.prune_once() == 0  # younger than the retention
    env.reader.values[Metric.CPU_PERCENT] = 10.0
    assert outcomes(await env.tick(60)) == ["NOT_HOLDING"]
    assert await loop.prune_once() == 0  # both younger than 100 s
    env.clock.advance(30)
    assert await loop.prune_once() == 0  # the last deletion was 30 s ago: not yet
    env.clock.advance(30)  # the first decision is 120 s old, the second 60 s
    assert await loop.prune_once() == 1
    assert outcomes(await env.log.list(limit=10)) == ["NOT_HOLDING"]


async def test_no_samples_recorded_once_and_nothing_scales(env: Env) -> None:
    nsr = await env.deploy([cpu_policy("out", ">=", 80, "SCALE_OUT", "1")])
    [d] = await env.tick()
    assert d.outcome == Outcome.NO_SAMPLES and d.reason == "no samples of cpu.percent"
    assert d.alarms[0].value is None and d.vnfc_count == 1
    for _ in range(5):
        assert await env.tick(1) == []
    env.reader.values[Metric.CPU_PERCENT] = 10.0
    [d] = await env.tick(1)
    assert d.outcome == Outcome.NOT_HOLDING and d.alarms[0].value == 10.0
    assert "share 0% not >= 100%" in d.reason
    assert await env.count(nsr.id) == 1


async def test_busy_ns_is_recorded_and_retried(env: Env) -> None:
    nsr = await env.deploy([cpu_policy("out", ">=", 80, "SCALE_OUT", "1")])
    env.reader.values[Metric.CPU_PERCENT] = 95.0
    await env.app.runner.locks.acquire(nsr.id, "someone-else")
    [busy] = await env.tick()
    assert busy.outcome == Outcome.BUSY and "someone-else" in busy.reason
    assert await env.tick(1) == []
    await env.app.runner.locks.release(nsr.id, "someone-else")
    assert outcomes(await env.tick(1)) == ["SCALED_OUT"]


async def test_failed_scale_out_is_recorded_with_its_operation(env: Env) -> None:
    nsr = await env.deploy([cpu_policy("out", ">=", 80, "SCALE_OUT", "1", cooldown=30)])
    env.reader.values[Metric.CPU_PERCENT] = 95.0
    env.fake.fail_start_for.add("nubo/sipp-client:latest")
    [launched] = await env.scaler.run_once()
    assert launched.outcome == Outcome.SCALED_OUT
    for op_id in env.app.runner.running():
        await env.app.runner.wait(op_id, timeout=10)
    decided = await env.tick(1)
    failed = next(d for d in decided if d.outcome == Outcome.FAILED)
    assert failed.op_id == launched.op_id and "ended" in failed.reason
    assert await env.count(nsr.id) == 1
    env.fake.fail_start_for.clear()
    assert Outcome.SCALED_OUT not in outcomes(await env.tick(10))  # cooldown after a failure
    assert outcomes(await env.tick(30))[-1] == "SCALED_OUT"


async def test_api_and_cli_show_the_decisions(env: Env) -> None:
    nsr = await env.deploy()
    env.reader.values[Metric.CPU_IDLE] = 20.0
    await env.tick()
    await env.tick(30)
    api = env.app.api()
    api.include_router(autoscale_router)  # wired by nubo.api.server once merged
    transport = httpx.ASGITransport(app=api)
    headers = bearer(await token_for(env.app))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://nubo", headers=headers
    ) as http:
        url = f"/api/v1/ns-records/{nsr.id}/scaling-decisions"
        disabled = await http.get(url)
        assert disabled.status_code == 503 and disabled.json()["code"] == "AUTOSCALING_DISABLED"
        api.state.services.autoscaling = AutoScaling(env.scaler)
        body = (await http.get(url)).json()
        assert [d["outcome"] for d in body][:2] == ["SCALED_OUT", "HOLDING"]
        assert body[0]["alarms"][0]["metric"] == "system.cpu.util[,idle]"
        assert len((await http.get(url, params={"limit": 1})).json()) == 1
        assert (await http.get(url, params={"vnf": "sipp-server"})).json() == []
        assert len((await http.get(url, params={"vnf": CLIENT})).json()) >= 2
        later = (await http.get(url, params={"since": env.clock.now})).json()
        assert [d["outcome"] for d in later] == ["SCALED_OUT"]
        assert (await http.get("/api/v1/ns-records/nope/scaling-decisions")).status_code == 404
        assert (await http.get(url, params={"limit": 0})).status_code == 400
        assert (await http.get(url, params={"vnf": "nope"})).status_code == 404

        def handler(request: httpx.Request) -> httpx.Response:
            assert request.url.path == url and request.url.params["vnf"] == CLIENT
            return httpx.Response(200, json=body)

        config = CliConfig(transport=httpx.MockTransport(handler), sleep=lambda _s: None)
        args = ["autoscale", "decisions", nsr.id, "--vnf", CLIENT]
        result = await asyncio.to_thread(CliRunner().invoke, main, args, obj=config)
        assert result.exit_code == 0, result.output
        for text in ("SCALED_OUT", "HOLDING", "scale-out", "avg(cpu.idle)=20 <= 40", "100% >="):
            assert text in result.output
        config = CliConfig(transport=httpx.MockTransport(handler), sleep=lambda _s: None)
        result = await asyncio.to_thread(CliRunner().invoke, main, [*args, "--json"], obj=config)
        assert json.loads(result.output) == body


async def test_loop_scales_on_its_own_and_stops_cleanly(env: Env) -> None:
    nsr = await env.deploy([cpu_policy("to3", ">=", 80, "SCALE_TO", "3")])
    env.reader.values[Metric.CPU_PERCENT] = 95.0
    loop = AutoScaling(env.scaler, interval=0.01)
    await loop.start()
    try:
        for _ in range(500):
            if await env.count(nsr.id) == 3 and not env.app.runner.running():
                break
            await asyncio.sleep(0.01)
        assert await env.count(nsr.id) == 3
    finally:
        await loop.stop()
    assert not loop.running
    assert not [t for t in asyncio.all_tasks() if t.get_name() == "autoscale-periodic"]


async def test_build_autoscaling_wires_the_sql_store(env: Env) -> None:
    repositories = env.app.repositories
    built = build_autoscaling(
        env.app.ns,
        env.reader,
        repositories.decisions,
        env.app.catalogue.parsed,
        memory=repositories.memory,
    )
    assert built.decisions.list is not None and built.interval == 1.0
    assert built.scaler.memory is repositories.memory
    await env.deploy([cpu_policy("out", ">=", 80, "SCALE_OUT", "1")])
    await built.scaler.run_once()
    [d] = await built.decisions.list()
    assert d.outcome == Outcome.NO_SAMPLES


async def test_the_loop_wakes_when_a_period_ends(env: Env) -> None:
    await env.deploy([cpu_policy("out", ">=", 80, "SCALE_OUT", "1", period=10)])
    env.reader.values[Metric.CPU_PERCENT] = 95.0
    loop = AutoScaling(env.scaler, interval=1.0)
    assert loop._pause() == 1.0  # nothing holding yet
    await env.tick()
    env.clock.advance(9.6)
    assert env.scaler.next_due(env.clock.now) == pytest.approx(env.clock.now + 0.4)
    assert loop._pause() == pytest.approx(0.41)
    env.clock.advance(1)  # past the end: no busy loop on a period already over
    assert loop._pause() == 1.0


async def test_a_cooldown_outlives_the_scaler_that_started_it(env: Env) -> None:
    """Another replica leading the loops (a new scaler on the same database) keeps it."""
    memory = SqlLoopMemory(env.app.database)
    env.scaler = AutoScaler(
        env.app.ns, env.reader, env.log, env.app.catalogue.parsed, env.clock, memory=memory
    )
    nsr = await env.deploy([cpu_policy("out", ">=", 80, "SCALE_OUT", "1", cooldown=60)])
    env.reader.values[Metric.CPU_PERCENT] = 95.0
    assert outcomes(await env.tick()) == ["SCALED_OUT"]
    [cooling] = await env.tick(5)
    until = env.clock.now + 60
    assert cooling.outcome == Outcome.COOLDOWN and cooling.cooldown_until == until

    env.scaler = AutoScaler(
        env.app.ns, env.reader, env.log, env.app.catalogue.parsed, env.clock, memory=memory
    )
    decided = await env.tick(10)
    assert [(d.outcome, d.cooldown_until) for d in decided] == [(Outcome.COOLDOWN, until)]
    assert await env.count(nsr.id) == 2
    assert outcomes(await env.tick(50)) == ["SCALED_OUT"]  # over: the new scaler acts
    assert await env.count(nsr.id) == 3

    # ended cooldowns are not kept: only the one the second scale-out starts remains
    await env.tick(1)  # the step is seen ended: its cooldown starts
    [(key, body)] = (await memory.load(COOLDOWNS)).items()
    assert key.startswith(nsr.id) and body["until"] > env.clock.now
