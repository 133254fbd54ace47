"""After the Docker daemon restarts, nubo notices, restarts what should run, and alarms clear.

This test really restarts `dockerd` (every container on the machine stops), so
it runs only where NUBO_TEST_DOCKERD_RESTART=1 (the project's test command sets
it) and as root; it is named to run after the other Docker tests.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import docker
import pytest

from nubo.app import Nubo
from nubo.model.alarms import ProbableCause
from nubo.model.states import NsStatus, OpState, VnfcState
from nubo.vim.port import LABEL_NS
from tests.conftest import DOCKER_ENDPOINT, docker_nubo, running
from tests.sip_checks import sip_stats, vnfc_container, wait_for_calls

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(
        os.environ.get("NUBO_TEST_DOCKERD_RESTART") != "1" or os.geteuid() != 0,
        reason="restarts dockerd: set NUBO_TEST_DOCKERD_RESTART=1 and run as root",
    ),
]

NSD = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"


def restart_dockerd() -> None:
    """Stop the running dockerd with SIGTERM and start it again with the same command line."""
    pid = int(
        subprocess.run(
            ["pgrep", "-xo", "dockerd"], capture_output=True, text=True, check=True
        ).stdout.split()[0]
    )
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    argv = [part.decode() for part in cmdline if part]
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while Path(f"/proc/{pid}").exists():
        if time.monotonic() > deadline:
            raise AssertionError("dockerd did not stop within 60 s")
        time.sleep(0.1)
    with Path("/var/log/nubo-dockerd.log").open("ab") as log:
        subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            client = docker.DockerClient(base_url=DOCKER_ENDPOINT, version="auto", timeout=5)
        except docker.errors.DockerException:
            if time.monotonic() > deadline:
                raise AssertionError("dockerd did not come back within 60 s") from None
            time.sleep(0.2)
            continue
        client.close()
        return


async def wait_for(check: Callable[[], Awaitable[bool]], timeout: float, why: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {why}")


@pytest.fixture
async def nubo(tmp_path: Path, docker_client: Any) -> AsyncIterator[Nubo]:
    app = docker_nubo(tmp_path, background=True, fault_interval=0.5)
    async with running(app, docker_client):
        yield app


async def test_service_recovers_after_dockerd_restart(nubo: Nubo, docker_client: Any) -> None:
    entry = await nubo.catalogue.onboard(NSD.read_bytes())
    nsr, op = await nubo.ns.instantiate(entry.id)
    assert (await nubo.runner.wait(op.id, timeout=120)).state == OpState.COMPLETED
    record = await nubo.ns.get(nsr.id)
    client_vnfc = record.vnfr_by_name("sipp-client").vnfcs()[0]
    await asyncio.to_thread(wait_for_calls, vnfc_container(docker_client, client_vnfc.id))

    await asyncio.to_thread(restart_dockerd)

    async def healthy() -> bool:
        current = await nubo.ns.get(nsr.id)
        if current.status != NsStatus.ACTIVE:
            return False
        if any(c.state != VnfcState.RUNNING for c in current.all_vnfcs()):
            return False
        running = docker_client.containers.list(
            ignore_removed=True, filters={"label": f"{LABEL_NS}={nsr.id}"}
        )
        return len(running) == 2 and not await nubo.fault.alarms.list(active_only=True)

    await wait_for(healthy, 90, "the NS to run again with every alarm cleared")
    alarms = await nubo.fault.alarms.list(nsr_id=nsr.id)
    assert alarms, "the stopped VNFCs were never alarmed"
    assert {a.probable_cause for a in alarms} <= {
        ProbableCause.VNFC_EXITED,
        ProbableCause.VNFC_FAILED,
        ProbableCause.VNFC_VANISHED,
    }
    heals = [o for o in await nubo.ns.operations(nsr.id) if o.operation.value == "HEAL"]
    assert heals and all(h.state == OpState.COMPLETED for h in heals[:1])

    client = vnfc_container(docker_client, client_vnfc.id)
    await asyncio.sleep(1)
    first = await asyncio.to_thread(sip_stats, client)
    await asyncio.sleep(3)
    later = await asyncio.to_thread(sip_stats, client)
    assert first is not None and later is not None
    assert later[0] > first[0], f"no new successful SIP calls after the restart: {first} {later}"
