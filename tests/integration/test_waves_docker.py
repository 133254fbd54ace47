"""Parallel instantiation on the real Docker Engine: the chain and five independent VNFs.

The driver's ``start_server`` is wrapped to note when each start begins and
when it answered RUNNING, and to hold back the first VNF of the chain (a
deliberately slow source): its target's container must not start before.
"""

from __future__ import annotations

import asyncio
import calendar
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nubo.app import Nubo
from nubo.model.records import NetworkServiceRecord
from nubo.model.states import NsStatus, OpState
from nubo.vim.docker import DockerVimDriver
from nubo.vim.port import Server
from tests.conftest import docker_nubo, running
from tests.sip_checks import labelled, vnfc_container

pytestmark = pytest.mark.docker

TOPOLOGIES = Path(__file__).resolve().parents[2] / "examples" / "topologies"
SLOW_SOURCE = 1.0


class StartNotes:
    """Wraps a driver's ``start_server``: when each start began and answered (wall clock)."""

    def __init__(self, driver: DockerVimDriver, slow: dict[str, float]) -> None:
        self.began: dict[str, float] = {}
        self.running: dict[str, float] = {}
        original = driver.start_server

        async def noted(server_id: str, timeout: float) -> Server:
            name = (await driver.get_server(server_id)).name
            self.began[name] = time.time()
            server = await original(server_id, timeout)
            await asyncio.sleep(next((s for k, s in slow.items() if name.endswith(k)), 0.0))
            self.running[name] = time.time()
            return server

        driver.start_server = noted  # type: ignore[method-assign]

    def of(self, notes: dict[str, float], vnf: str) -> float:
        [moment] = [t for name, t in notes.items() if name.endswith(f"-{vnf}-0")]
        return moment


@pytest.fixture
async def nubo(tmp_path: Path, docker_client: Any) -> AsyncIterator[Nubo]:
    async with running(docker_nubo(tmp_path), docker_client) as app:
        yield app


async def driver_of(nubo: Nubo) -> DockerVimDriver:
    driver = await nubo.vims.driver((await nubo.vims.default()).id)
    assert isinstance(driver, DockerVimDriver)
    return driver


async def deploy(nubo: Nubo, example: str) -> NetworkServiceRecord:
    entry = await nubo.catalogue.onboard((TOPOLOGIES / example).read_bytes())
    nsr, op = await nubo.ns.instantiate(entry.id)
    done = await nubo.runner.wait(op.id, timeout=120)
    assert done.state == OpState.COMPLETED, done.error
    return await nubo.ns.get(nsr.id)


def started_at(docker_client: Any, nsr: NetworkServiceRecord, vnf: str) -> float:
    """When Docker says the VNF's container started (wall clock)."""
    container = vnfc_container(docker_client, nsr.vnfr_by_name(vnf).vnfcs()[0].id)
    stamp = container.attrs["State"]["StartedAt"]  # RFC 3339 with nanoseconds
    seconds, _, fraction = stamp.rstrip("Z").partition(".")
    whole = calendar.timegm(time.strptime(seconds, "%Y-%m-%dT%H:%M:%S"))
    return whole + float("0." + (fraction or "0"))


async def test_the_chain_starts_in_order_behind_a_slow_source(
    nubo: Nubo, docker_client: Any
) -> None:
    notes = StartNotes(await driver_of(nubo), {"-edge-a-0": SLOW_SOURCE})
    nsr = await deploy(nubo, "chain.json")
    assert nsr.status == NsStatus.ACTIVE
    # Docker's own start of each target comes after its source answered RUNNING
    assert started_at(docker_client, nsr, "relay") >= notes.of(notes.running, "edge-a")
    assert started_at(docker_client, nsr, "edge-b") >= notes.of(notes.running, "relay")
    relay = vnfc_container(docker_client, nsr.vnfr_by_name("relay").vnfcs()[0].id)
    edge_a = nsr.vnfr_by_name("edge-a").vnfcs()[0]
    assert f"EDGEA_LEFT={edge_a.addresses['left']}" in relay.attrs["Config"]["Env"]
    relay_vnfc = nsr.vnfr_by_name("relay").vnfcs()[0]
    networks = relay.attrs["NetworkSettings"]["Networks"]
    assert sorted(n["IPAddress"] for n in networks.values()) == sorted(
        relay_vnfc.addresses.values()
    )
    op = await nubo.ns.terminate(nsr.id)
    assert (await nubo.runner.wait(op.id, timeout=120)).state == OpState.COMPLETED
    assert labelled(docker_client, nsr.id) == ([], [])


async def test_independent_vnfs_start_together(nubo: Nubo, docker_client: Any) -> None:
    notes = StartNotes(await driver_of(nubo), {})
    nsr = await deploy(nubo, "independent.json")
    assert nsr.status == NsStatus.ACTIVE
    workers = [f"worker-{i}" for i in range(1, 6)]
    # every start was asked of the engine before the first one answered
    assert max(notes.of(notes.began, w) for w in workers) < min(
        notes.of(notes.running, w) for w in workers
    )
    containers, networks = labelled(docker_client, nsr.id)
    assert len(containers) == 5 and len(networks) == 1
    assert all(c.status == "running" for c in containers)
    op = await nubo.ns.terminate(nsr.id)
    assert (await nubo.runner.wait(op.id, timeout=120)).state == OpState.COMPLETED
    assert labelled(docker_client, nsr.id) == ([], [])
