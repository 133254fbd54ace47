"""Monitoring on the real Docker Engine: the CPU-load example VNF stepped up and down."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nubo.app import Nubo
from nubo.model.metrics import Aggregate, Metric
from nubo.model.states import OpState
from nubo.monitor.loops import Monitoring
from nubo.monitor.sampler import MetricSampler
from nubo.store.metrics import SqlMetricStore
from nubo.vim.port import LABEL_VNFC
from tests.conftest import docker_nubo, running

pytestmark = pytest.mark.docker

NSD = Path(__file__).resolve().parents[2] / "examples" / "load" / "nsd.json"


@pytest.fixture
async def nubo(tmp_path: Path, docker_client: Any) -> AsyncIterator[Nubo]:
    async with running(docker_nubo(tmp_path), docker_client) as app:
        yield app


async def cpu_after_rounds(
    monitoring: Monitoring, vnfr_id: str, vnfc_id: str, rounds: int
) -> float:
    """Average cpu.percent of the VNFC over ``rounds`` fresh sampling rounds."""
    since = time.time()
    for _ in range(rounds):
        report = await monitoring.sampler.run_once()
        assert not report.failed, report.failed
        await asyncio.sleep(1.0)
    samples = await monitoring.reader.series(
        Metric.CPU_PERCENT, since=since, until=time.time(), vnfr_id=vnfr_id, vnfc_id=vnfc_id
    )
    assert samples, "no CPU samples"
    average = await monitoring.reader.aggregate(
        Metric.CPU_PERCENT, Aggregate.AVG, since=since, until=time.time(), vnfc_id=vnfc_id
    )
    assert average is not None
    return average


async def test_cpu_percent_follows_the_load_of_a_real_container(
    nubo: Nubo, docker_client: Any
) -> None:
    entry = await nubo.catalogue.onboard(NSD.read_bytes())
    nsr, op = await nubo.ns.instantiate(entry.id, name="load")
    assert (await nubo.runner.wait(op.id, timeout=120)).state == OpState.COMPLETED
    nsr = await nubo.ns.get(nsr.id)
    vnfr = nsr.vnfr_by_name("load")
    vnfc = vnfr.vnfcs()[0]
    [container] = docker_client.containers.list(
        ignore_removed=True, filters={"label": f"{LABEL_VNFC}={vnfc.id}"}
    )

    store = SqlMetricStore(nubo.database)
    sampler = MetricSampler(nubo.ns, nubo.vims, store, 1.0, timeout=5.0)
    monitoring = Monitoring(sampler, store)

    # the driver read the container's counters when it started it: the first
    # round already has a CPU value (and every other metric)
    first = await sampler.run_once()
    assert first.vnfcs == 1 and first.samples == 6, first

    await asyncio.to_thread(container.exec_run, ["set-load", "80"])
    await asyncio.sleep(1.0)
    high = await cpu_after_rounds(monitoring, vnfr.id, vnfc.id, 4)
    assert high > 50, high

    await asyncio.to_thread(container.exec_run, ["set-load", "0"])
    await asyncio.sleep(1.5)
    low = await cpu_after_rounds(monitoring, vnfr.id, vnfc.id, 4)
    assert low < 15, low

    started = time.process_time()
    report = await sampler.run_once()
    print(
        f"\nsampler: 1 Docker VNFC, {report.seconds:.3f} s wall, "
        f"{time.process_time() - started:.4f} s CPU"
    )
    memory = await store.latest(Metric.MEMORY_BYTES, vnfr_id=vnfr.id, max_age=5, now=time.time())
    assert 0 < memory[vnfc.id] < 200 << 20
