"""The VIM's own restarts of crashed VNFCs (a restart policy), over the in-memory VIM.

The fake VIM plays Docker's ``on-failure`` policy: ``engine_crash`` is the
``die`` of a container the engine will restart, ``engine_restart`` its
``start``. nubo must alarm the first, record the second as a HEAL occurrence,
leave the VNFC to the VIM for a bounded time, and end a crash loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from nubo.app import Nubo
from nubo.fault.alarms import AlarmService
from nubo.fault.healer import VIM_RESTART_WAIT, Healer
from nubo.fault.loops import FaultManagement
from nubo.fault.watcher import FaultWatcher
from nubo.model.alarms import Alarm, ProbableCause
from nubo.model.records import LcmOpOcc, VnfcInstance
from nubo.model.states import LcmOperationType, NsStatus, OpState, VnfcState
from nubo.vim.fake import FakeVimDriver
from nubo.vim.port import ServerStatus
from tests.conftest import fake_nubo
from tests.unit.test_fault import Clock
from tests.unit.test_fault import Fm as FaultFm
from tests.unit.test_lifecycle_scripts import deploy_with_peer_events, fake_of, finish, script_of


@dataclass
class Fm(FaultFm):
    """The fault tests' loops, with a healer that knows the watcher's engine restarts."""

    async def vnfc(self, nsr_id: str, vnf: str = "sipp-server") -> VnfcInstance:
        return await super().vnfc(nsr_id, vnf)

    async def heals(self, nsr_id: str) -> list[LcmOpOcc]:
        ops = await self.nubo.ns.operations(nsr_id)
        return [o for o in reversed(ops) if o.operation == LcmOperationType.HEAL]


@pytest.fixture
async def fm(tmp_path: Path) -> AsyncIterator[Fm]:
    app = fake_nubo(tmp_path, start_timeout=2)
    await app.start()
    vim = await app.vims.default()
    fake = await app.vims.driver(vim.id)
    assert isinstance(fake, FakeVimDriver)
    clock = Clock()
    alarms = AlarmService(app.repositories.alarms)
    watcher = FaultWatcher(app.ns, app.vims, alarms, clock, reconnect_backoff=(0.01, 0.05))
    healer = Healer(app.ns, alarms, clock=clock, restarts=watcher.restarts)
    try:
        yield Fm(app, fake, alarms, watcher, healer, clock)
    finally:
        await app.stop()


async def test_a_vim_restart_is_alarmed_then_recorded_as_a_completed_heal(fm: Fm) -> None:
    nsr = await fm.deploy()
    server = await fm.vnfc(nsr.id)
    container = fm.fake.container_of(server.vc_id)
    assert fm.fake.engine_crash(server.vc_id, exit_code=137)

    await fm.watcher.run_once()  # the engine's die
    [alarm] = await fm.active()
    assert alarm.probable_cause == ProbableCause.VNFC_FAILED and alarm.vnfc_id == server.id
    assert "exit code 137, the engine restarts it" in alarm.fault_details[0]
    assert (await fm.vnfc(nsr.id)).state == VnfcState.FAILED
    assert await fm.healer.run_once() == []  # the VIM's job: nubo does not race it
    assert await fm.heals(nsr.id) == []

    fm.fake.engine_restart(server.vc_id)  # the engine's start
    await fm.watcher.run_once()
    [heal] = await fm.heals(nsr.id)
    assert heal.state == OpState.COMPLETED and heal.automatic
    assert heal.params["vnfcInstanceId"] == server.id
    assert heal.params["cause"] == ProbableCause.VNFC_FAILED.value
    assert heal.params["restartedBy"] == "VIM" and heal.params["restartCount"] == 1
    assert "restart 1 of the VIM's restart policy" in heal.steps[0].detail
    assert heal.start_time <= heal.state_entered_time
    assert (await fm.vnfc(nsr.id)).state == VnfcState.RUNNING
    assert (await fm.nubo.ns.get(nsr.id)).status == NsStatus.ACTIVE
    assert await fm.active() == []
    assert (await fm.alarms.get(alarm.id)).alarm_cleared_time is not None
    assert fm.fake.container_of(server.vc_id) is container  # in place, by the VIM
    assert fm.nubo.runner.running() == []

    await fm.watcher.run_once()  # seen again: nothing more is recorded
    assert await fm.healer.run_once() == []
    assert len(await fm.heals(nsr.id)) == 1


async def test_the_healer_takes_over_a_vim_restart_that_does_not_come(fm: Fm) -> None:
    nsr = await fm.deploy()
    server = await fm.vnfc(nsr.id)
    assert fm.fake.engine_crash(server.vc_id)
    await fm.watcher.run_once()
    assert await fm.healer.run_once() == []  # woken by the alarm: left to the VIM
    fm.clock.advance(VIM_RESTART_WAIT - 0.1)
    assert await fm.healer.run_once() == []  # still within the wait

    fm.clock.advance(0.2)
    [op] = await fm.healer.run_once()
    done = await fm.nubo.runner.wait(op.id, timeout=10)
    assert done.state == OpState.COMPLETED, done.error
    assert done.steps[0].detail == "restarted in place"
    after = await fm.nubo.vims.default()
    vim_server = await (await fm.nubo.vims.driver(after.id)).get_server(server.vc_id)
    # taken over: the engine's restart was cancelled, its count reset by nubo's start
    assert vim_server.status is ServerStatus.RUNNING and not vim_server.restarting
    assert vim_server.restart_count == 0
    await fm.watcher.run_once()
    assert await fm.active() == []
    [heal] = await fm.heals(nsr.id)  # nubo's only: no VIM restart recorded on top
    assert "restartedBy" not in heal.params
    assert len(fm.watcher.restarts) == 0


async def test_a_crash_loop_the_vim_restarts_ends_in_heal_failed(fm: Fm) -> None:
    nsr = await fm.deploy()
    server = await fm.vnfc(nsr.id)
    for n in (1, 2):  # restarted and seen running, crashing again at once
        assert fm.fake.engine_crash(server.vc_id)
        await fm.watcher.run_once()
        assert await fm.healer.run_once() == []
        fm.fake.engine_restart(server.vc_id)
        await fm.watcher.run_once()
        assert len(await fm.heals(nsr.id)) == n
        fm.clock.advance(0.5)
    # the third restart dies again before anyone saw it run: counted all the same
    assert fm.fake.engine_crash(server.vc_id)
    fm.fake.engine_restart(server.vc_id)
    assert not fm.fake.engine_crash(server.vc_id)  # the engine's retries are spent
    await fm.watcher.run_once()
    assert fm.healer.attempts(server.id) == 2  # the third is counted on the next pass
    for _ in range(5):
        assert await fm.healer.run_once() == []  # 3 attempts spent: no heal of nubo's
        fm.clock.advance(10)
    causes = {a.probable_cause for a in await fm.active()}
    assert causes == {ProbableCause.VNFC_FAILED, ProbableCause.HEAL_FAILED}
    heals = await fm.heals(nsr.id)
    assert [h.params.get("restartedBy") for h in heals] == ["VIM", "VIM"]
    assert fm.healer.attempts(server.id) == 3
    alarms = [a for a in await fm.alarms.list() if a.vnfc_id == server.id]
    assert len(alarms) <= 4  # each restart raised and cleared once; no flapping beyond


async def test_a_vnfc_the_vim_brought_back_by_itself_is_recorded_healed(fm: Fm) -> None:
    """As after the engine's own restart: nubo saw it die, the engine started it again."""
    nsr = await fm.deploy()
    server = await fm.vnfc(nsr.id)
    fm.fake.crash(server.vc_id, exit_code=143)  # no restart under way
    await fm.watcher.run_once()
    [alarm] = await fm.active()
    await (await fm.nubo.vims.driver(nsr.vim_id)).start_server(server.vc_id, 1)
    await fm.watcher.run_once()
    [heal] = await fm.heals(nsr.id)
    assert heal.state == OpState.COMPLETED and heal.params["restartedBy"] == "VIM"
    assert heal.params["restartCount"] == 0
    assert heal.steps[0].detail == "found running again without a heal of nubo's"
    assert heal.start_time == alarm.alarm_raised_time
    assert (await fm.vnfc(nsr.id)).state == VnfcState.RUNNING
    assert await fm.active() == []


async def test_die_and_start_events_alone_alarm_and_record_the_restart(fm: Fm) -> None:
    nsr = await fm.deploy()
    server = await fm.vnfc(nsr.id)
    loops = FaultManagement(fm.watcher, fm.healer, fm.alarms, interval=600)
    await loops.start()
    try:
        await wait_until(lambda: _true(fm.fake.event_subscribers == 1), 2)
        await asyncio.sleep(0.05)  # the first (full) pass is over: from now on, events only
        fm.fake.engine_crash(server.vc_id)
        await wait_until(lambda: _some(fm.active()), 1.0)
        fm.fake.engine_restart(server.vc_id)

        async def recorded() -> bool:
            done = [h for h in await fm.heals(nsr.id) if h.state == OpState.COMPLETED]
            return bool(done) and not await fm.active()

        await wait_until(recorded, 1.0)
        assert (await fm.vnfc(nsr.id)).state == VnfcState.RUNNING
    finally:
        await loops.stop()
    [heal] = await fm.heals(nsr.id)
    assert heal.params["restartedBy"] == "VIM"


async def test_an_end_asked_through_the_vim_api_is_alarmed_by_the_check_not_the_event(
    fm: Fm,
) -> None:
    """A stop (or kill, or removal) through the engine's API is no crash it restarts."""
    nsr = await fm.deploy()
    server = await fm.vnfc(nsr.id)
    loops = FaultManagement(fm.watcher, fm.healer, fm.alarms, interval=600)
    await loops.start()
    try:
        await wait_until(lambda: _true(fm.fake.event_subscribers == 1), 2)
        await asyncio.sleep(0.05)
        driver = await fm.nubo.vims.driver(nsr.vim_id)
        await driver.stop_server(server.vc_id, 1)  # an operator's stop: kill, then the end
        await wait_until(lambda: _some(fm.active()), 1.0)
        [alarm] = await fm.active()
        assert alarm.probable_cause == ProbableCause.VNFC_EXITED
        assert "its server ended" not in alarm.fault_details[0]  # the check's, from a listing
        assert server.id not in fm.watcher.restarts  # nothing for the healer to wait for
    finally:
        await loops.stop()


async def test_a_vnfc_the_vim_restarted_while_its_events_were_away_is_recorded(fm: Fm) -> None:
    """As an engine restart: its stream breaks, it starts its containers again itself."""
    nsr = await fm.deploy()
    server = await fm.vnfc(nsr.id)
    client = await fm.vnfc(nsr.id, "sipp-client")
    loops = FaultManagement(fm.watcher, fm.healer, fm.alarms, interval=600)
    await loops.start()
    try:
        await wait_until(lambda: _true(fm.fake.event_subscribers == 1), 2)
        await asyncio.sleep(0.05)
        fm.fake.unreachable = True
        fm.fake.break_event_streams()
        await wait_until(lambda: _true(nsr.vim_id in fm.nubo.vims.unreachable()), 1.0)
        assert fm.fake.engine_crash(server.vc_id)  # nobody hears: the stream is down
        fm.fake.engine_restart(server.vc_id)
        fm.fake.unreachable = False

        async def recorded() -> bool:
            done = [h for h in await fm.heals(nsr.id) if h.state == OpState.COMPLETED]
            return bool(done) and not await fm.active()

        await wait_until(recorded, 2.0)
    finally:
        await loops.stop()
    [heal] = await fm.heals(nsr.id)
    assert heal.params["vnfcInstanceId"] == server.id and heal.params["restartedBy"] == "VIM"
    [alarm] = [a for a in await fm.alarms.list() if a.vnfc_id == server.id]
    assert "started again by the VIM while nubo could not follow" in alarm.fault_details[0]
    assert alarm.alarm_cleared_time is not None
    assert not [a for a in await fm.alarms.list() if a.vnfc_id == client.id]  # not restarted
    assert (await fm.vnfc(nsr.id)).state == VnfcState.RUNNING


@pytest.fixture
async def scripted(tmp_path: Path) -> AsyncIterator[Nubo]:
    """nubo on a fake VIM that knows every image (the iperf packages' VNFs)."""
    app = fake_nubo(tmp_path, start_timeout=2, default_vim_endpoint="fake:?images=*")
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def test_a_vim_restart_of_a_vnf_with_heal_scripts_runs_them_in_place(scripted: Nubo) -> None:
    """The engine restarted the server by itself: a HEAL operation runs its HEAL scripts."""
    fake = await fake_of(scripted)
    nsr_id = await deploy_with_peer_events(scripted)
    [server] = (await scripted.ns.get(nsr_id)).vnfr_by_name("iperf-server").vnfcs()
    container = fake.container_of(server.vc_id)
    watcher = FaultWatcher(scripted.ns, scripted.vims, AlarmService(scripted.repositories.alarms))
    assert fake.engine_crash(server.vc_id)
    await watcher.run_once()
    fake.engine_restart(server.vc_id)
    fake.execs.clear()
    await watcher.run_once()
    ops = await scripted.ns.operations(nsr_id)
    [heal] = [o for o in ops if o.operation == LcmOperationType.HEAL]
    done = await finish(scripted, heal)
    assert done.state == OpState.COMPLETED, done.error
    assert done.steps[0].detail == "restarted in place"  # found running: nothing restarted
    assert [script_of(r) for r in fake.execs] == ["healed.sh"]
    assert fake.execs[-1].environment["cause"] == "VNFC_FAILED"
    assert fake.container_of(server.vc_id) is container
    await watcher.run_once()
    assert await watcher.alarms.list(active_only=True) == []


async def _true(value: bool) -> bool:
    return value


async def _some(alarms: Awaitable[list[Alarm]]) -> bool:
    return bool(await alarms)


async def wait_until(what: Callable[[], Awaitable[bool]], timeout: float) -> float:
    started = time.monotonic()
    while not await what():
        assert time.monotonic() - started < timeout, "condition not met in time"
        await asyncio.sleep(0.005)
    return time.monotonic() - started
