"""Fault management on the real Docker Engine: events, alarms, healing, and the SIPp NS after."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from nubo.app import Nubo
from nubo.fault.loops import FaultManagement
from nubo.model.alarms import Alarm, ProbableCause
from nubo.model.errors import VimUnreachable
from nubo.model.states import LcmOperationType, OpState, VnfcState
from nubo.vim.docker import DockerVimDriver
from nubo.vim.docker.events import EventReader
from nubo.vim.port import LABEL_MANAGED, LABEL_NS, LABEL_SERVER, ServerStatus, VimConfig
from tests.conftest import docker_nubo, running
from tests.sip_checks import sip_stats, vnfc_container, wait_for_calls

pytestmark = pytest.mark.docker

NSD = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"
#: measured figures, printed at the end of the run (``pytest -s``)
MEASURED: dict[str, float] = {}


@pytest.fixture
async def nubo(tmp_path: Path, docker_client: Any) -> AsyncIterator[tuple[Nubo, FaultManagement]]:
    app = docker_nubo(tmp_path, background=True)  # with fault management, as `nubo serve` runs it
    try:
        async with running(app, docker_client):
            yield app, app.fault
    finally:
        if MEASURED:
            print("\nfault measurements:", {k: round(v, 3) for k, v in MEASURED.items()})


async def wait_for(what: Callable[[], Awaitable[Any]], timeout: float, why: str) -> float:
    """Poll (bounded) until ``what`` answers something truthy; the seconds it took."""
    started = time.monotonic()
    while not await what():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{why}: not within {timeout} s")
        await asyncio.sleep(0.01)
    return time.monotonic() - started


async def vnfc_alarms(fm: FaultManagement, vnfc_id: str) -> list[Alarm]:
    return [a for a in await fm.alarms.list(active_only=True) if a.vnfc_id == vnfc_id]


async def heal_ops(app: Nubo, nsr_id: str) -> list[Any]:
    ops = await app.ns.operations(nsr_id)
    return [o for o in ops if o.operation == LcmOperationType.HEAL]


async def test_killed_and_removed_vnfcs_are_alarmed_healed_and_calls_go_on(
    nubo: tuple[Nubo, FaultManagement], docker_client: Any
) -> None:
    app, fm = nubo
    entry = await app.catalogue.onboard(NSD.read_bytes())
    nsr, op = await app.ns.instantiate(entry.id, name="sipp-fault")
    assert (await app.runner.wait(op.id, timeout=120)).state == OpState.COMPLETED
    nsr = await app.ns.get(nsr.id)
    server = nsr.vnfr_by_name("sipp-server").vnfcs()[0]
    client = nsr.vnfr_by_name("sipp-client").vnfcs()[0]
    client_box = vnfc_container(docker_client, client.id)
    await asyncio.to_thread(wait_for_calls, client_box)

    # 1. docker kill the SIPp server: alarmed from the event stream, healed in place
    server_box = vnfc_container(docker_client, server.id)
    await asyncio.to_thread(server_box.kill)
    killed = time.monotonic()
    await wait_for(lambda: vnfc_alarms(fm, server.id), 5, "no alarm for the killed server")
    MEASURED["kill_alarm_latency_s"] = time.monotonic() - killed
    [alarm] = await fm.alarms.list(nsr_id=nsr.id)
    assert alarm.probable_cause == ProbableCause.VNFC_FAILED
    assert "exit code 137" in alarm.fault_details[0]
    assert MEASURED["kill_alarm_latency_s"] < 1.0

    async def healed() -> bool:
        done = [o for o in await heal_ops(app, nsr.id) if o.state == OpState.COMPLETED]
        return bool(done) and not await vnfc_alarms(fm, server.id)

    await wait_for(healed, 30, "the killed server was not healed")
    MEASURED["kill_time_to_healthy_s"] = time.monotonic() - killed
    assert (await fm.alarms.get(alarm.id)).alarm_cleared_time is not None
    restarted = vnfc_container(docker_client, server.id)
    assert restarted.id == server_box.id  # restarted in place: same container, same address
    ok_before = (await asyncio.to_thread(sip_stats, client_box) or (0, 0))[0]
    ok, _ = await asyncio.to_thread(wait_for_calls, client_box, ok_before + 5, 30)
    assert ok >= ok_before + 5

    # 2. docker rm -f the SIPp client: VANISHED, re-created with the same address
    await asyncio.to_thread(client_box.remove, force=True)
    removed = time.monotonic()
    await wait_for(lambda: vnfc_alarms(fm, client.id), 5, "no alarm for the removed client")
    MEASURED["rm_alarm_latency_s"] = time.monotonic() - removed
    [vanished] = await vnfc_alarms(fm, client.id)
    assert vanished.probable_cause == ProbableCause.VNFC_VANISHED
    assert MEASURED["rm_alarm_latency_s"] < 1.0

    async def recreated() -> bool:
        done = [o for o in await heal_ops(app, nsr.id) if o.state == OpState.COMPLETED]
        return len(done) == 2 and not await vnfc_alarms(fm, client.id)

    await wait_for(recreated, 30, "the removed client was not re-created")
    MEASURED["rm_time_to_healthy_s"] = time.monotonic() - removed
    again = (await app.ns.get(nsr.id)).vnfr_by_name("sipp-client").vnfcs()[0]
    assert again.state == VnfcState.RUNNING and again.vc_id != client.vc_id
    assert again.addresses == client.addresses
    new_box = vnfc_container(docker_client, client.id)
    ips = [n["IPAddress"] for n in new_box.attrs["NetworkSettings"]["Networks"].values()]
    assert ips == list(client.addresses.values())
    ok, _ = await asyncio.to_thread(wait_for_calls, new_box, 5, 30)
    assert ok >= 5
    assert all(o.state == OpState.COMPLETED for o in await heal_ops(app, nsr.id))
    assert await fm.alarms.list(active_only=True) == []


async def test_docker_events_follow_and_close_without_leaking(
    docker_driver: DockerVimDriver, ns_labels: dict[str, str], docker_client: Any
) -> None:
    labels = {**ns_labels, LABEL_MANAGED: "true", LABEL_SERVER: "srv-events"}
    seen: list[Any] = []

    async def consume() -> None:
        async with contextlib.aclosing(docker_driver.events()) as events:
            async for event in events:
                if event.server_id == "srv-events":
                    seen.append(event)

    task = asyncio.create_task(consume())
    try:

        async def subscribed() -> bool:
            readers = [t for t in threading.enumerate() if isinstance(t, EventReader)]
            return len(readers) == 1 and readers[0].subscribed

        await wait_for(subscribed, 5, "the engine did not accept the subscription")
        box = await asyncio.to_thread(
            docker_client.containers.run,
            "nubo/sipp-base:latest",
            ["sleep", "60"],
            detach=True,
            labels=labels,
        )
        await asyncio.to_thread(box.kill)
        await asyncio.to_thread(box.remove, force=True)

        async def all_seen() -> bool:
            return [e.status for e in seen][-3:] == [
                ServerStatus.STOPPING,
                ServerStatus.FAILED,
                None,
            ]

        await wait_for(all_seen, 5, f"events missing: {seen}")
        assert (
            seen[0].status is ServerStatus.RUNNING
            and seen[0].labels[LABEL_NS] == ns_labels[LABEL_NS]
        )
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    assert not any(isinstance(t, EventReader) for t in threading.enumerate())


async def test_docker_events_of_an_unreachable_engine_raise() -> None:
    config = VimConfig(
        id="nowhere", name="nowhere", type="docker", endpoint="unix:///nonexistent.sock"
    )
    driver = DockerVimDriver(config)
    try:
        with pytest.raises(VimUnreachable):
            async with contextlib.aclosing(driver.events()) as events:
                async for _ in events:
                    pass
    finally:
        await driver.close()


async def test_docker_event_stream_cut_by_the_engine_side_raises_unreachable(
    docker_driver: DockerVimDriver,
) -> None:
    """As when dockerd restarts: the socket closes under the reader, the consumer hears it."""
    events = docker_driver.events()
    pending = asyncio.ensure_future(events.__anext__())
    try:

        async def reader() -> EventReader | None:
            found = [t for t in threading.enumerate() if isinstance(t, EventReader)]
            return found[0] if found and found[0].subscribed else None

        await wait_for(reader, 5, "no subscription")
        subscription = await reader()
        assert subscription is not None
        subscription._stream.close()  # shut the socket without asking the reader to stop
        with pytest.raises(VimUnreachable, match="event stream"):
            await asyncio.wait_for(pending, 5)
    finally:
        pending.cancel()
        with contextlib.suppress(BaseException):
            await pending
        await events.aclose()
    assert not any(isinstance(t, EventReader) for t in threading.enumerate())
