"""The Docker Engine's own restarts of VNFC containers, with nubo's fault management on.

A host ``kill -9`` of a container's init process is a crash the engine's
restart policy answers (``die`` then ``start``); nubo must alarm it, record
it as a HEAL occurrence and not race the engine. A VNFC stopped through nubo
must stay stopped, and a process that keeps dying must end in HEAL_FAILED
after a bounded number of restarts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from nubo.app import Nubo
from nubo.model.alarms import ProbableCause
from nubo.model.records import LcmOpOcc
from nubo.model.states import LcmOperationType, OpState, VnfcState
from nubo.vim.docker import DockerVimDriver
from nubo.vim.port import LABEL_MANAGED, Server, VimConfig
from tests.conftest import DOCKER_ENDPOINT, docker_nubo, running
from tests.integration.conftest import DEBIAN, built_image
from tests.sip_checks import sip_stats, vnfc_container, wait_for_calls

pytestmark = pytest.mark.docker

NSD = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"
#: how long a container of the crash-loop image lives before it fails
CRASH_AFTER = 2


@pytest.fixture
async def nubo(tmp_path: Path, docker_client: Any) -> AsyncIterator[Nubo]:
    app = docker_nubo(tmp_path, background=True)  # fault management on, as `nubo serve`
    async with running(app, docker_client):
        yield app


@pytest.fixture(scope="module")
def crashing_image(docker_client: Any) -> Iterator[str]:
    """An image whose process fails (exit 3) ``CRASH_AFTER`` seconds after each start."""
    dockerfile = f'FROM {DEBIAN}\nCMD ["/bin/sh", "-c", "sleep {CRASH_AFTER}; exit 3"]\n'
    with built_image(docker_client, dockerfile, "crash-loop") as tag:
        yield tag


def crash_loop_nsd(image: str) -> bytes:
    vnfd = {
        "name": "crasher",
        "vendor": "nubo",
        "version": "1.0",
        "type": "crasher",
        "virtual_link": [{"name": "lan"}],
        "vdu": [
            {
                "vm_image": [image],
                "scale_in_out": 1,
                "vnfc": [{"connection_point": [{"virtual_link_reference": "lan"}]}],
            }
        ],
        "deployment_flavour": [{"flavour_key": "docker.container"}],
    }
    nsd = {"name": "crash-loop", "vendor": "nubo", "version": "1.0"}
    return json.dumps({**nsd, "vld": [{"name": "lan"}], "vnfd": [vnfd]}).encode()


def kill_init(container: Any) -> float:
    """``kill -9`` of the container's init process from the host; the time right before."""
    container.reload()
    pid = int(container.attrs["State"]["Pid"])
    assert pid > 0, "the container does not run"  # kill(0) would hit our own group
    killed = time.time()
    os.kill(pid, signal.SIGKILL)
    return killed


async def wait_for(what: Callable[[], Awaitable[Any]], timeout: float, why: str) -> Any:
    started = time.monotonic()
    while not (found := await what()):
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{why}: not within {timeout} s")
        await asyncio.sleep(0.01)
    return found


async def heals(app: Nubo, nsr_id: str) -> list[LcmOpOcc]:
    ops = await app.ns.operations(nsr_id)
    return [o for o in reversed(ops) if o.operation == LcmOperationType.HEAL]


async def deploy(app: Nubo, body: bytes, name: str) -> str:
    entry = await app.catalogue.onboard(body)
    nsr, op = await app.ns.instantiate(entry.id, name=name)
    done = await app.runner.wait(op.id, timeout=120)
    assert done.state == OpState.COMPLETED, done.error
    return nsr.id


async def test_a_crashed_vnfc_is_restarted_by_the_engine_and_recorded_as_a_heal(
    nubo: Nubo, docker_client: Any
) -> None:
    nsr_id = await deploy(nubo, NSD.read_bytes(), "engine-heal")
    nsr = await nubo.ns.get(nsr_id)
    server = nsr.vnfr_by_name("sipp-server").vnfcs()[0]
    client_box = vnfc_container(docker_client, nsr.vnfr_by_name("sipp-client").vnfcs()[0].id)
    await asyncio.to_thread(wait_for_calls, client_box)
    box = vnfc_container(docker_client, server.id)
    policy = box.attrs["HostConfig"]["RestartPolicy"]
    assert policy == {"Name": "on-failure", "MaximumRetryCount": 3}

    killed = await asyncio.to_thread(kill_init, box)

    async def alarmed() -> list[Any]:
        return [a for a in await nubo.fault.alarms.list(nsr_id=nsr_id) if a.vnfc_id == server.id]

    [alarm] = await wait_for(alarmed, 5, "no alarm for the crashed server")
    assert alarm.probable_cause == ProbableCause.VNFC_FAILED
    assert "exit code 137" in alarm.fault_details[0]
    assert alarm.alarm_raised_time.timestamp() - killed < 1.0

    async def recorded() -> LcmOpOcc | None:
        done = [h for h in await heals(nubo, nsr_id) if h.state == OpState.COMPLETED]
        active = await nubo.fault.alarms.list(active_only=True, nsr_id=nsr_id)
        return done[0] if done and not active else None

    heal = await wait_for(recorded, 10, "the engine's restart was not recorded")
    assert heal.params["restartedBy"] == "VIM" and heal.params["restartCount"] == 1
    assert heal.params["cause"] == ProbableCause.VNFC_FAILED.value and heal.automatic
    assert heal.steps[0].name == "restarted by the VIM"
    assert "restart 1 of the VIM's restart policy" in heal.steps[0].detail
    assert len(await heals(nubo, nsr_id)) == 1  # nubo's healer did not race the engine
    assert (await nubo.ns.get(nsr_id)).find_vnfc(server.id)[2].state == VnfcState.RUNNING
    again = vnfc_container(docker_client, server.id)
    assert again.id == box.id and again.attrs["RestartCount"] == 1  # in place, by the engine
    await listings_tell_the_restart(server.vc_id, killed)
    ok_before = (await asyncio.to_thread(sip_stats, client_box) or (0, 0))[0]
    ok, _ = await asyncio.to_thread(wait_for_calls, client_box, ok_before + 5, 30)
    assert ok >= ok_before + 5


async def listings_tell_the_restart(server_id: str, killed: float) -> None:
    """When the server started and the engine's count: from an inspect, which a driver
    makes for a container it does not know, and again for every container on the next
    full listing once its event stream has ended (what a reconnecting watcher compares)."""
    driver = DockerVimDriver(VimConfig(id="t", name="t", type="docker", endpoint=DOCKER_ENDPOINT))
    managed = {LABEL_MANAGED: "true"}

    async def listed() -> Server:
        return next(s for s in await driver.list_servers(managed) if s.id == server_id)

    try:
        first = await listed()
        assert killed < first.started_at < time.time() and first.restart_count == 1
        assert (await listed()).started_at == 0.0  # known by now: the list alone
        events = driver.events()
        reading = asyncio.ensure_future(anext(events))
        await asyncio.sleep(0.3)
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reading
        await events.aclose()
        again = await listed()
        assert again.started_at == first.started_at and again.restart_count == 1
    finally:
        await driver.close()


async def test_a_vnfc_stopped_through_nubo_is_never_restarted_by_the_engine(
    nubo: Nubo, docker_client: Any
) -> None:
    nsr_id = await deploy(nubo, NSD.read_bytes(), "engine-stop")
    nsr = await nubo.ns.get(nsr_id)
    vnfr = nsr.vnfr_by_name("sipp-server")
    server = vnfr.vnfcs()[0]
    box = vnfc_container(docker_client, server.id)
    op = await nubo.ns.stop_vnfc(nsr_id, vnfr.id, vnfr.vdu[0].id, server.id)
    assert (await nubo.runner.wait(op.id, timeout=60)).state == OpState.COMPLETED
    # several seconds: far beyond the engine's restart delay (0.1 s) and a start
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        box.reload()
        assert box.status == "exited", f"the engine started a stopped VNFC: {box.status}"
        assert box.attrs["RestartCount"] == 0
        await asyncio.sleep(0.2)
    assert await heals(nubo, nsr_id) == []
    assert await nubo.fault.alarms.list(nsr_id=nsr_id) == []
    assert (await nubo.ns.get(nsr_id)).find_vnfc(server.id)[2].state == VnfcState.EXITED


async def test_a_crash_loop_gets_the_engine_s_restarts_then_heal_failed(
    nubo: Nubo, docker_client: Any, crashing_image: str
) -> None:
    nsr_id = await deploy(nubo, crash_loop_nsd(crashing_image), "crash-loop")
    [vnfc] = (await nubo.ns.get(nsr_id)).vnfr_by_name("crasher").vnfcs()

    async def gave_up() -> bool:
        active = await nubo.fault.alarms.list(active_only=True, nsr_id=nsr_id)
        return ProbableCause.HEAL_FAILED in {a.probable_cause for a in active}

    # 4 lives of CRASH_AFTER s, the engine's delays (0.1 + 0.2 + 0.4 s), the healer's backoff
    await wait_for(gave_up, 4 * CRASH_AFTER + 15, "a crash loop did not end in HEAL_FAILED")
    [box] = docker_client.containers.list(all=True, filters={"label": f"io.nubo.vnfc-id={vnfc.id}"})
    assert box.status == "exited" and box.attrs["RestartCount"] == 3
    recorded = await heals(nubo, nsr_id)
    assert 1 <= len(recorded) <= 3  # one per engine restart seen running, none of nubo's
    assert all(h.params.get("restartedBy") == "VIM" for h in recorded)
    assert nubo.fault.healer.attempts(vnfc.id) == 3
    alarms = await nubo.fault.alarms.list(nsr_id=nsr_id)
    await asyncio.sleep(3)  # and nothing more happens
    box.reload()
    assert box.status == "exited" and box.attrs["RestartCount"] == 3
    assert len(await heals(nubo, nsr_id)) == len(recorded)
    assert len(await nubo.fault.alarms.list(nsr_id=nsr_id)) == len(alarms)
