"""The auto-scaler at rest: a VNF is evaluated again only when new samples came, its
record changed or a moment it waits for has come; the newest values are read
incrementally from the metric store, then from the feed of what this process writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nubo.autoscale.decisions import Outcome
from nubo.autoscale.newest import NewestValues
from nubo.model.metrics import Metric, Sample
from nubo.store.metrics import SqlMetricStore
from tests.conftest import fake_nubo, running
from tests.unit.test_autoscale import Env, cpu_policy, outcomes
from tests.unit.test_autoscale import env as env  # the fixture


def count_evaluations(env: Env, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    evaluated: list[str] = []
    reconcile = env.scaler._reconcile

    async def counting(nsr: Any, vnfr_id: str, *args: Any) -> Any:
        evaluated.append(vnfr_id)
        return await reconcile(nsr, vnfr_id, *args)

    monkeypatch.setattr(env.scaler, "_reconcile", counting)
    return evaluated


async def test_a_pass_without_news_evaluates_nothing(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    await env.deploy([cpu_policy("out", ">=", 80, "SCALE_OUT", "1", period=30)])
    evaluated = count_evaluations(env, monkeypatch)
    env.reader.values[Metric.CPU_PERCENT] = 50.0
    assert outcomes(await env.tick()) == ["NOT_HOLDING"]
    assert len(evaluated) == 1
    env.reader.sampling = False
    for _ in range(10):
        assert await env.tick(1) == []
    assert len(evaluated) == 1  # nothing new: the last decision still holds
    env.reader.sampling = True
    await env.tick(1)
    assert len(evaluated) == 1  # a new sample with the same value changes nothing
    env.reader.values[Metric.CPU_PERCENT] = 60.0
    await env.tick(1)
    assert len(evaluated) == 2  # a new value: evaluated again
    for _ in range(20):
        await env.tick(1)  # the same value again and again: valid longer, nothing else
    assert len(evaluated) == 2  # not even when the evaluated sample itself aged out
    env.reader.sampling = False
    for _ in range(16):
        await env.tick(1)
    assert len(evaluated) == 3  # the newest sample aged out: no samples any more


async def test_a_vnf_resting_at_its_minimum_is_not_evaluated_on_every_pass(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    # an idle VNF: its scale-in policy holds, but it already runs its fewest VNFCs
    await env.deploy([cpu_policy("in", "<=", 10, "SCALE_IN", "1", period=10)])
    evaluated = count_evaluations(env, monkeypatch)
    env.reader.values[Metric.CPU_PERCENT] = 1.0
    assert outcomes(await env.tick()) == ["HOLDING"]
    assert outcomes(await env.tick(10)) == ["AT_BOUND"]
    assert len(evaluated) == 2
    for _ in range(60):
        assert await env.tick(1) == []  # samples keep coming, all with the same value
    assert len(evaluated) == 2  # the period that ended is no reason to look again
    env.reader.values[Metric.CPU_PERCENT] = 50.0
    assert outcomes(await env.tick(1)) == ["NOT_HOLDING"]
    assert len(evaluated) == 3


async def test_the_period_ends_without_a_new_sample(env: Env) -> None:
    nsr = await env.deploy([cpu_policy("out", ">=", 80, "SCALE_OUT", "1", period=10)])
    env.reader.values[Metric.CPU_PERCENT] = 95.0
    assert outcomes(await env.tick()) == ["HOLDING"]
    env.reader.sampling = False  # the value stays valid for max_age (15 s)
    assert await env.tick(9) == []
    assert outcomes(await env.tick(1)) == ["SCALED_OUT"]
    assert await env.count(nsr.id) == 2


async def test_a_value_ages_out_without_a_new_sample(env: Env) -> None:
    await env.deploy([cpu_policy("out", ">=", 80, "SCALE_OUT", "1", period=60)])
    env.reader.values[Metric.CPU_PERCENT] = 95.0
    assert outcomes(await env.tick()) == ["HOLDING"]
    env.reader.sampling = False
    assert await env.tick(14) == []
    [gone] = await env.tick(1.5)  # older than max_age (15 s): no samples any more
    assert gone.outcome == Outcome.NO_SAMPLES


async def test_newest_values_read_only_what_was_written_since(tmp_path: Path) -> None:
    async with running(fake_nubo(tmp_path)) as app:
        store = SqlMetricStore(app.database)
        newest = NewestValues(store, max_age=15)
        cpu, mem = Metric.CPU_PERCENT, Metric.MEMORY_BYTES
        await store.write(
            [
                Sample(90.0, "ns", "vnf-a", "c1", cpu, 10.0),
                Sample(100.0, "ns", "vnf-a", "c1", cpu, 20.0),
                Sample(100.0, "ns", "vnf-a", "c1", mem, 5.0),  # not asked for
                Sample(101.0, "ns", "vnf-b", "c2", cpu, 30.0),
                Sample(50.0, "ns", "vnf-b", "c3", cpu, 40.0),  # too old at 105
            ]
        )
        assert await newest.refresh({cpu}, now=105.0) == {"vnf-a", "vnf-b"}
        assert newest.values("vnf-a", cpu, {"c1"}, now=105.0) == {"c1": (100.0, 20.0)}
        assert newest.values("vnf-a", cpu, {"c1"}, now=95.0) == {"c1": (90.0, 10.0)}
        assert newest.values("vnf-a", cpu, set(), now=105.0) == {}  # c1 is no longer live
        assert newest.values("vnf-b", cpu, {"c2", "c3"}, now=105.0) == {"c2": (101.0, 30.0)}
        assert newest.next_change("vnf-a", {cpu}, now=105.0) == 115.0  # 100 + max_age
        assert await newest.refresh({cpu}, now=106.0) == set()  # nothing new
        await store.write([Sample(107.0, "ns", "vnf-b", "c2", cpu, 31.0)])
        assert await newest.refresh({cpu}, now=108.0) == {"vnf-b"}
        assert newest.values("vnf-b", cpu, {"c2"}, now=108.0) == {"c2": (107.0, 31.0)}
        # a metric not followed so far: its recent past is read too
        assert await newest.refresh({cpu, mem}, now=108.0) == {"vnf-a", "vnf-b"}
        assert newest.values("vnf-a", mem, {"c1"}, now=108.0) == {"c1": (100.0, 5.0)}
        # an hour later every point has aged out and is forgotten
        assert await newest.refresh({cpu, mem}, now=4000.0) == set()
        assert newest.values("vnf-b", cpu, {"c2"}, now=4000.0) == {}
        assert newest._points == {}


async def test_newest_values_take_what_this_process_writes_without_querying(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(fake_nubo(tmp_path)) as app:
        store = SqlMetricStore(app.database)
        queries: list[int | None] = []
        written_after = store.written_after

        async def counting(cursor: int | None, *args: Any, **kwargs: Any) -> Any:
            queries.append(cursor)
            return await written_after(cursor, *args, **kwargs)

        monkeypatch.setattr(store, "written_after", counting)
        newest = NewestValues(store, max_age=15)
        cpu = Metric.CPU_PERCENT
        await store.write([Sample(100.0, "ns", "vnf-a", "c1", cpu, 20.0)])
        assert await newest.refresh({cpu}, now=101.0) == {"vnf-a"}
        assert len(queries) == 1  # the recent past, read once
        for at in range(102, 110):
            await store.write(
                [
                    Sample(float(at), "ns", "vnf-a", "c1", cpu, float(at)),
                    Sample(float(at), "ns", "vnf-a", "c1", Metric.MEMORY_BYTES, 1.0),
                ]
            )
            assert await newest.refresh({cpu}, now=at + 0.5) == {"vnf-a"}
            assert newest.values("vnf-a", cpu, {"c1"}, now=at + 0.5) == {"c1": (at, at)}
        await store.write([Sample(109.0, "ns", "vnf-a", "c1", cpu, 109.0)])  # a repeat
        assert await newest.refresh({cpu}, now=109.5) == set()
        assert len(queries) == 1  # every sample since came from the feed
        # another process's writes are in the table only: read when the loop starts again
        other = SqlMetricStore(app.database)
        await other.write([Sample(110.0, "ns", "vnf-b", "c2", cpu, 7.0)])
        assert await newest.refresh({cpu}, now=110.5) == set()
        newest.close()
        assert await newest.refresh({cpu}, now=111.0) == {"vnf-a", "vnf-b"}
        assert len(queries) == 2
        assert newest.values("vnf-b", cpu, {"c2"}, now=111.0) == {"c2": (110.0, 7.0)}
        # a feed nobody takes from drops what it holds past its limit: read again
        assert newest._feed is not None
        newest._feed.limit = 3
        await store.write([Sample(112.0 + i / 10, "ns", "vnf-a", "c1", cpu, i) for i in range(5)])
        assert newest._feed.overflowed
        assert await newest.refresh({cpu}, now=113.0) == {"vnf-a", "vnf-b"}
        assert len(queries) == 3
        assert newest.values("vnf-a", cpu, {"c1"}, now=113.0) == {"c1": (112.4, 4.0)}
        newest.close()
        assert store._feeds == []  # closed feeds get nothing more


async def test_a_pass_at_rest_looks_at_no_vnf(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    policy = cpu_policy("in", "<=", 10, "SCALE_IN", "1", period=10)
    nsrs = [await env.deploy([policy]) for _ in range(3)]
    looked: list[str] = []
    due = env.scaler._due

    def counting(track: Any, nsr: Any, vnfr_id: str, *args: Any) -> bool:
        looked.append(nsr.id)
        return due(track, nsr, vnfr_id, *args)

    monkeypatch.setattr(env.scaler, "_due", counting)
    env.reader.values[Metric.CPU_PERCENT] = 1.0
    assert outcomes(await env.tick()) == ["HOLDING"] * 3
    assert sorted(looked) == sorted(nsr.id for nsr in nsrs)  # each NS in its turn
    assert outcomes(await env.tick(10)) == ["AT_BOUND"] * 3
    looked.clear()
    evaluated = count_evaluations(env, monkeypatch)
    for _ in range(30):
        assert await env.tick(1) == []  # the same values keep coming
    assert evaluated == []
    # a VNF is looked at when its evaluated value ages out (max_age, 15 s), and found
    # to hold repeats of it: twice each in 30 s, not on each of the 30 passes
    assert sorted(looked) == sorted(nsr.id for nsr in nsrs for _ in range(2))
    # one NS changes (another operation scales it): only that one is evaluated again
    vnfr = nsrs[1].vnfr_by_name("sipp-client")
    op = await env.app.ns.scale_out(nsrs[1].id, vnfr.id, vnfr.vdu[0].id)
    assert (await env.app.runner.wait(op.id, timeout=10)).state.value == "COMPLETED"
    await env.tick(1)
    assert evaluated and set(evaluated) <= {v.id for v in nsrs[1].vnfr}


async def test_a_pass_at_rest_compares_no_revisions_until_the_resync(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At rest a pass asks one fingerprint row, not a revision per NS; an NS written
    behind the auto-scaler's back (another replica, a record repaired) is seen at the
    next pass, and the revisions are compared in full every ``resync`` seconds anyway."""
    policy = cpu_policy("in", "<=", 10, "SCALE_IN", "1", period=10)
    nsrs = [await env.deploy([policy]) for _ in range(2)]
    compared: list[int] = []
    revisions = env.app.ns.revisions_by_nsd

    async def counting(statuses: Any) -> Any:
        compared.append(1)
        return await revisions(statuses)

    monkeypatch.setattr(env.app.ns, "revisions_by_nsd", counting)
    env.reader.values[Metric.CPU_PERCENT] = 50.0
    await env.tick()
    assert compared == [1]
    compared.clear()
    for _ in range(10):
        await env.tick(1)
    assert compared == []
    # another writer: the record changes without this process's operations
    nsr = await env.app.ns.get(nsrs[0].id)
    await env.app.repositories.nsrs.save_nsr(nsr)  # the record's revision moves on
    await env.tick(1)
    assert compared == [1]
    assert env.scaler.watched._copies[nsr.id].revision == nsr.revision  # read again
    compared.clear()
    await env.tick(env.scaler.watched.resync)
    assert compared == [1]
