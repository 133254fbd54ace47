"""Fault watcher, healer and their loops over the in-memory VIM, with an injected clock."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from nubo.app import Nubo
from nubo.fault.alarms import AlarmService
from nubo.fault.healer import Healer
from nubo.fault.loops import FaultManagement
from nubo.fault.watcher import FaultWatcher
from nubo.model.alarms import Alarm, EventType, PerceivedSeverity, ProbableCause
from nubo.model.descriptors import HealMode, HealPolicy
from nubo.model.errors import VimUnreachable
from nubo.model.records import NetworkServiceRecord, VnfcInstance
from nubo.model.states import LcmOperationType, NsStatus, OpState, VnfcState
from nubo.model.tenancy import DEFAULT_PROJECT, in_project
from nubo.store.memory import SqlLoopMemory
from nubo.vim.fake import FakeVimDriver
from nubo.vim.port import Server, ServerStatus
from tests.conftest import fake_nubo

NSD = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Fm:
    nubo: Nubo
    fake: FakeVimDriver
    alarms: AlarmService
    watcher: FaultWatcher
    healer: Healer
    clock: Clock

    async def settle(self) -> None:
        """Wait for every running LCM operation (e.g. a heal) to end."""
        for op_id in self.nubo.runner.running():
            await self.nubo.runner.wait(op_id, timeout=10)

    async def deploy(self) -> NetworkServiceRecord:
        entry = await self.nubo.catalogue.onboard(NSD.read_bytes())
        nsr, op = await self.nubo.ns.instantiate(entry.id, name="sipp")
        assert (await self.nubo.runner.wait(op.id, timeout=10)).state == OpState.COMPLETED
        return await self.nubo.ns.get(nsr.id)

    async def vnfc(self, nsr_id: str, vnf: str) -> VnfcInstance:
        return (await self.nubo.ns.get(nsr_id)).vnfr_by_name(vnf).vnfcs()[0]

    async def active(self) -> list[Alarm]:
        return await self.alarms.list(active_only=True)


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
    healer = Healer(app.ns, alarms, clock=clock)
    try:
        yield Fm(app, fake, alarms, watcher, healer, clock)
    finally:
        await app.stop()


async def test_crash_raises_alarm_then_heal_restarts_in_place_and_clears(fm: Fm) -> None:
    nsr = await fm.deploy()
    server = await fm.vnfc(nsr.id, "sipp-server")
    container = fm.fake.container_of(server.vc_id)
    fm.fake.crash(server.vc_id, exit_code=137)

    await fm.watcher.run_once()
    [alarm] = await fm.active()
    assert alarm.probable_cause == ProbableCause.VNFC_FAILED
    assert alarm.perceived_severity == PerceivedSeverity.CRITICAL
    assert alarm.event_type == EventType.PROCESSING_ERROR_ALARM
    assert alarm.managed_object_id == server.id == alarm.vnfc_id
    assert alarm.nsr_id == nsr.id and alarm.vim_id == nsr.vim_id
    assert alarm.vnfr_id == nsr.vnfr_by_name("sipp-server").id
    assert "exit code 137" in alarm.fault_details[0]
    assert (await fm.vnfc(nsr.id, "sipp-server")).state == VnfcState.FAILED

    await fm.watcher.run_once()  # seen again: still one alarm, unchanged
    assert await fm.active() == [alarm]

    [op] = await fm.healer.run_once()
    assert op.operation == LcmOperationType.HEAL and op.params["vnfcInstanceId"] == server.id
    done = await fm.nubo.runner.wait(op.id, timeout=10)
    assert done.state == OpState.COMPLETED, done.error
    assert done.steps[0].detail == "restarted in place"
    assert fm.fake.container_of(server.vc_id) is container
    assert (await fm.vnfc(nsr.id, "sipp-server")).state == VnfcState.RUNNING

    await fm.watcher.run_once()
    assert await fm.active() == []
    cleared = await fm.alarms.get(alarm.id)
    assert cleared.perceived_severity == PerceivedSeverity.CLEARED
    assert cleared.alarm_cleared_time is not None
    assert await fm.healer.run_once() == []


async def test_clean_exit_is_a_major_exited_alarm(fm: Fm) -> None:
    nsr = await fm.deploy()
    client = await fm.vnfc(nsr.id, "sipp-client")
    fm.fake.crash(client.vc_id, exit_code=0)
    await fm.watcher.run_once()
    [alarm] = await fm.active()
    assert alarm.probable_cause == ProbableCause.VNFC_EXITED
    assert alarm.perceived_severity == PerceivedSeverity.MAJOR
    assert (await fm.vnfc(nsr.id, "sipp-client")).state == VnfcState.EXITED


async def test_vanished_vnfc_is_recreated_with_same_address_and_environment(fm: Fm) -> None:
    nsr = await fm.deploy()
    client = await fm.vnfc(nsr.id, "sipp-client")
    before = fm.fake.container_of(client.vc_id)
    assert before is not None
    fm.fake.vanish(client.vc_id)

    await fm.watcher.run_once()
    [alarm] = await fm.active()
    assert alarm.probable_cause == ProbableCause.VNFC_VANISHED
    assert alarm.perceived_severity == PerceivedSeverity.CRITICAL
    assert (await fm.vnfc(nsr.id, "sipp-client")).state == VnfcState.FAILED

    [op] = await fm.healer.run_once()
    done = await fm.nubo.runner.wait(op.id, timeout=10)
    assert done.state == OpState.COMPLETED, done.error
    assert [s.name for s in done.steps][1] == "recreate sipp-client-0"
    healed = await fm.vnfc(nsr.id, "sipp-client")
    assert healed.vc_id != client.vc_id
    assert healed.addresses == client.addresses
    after = fm.fake.container_of(healed.vc_id)
    assert after is not None and after.environment == before.environment

    await fm.watcher.run_once()
    assert await fm.active() == []


async def test_failing_heal_is_bounded_with_backoff_then_heal_failed(fm: Fm) -> None:
    nsr = await fm.deploy()
    server = await fm.vnfc(nsr.id, "sipp-server")
    fm.fake.fail_start_for.add("nubo/sipp-server:latest")
    fm.fake.vanish(server.vc_id)

    async def tick() -> list[str]:
        await fm.watcher.run_once()
        ops = await fm.healer.run_once()
        await fm.settle()
        return [op.id for op in ops]

    assert len(await tick()) == 1  # first attempt at once
    assert await tick() == []  # it failed: backoff (0.5 s) starts now
    fm.clock.advance(0.4)
    assert await tick() == []
    fm.clock.advance(0.2)
    assert len(await tick()) == 1  # second attempt
    assert await tick() == []
    fm.clock.advance(0.9)
    assert await tick() == []  # backoff doubled to 1 s
    fm.clock.advance(0.2)
    assert len(await tick()) == 1  # third and last attempt
    assert await tick() == []
    assert fm.healer.attempts(server.id) == 3
    causes = {a.probable_cause for a in await fm.active()}
    assert ProbableCause.HEAL_FAILED not in causes
    fm.clock.advance(2.1)
    assert await tick() == []
    heal_failed = [a for a in await fm.active() if a.probable_cause == ProbableCause.HEAL_FAILED]
    assert len(heal_failed) == 1 and heal_failed[0].vnfc_id == server.id
    assert "3 heal attempts failed" in heal_failed[0].fault_details[0]
    assert "FAILED" in heal_failed[0].fault_details[0]
    fm.clock.advance(100)
    assert await tick() == []  # given up until the VNFC is healthy again
    heals = [o for o in await fm.nubo.ns.operations(nsr.id) if o.operation == "HEAL"]
    assert [o.state for o in heals] == [OpState.FAILED] * 3
    assert (await fm.nubo.ns.get(nsr.id)).status == NsStatus.ERROR

    # an operator fixes the image and heals by hand: every alarm clears, attempts reset
    fm.fake.fail_start_for.clear()
    op = await fm.nubo.ns.heal(nsr.id, server.id, cause="operator")
    assert (await fm.nubo.runner.wait(op.id, timeout=10)).state == OpState.COMPLETED
    assert await tick() == []
    assert await fm.active() == []
    assert fm.healer.attempts(server.id) == 3
    fm.clock.advance(fm.healer.stable_after)
    await tick()
    assert fm.healer.attempts(server.id) == 0


async def test_unreachable_vim_alarms_fails_fast_and_clears(fm: Fm) -> None:
    nsr = await fm.deploy()
    client = await fm.vnfc(nsr.id, "sipp-client")
    vim = await fm.nubo.vims.default()
    fm.fake.crash(client.vc_id)
    fm.fake.unreachable = True

    await fm.watcher.run_once()
    [alarm] = await fm.active()  # nothing can be said about the VNFCs meanwhile
    assert alarm.probable_cause == ProbableCause.VIM_UNREACHABLE
    assert alarm.managed_object_id == vim.id == alarm.vim_id
    assert alarm.perceived_severity == PerceivedSeverity.CRITICAL
    assert alarm.event_type == EventType.COMMUNICATIONS_ALARM
    assert vim.id in fm.nubo.vims.unreachable()
    vnfr = nsr.vnfr_by_name("sipp-client")
    started = time.monotonic()
    with pytest.raises(VimUnreachable, match="unreachable"):
        await fm.nubo.ns.scale_out(nsr.id, vnfr.id, vnfr.vdu[0].id)
    assert time.monotonic() - started < 0.5
    assert await fm.healer.run_once() == []

    fm.fake.unreachable = False
    await fm.watcher.run_once()
    assert fm.nubo.vims.unreachable() == {}
    assert (await fm.alarms.get(alarm.id)).alarm_cleared_time is not None
    [vnfc_alarm] = await fm.active()  # now the crash is seen
    assert vnfc_alarm.probable_cause == ProbableCause.VNFC_FAILED


async def test_vnfc_stopped_on_purpose_raises_nothing(fm: Fm) -> None:
    nsr = await fm.deploy()
    client = await fm.vnfc(nsr.id, "sipp-client")
    vnfr = nsr.vnfr_by_name("sipp-client")
    op = await fm.nubo.ns.stop_vnfc(nsr.id, vnfr.id, vnfr.vdu[0].id, client.id)
    assert (await fm.nubo.runner.wait(op.id, timeout=10)).state == OpState.COMPLETED
    await fm.watcher.run_once()
    assert await fm.active() == []
    assert await fm.healer.run_once() == []
    assert (await fm.vnfc(nsr.id, "sipp-client")).state == VnfcState.EXITED


async def test_vnfc_recorded_dead_by_someone_else_is_still_healed(fm: Fm) -> None:
    """As after the start-up reconciliation: FAILED in the record, no alarm yet."""
    nsr = await fm.deploy()
    client = await fm.vnfc(nsr.id, "sipp-client")
    fm.fake.vanish(client.vc_id)
    assert await fm.nubo.ns.observe_vnfc(nsr.id, client.id, VnfcState.FAILED)
    await fm.watcher.run_once()
    [alarm] = await fm.active()
    assert alarm.probable_cause == ProbableCause.VNFC_VANISHED
    [op] = await fm.healer.run_once()
    assert (await fm.nubo.runner.wait(op.id, timeout=10)).state == OpState.COMPLETED
    await fm.watcher.run_once()
    assert await fm.active() == []


async def test_stop_right_after_heal_clears_the_alarm_instead_of_healing(fm: Fm) -> None:
    nsr = await fm.deploy()
    client = await fm.vnfc(nsr.id, "sipp-client")
    vnfr = nsr.vnfr_by_name("sipp-client")
    fm.fake.crash(client.vc_id)
    await fm.watcher.run_once()
    [op] = await fm.healer.run_once()
    await fm.settle()
    # healed, but stopped by the operator before the watcher saw it running
    op = await fm.nubo.ns.stop_vnfc(nsr.id, vnfr.id, vnfr.vdu[0].id, client.id)
    assert (await fm.nubo.runner.wait(op.id, timeout=10)).state == OpState.COMPLETED
    [alarm] = await fm.active()
    await fm.watcher.run_once()
    assert await fm.active() == []
    assert "stopped by an LCM operation" in (await fm.alarms.get(alarm.id)).fault_details[-1]
    fm.clock.advance(60)
    assert await fm.healer.run_once() == []


async def test_policy_none_alarms_but_never_heals(fm: Fm) -> None:
    async def no_healing(_nsr: NetworkServiceRecord, _vnf: str) -> HealPolicy:
        return HealPolicy(mode=HealMode.NONE)

    healer = Healer(fm.nubo.ns, fm.alarms, no_healing, fm.clock)
    nsr = await fm.deploy()
    fm.fake.crash((await fm.vnfc(nsr.id, "sipp-server")).vc_id)
    await fm.watcher.run_once()
    assert len(await fm.active()) == 1
    assert await healer.run_once() == []


async def test_alarms_of_a_terminated_ns_clear(fm: Fm) -> None:
    nsr = await fm.deploy()
    fm.fake.crash((await fm.vnfc(nsr.id, "sipp-server")).vc_id)
    await fm.watcher.run_once()
    [alarm] = await fm.active()
    op = await fm.nubo.ns.terminate(nsr.id)
    assert (await fm.nubo.runner.wait(op.id, timeout=10)).state == OpState.COMPLETED
    await fm.watcher.run_once()
    assert await fm.active() == []
    assert "terminated" in (await fm.alarms.get(alarm.id)).fault_details[-1]


async def wait_until(what: Callable[[], Awaitable[bool]], timeout: float) -> float:
    """Poll (bounded) until ``what`` holds; returns the seconds it took."""
    started = time.monotonic()
    while not await what():
        assert time.monotonic() - started < timeout, "condition not met in time"
        await asyncio.sleep(0.005)
    return time.monotonic() - started


@contextlib.asynccontextmanager
async def following_events(fm: Fm) -> AsyncIterator[Callable[[], Awaitable[bool]]]:
    """Fault loops whose periodic pass runs only at start: what follows can only come
    from the events. Yields the check that the watcher is subscribed (again)."""
    loops = FaultManagement(fm.watcher, fm.healer, fm.alarms, interval=600)
    await loops.start()

    async def subscribed() -> bool:
        return fm.fake.event_subscribers == 1

    try:
        await wait_until(subscribed, 2)
        await asyncio.sleep(0.05)  # let the first pass finish
        yield subscribed
    finally:
        await loops.stop()


def alarms_active(fm: Fm, count: int) -> Callable[[], Awaitable[bool]]:
    async def reached() -> bool:
        return len(await fm.active()) == count

    return reached


async def test_an_event_while_an_operation_holds_the_ns_is_looked_at_once_it_ends(
    fm: Fm,
) -> None:
    nsr = await fm.deploy()
    async with following_events(fm):
        locks = fm.nubo.runner.locks
        await locks.acquire(nsr.id, "another-operation")
        fm.fake.crash((await fm.vnfc(nsr.id, "sipp-server")).vc_id)
        await asyncio.sleep(0.6)
        assert await fm.active() == []  # the NS is held: its event waits
        await locks.release(nsr.id, "another-operation")
        assert await wait_until(alarms_active(fm, 1), 1.0) < 1.0  # and is not lost


async def test_events_raise_the_alarm_within_a_second(fm: Fm) -> None:
    nsr = await fm.deploy()
    async with following_events(fm) as subscribed:
        fm.fake.crash((await fm.vnfc(nsr.id, "sipp-server")).vc_id)
        assert await wait_until(alarms_active(fm, 1), 1.0) < 1.0

        # the stream breaks (engine restart): the follower reconnects and goes on
        fm.fake.break_event_streams()
        await wait_until(subscribed, 2)
        fm.fake.crash((await fm.vnfc(nsr.id, "sipp-client")).vc_id)
        await wait_until(alarms_active(fm, 2), 1.0)
    assert fm.fake.event_subscribers == 0


async def test_event_follower_flags_a_dead_vim_at_once_and_clears_it(fm: Fm) -> None:
    await fm.deploy()
    vim = await fm.nubo.vims.default()
    loops = FaultManagement(fm.watcher, fm.healer, fm.alarms, interval=600)
    await loops.start()
    try:

        async def subscribed() -> bool:
            return fm.fake.event_subscribers == 1

        await wait_until(subscribed, 2)
        fm.fake.unreachable = True
        fm.fake.break_event_streams()

        async def flagged() -> bool:
            return vim.id in fm.nubo.vims.unreachable() and len(await fm.active()) == 1

        await wait_until(flagged, 1.0)
        fm.fake.unreachable = False

        async def back() -> bool:
            return not fm.nubo.vims.unreachable() and not await fm.active()

        await wait_until(back, 2.0)
        await wait_until(subscribed, 2)
    finally:
        await loops.stop()


async def test_fault_management_heals_on_its_own(fm: Fm) -> None:
    nsr = await fm.deploy()
    server = await fm.vnfc(nsr.id, "sipp-server")
    loops = FaultManagement(fm.watcher, fm.healer, fm.alarms, interval=0.02)
    await loops.start()
    try:
        fm.fake.crash(server.vc_id)

        async def healed() -> bool:
            ops = await fm.nubo.ns.operations(nsr.id)
            done = any(o.operation == "HEAL" and o.state == OpState.COMPLETED for o in ops)
            return done and not await fm.active()

        await wait_until(healed, 3.0)
        [alarm] = await fm.alarms.list()
        assert alarm.alarm_cleared_time is not None
    finally:
        await loops.stop()
        await fm.settle()


async def test_engine_restart_is_noticed_and_everything_comes_back(fm: Fm) -> None:
    """As a dockerd restart: the stream breaks, the engine is away, its containers exited."""
    nsr = await fm.deploy()
    vim = await fm.nubo.vims.default()
    loops = FaultManagement(fm.watcher, fm.healer, fm.alarms, interval=0.05)
    await loops.start()
    try:

        async def subscribed() -> bool:
            return fm.fake.event_subscribers == 1

        await wait_until(subscribed, 2)
        fm.fake.unreachable = True
        fm.fake.break_event_streams()
        for vnfc in nsr.all_vnfcs():
            fm.fake.crash(vnfc.vc_id, exit_code=0)  # stopped by the engine going down

        async def flagged() -> bool:
            return vim.id in fm.nubo.vims.unreachable()

        await wait_until(flagged, 1.0)
        vnfr = nsr.vnfr_by_name("sipp-client")
        with pytest.raises(VimUnreachable):
            await fm.nubo.ns.scale_out(nsr.id, vnfr.id, vnfr.vdu[0].id)
        fm.fake.unreachable = False

        async def recovered() -> bool:
            # the record alone may still say RUNNING before the watcher has seen the
            # crash: ask the VIM too
            record = await fm.nubo.ns.get(nsr.id)
            running = all(c.state == VnfcState.RUNNING for c in record.all_vnfcs())
            servers = await fm.fake.list_servers()
            really = all(s.status == ServerStatus.RUNNING for s in servers)
            return running and really and not await fm.active() and not fm.nubo.runner.running()

        await wait_until(recovered, 5.0)
        causes = sorted(a.probable_cause.value for a in await fm.alarms.list())
        assert causes == ["VIM_UNREACHABLE", "VNFC_EXITED", "VNFC_EXITED"]
        heals = [o for o in await fm.nubo.ns.operations(nsr.id) if o.operation == "HEAL"]
        # one heal per VNFC; the first one's "verify" step checks every VNFC of the NS,
        # so it may end FAILED while the other is still down (it did restart its VNFC)
        assert len(heals) == 2 and heals[0].state == OpState.COMPLETED
        assert (await fm.nubo.ns.get(nsr.id)).status == NsStatus.ACTIVE
        await wait_until(subscribed, 2)
    finally:
        await loops.stop()
        await fm.settle()


async def test_heals_that_fail_because_the_vim_went_away_are_not_counted(fm: Fm) -> None:
    nsr = await fm.deploy()
    server = await fm.vnfc(nsr.id, "sipp-server")
    fm.fake.crash(server.vc_id, exit_code=137)
    original = fm.fake.start_server

    async def engine_gone(server_id: str, timeout: float) -> Server:
        fm.fake.unreachable = True  # the engine disappears in the middle of the heal
        return await original(server_id, timeout)

    fm.fake.start_server = engine_gone  # type: ignore[method-assign]
    await fm.watcher.run_once()
    for _ in range(5):  # more failed heals than max_attempts, all while the VIM is away
        assert len(await fm.healer.run_once()) == 1
        await fm.settle()
        fm.fake.unreachable = False
        fm.clock.advance(5)
    assert fm.healer.attempts(server.id) == 1
    assert ProbableCause.HEAL_FAILED not in {a.probable_cause for a in await fm.active()}
    fm.fake.start_server = original  # type: ignore[method-assign]
    assert len(await fm.healer.run_once()) == 1
    await fm.settle()
    await fm.watcher.run_once()
    assert await fm.active() == []


async def test_heal_attempts_outlive_the_healer_that_counted_them(fm: Fm) -> None:
    """Another replica leading the loops (a new healer on the same database) goes on counting."""
    memory = SqlLoopMemory(fm.nubo.database)
    fm.healer = Healer(fm.nubo.ns, fm.alarms, clock=fm.clock, memory=memory)
    nsr = await fm.deploy()
    server = await fm.vnfc(nsr.id, "sipp-server")
    fm.fake.fail_start_for.add("nubo/sipp-server:latest")
    fm.fake.vanish(server.vc_id)

    async def tick(seconds: float = 0) -> int:
        fm.clock.advance(seconds)
        await fm.watcher.run_once()
        ops = await fm.healer.run_once()
        await fm.settle()
        return len(ops)

    assert await tick() == 1
    assert await tick() == 0  # backoff starts
    assert await tick(0.6) == 1
    assert fm.healer.attempts(server.id) == 2

    fm.healer = Healer(fm.nubo.ns, fm.alarms, clock=fm.clock, memory=memory)
    assert await tick() == 0  # the backoff it inherited still runs
    assert fm.healer.attempts(server.id) == 2
    assert await tick(1.1) == 1  # the third and last attempt, not a first one
    assert await tick() == 0
    assert await tick(2.1) == 0
    [failed] = [a for a in await fm.active() if a.probable_cause == ProbableCause.HEAL_FAILED]
    assert "3 heal attempts failed" in failed.fault_details[0]


async def test_passes_at_rest_list_nothing_while_events_are_followed(fm: Fm) -> None:
    """With the VIM's events followed, a pass between two resyncs lists no server, yet a
    crash is still alarmed and healed at once, and a full resync still runs."""
    nsr = await fm.deploy()
    loops = FaultManagement(fm.watcher, fm.healer, fm.alarms, interval=0.05, resync_interval=600)
    listings = 0
    list_servers = fm.fake.list_servers

    async def counted(labels: dict[str, str] | None = None) -> list[Server]:
        nonlocal listings
        listings += 1
        return await list_servers(labels)

    fm.fake.list_servers = counted  # type: ignore[method-assign]
    await loops.start()
    try:

        async def following() -> bool:
            return bool(fm.watcher.following) and not fm.watcher.full_due

        await wait_until(following, 2)
        await asyncio.sleep(0.1)
        settled = listings
        await asyncio.sleep(0.5)  # about ten passes at rest
        assert listings == settled, "a pass at rest listed the VIM's servers"

        fm.fake.crash((await fm.vnfc(nsr.id, "sipp-server")).vc_id, exit_code=137)

        async def alarmed() -> bool:
            return len(await fm.active()) == 1

        assert await wait_until(alarmed, 1.0) < 1.0  # from the event, not from a listing

        async def healed() -> bool:
            vnfc = await fm.vnfc(nsr.id, "sipp-server")
            return vnfc.state == VnfcState.RUNNING and not await fm.active()

        await wait_until(healed, 5)
        heals = [o for o in await fm.nubo.ns.operations(nsr.id) if o.operation == "HEAL"]
        assert [o.state for o in heals] == [OpState.COMPLETED]
    finally:
        await loops.stop()
        fm.fake.list_servers = list_servers  # type: ignore[method-assign]


async def test_alarms_and_heals_belong_to_the_project_of_their_ns_and_vim(fm: Fm) -> None:
    other = in_project("other")
    vim = await fm.nubo.vims.register("b-vim", "fake", project_id="other")
    entry = await fm.nubo.catalogue.onboard(NSD.read_bytes(), other)
    nsr, op = await fm.nubo.ns.instantiate(entry.id, name="sipp", scope=other)
    assert (await fm.nubo.runner.wait(op.id, timeout=10)).state == OpState.COMPLETED
    assert nsr.vim_id == vim.id
    fake = await fm.nubo.vims.driver(vim.id)
    assert isinstance(fake, FakeVimDriver)
    fake.crash((await fm.vnfc(nsr.id, "sipp-server")).vc_id)

    await fm.watcher.run_once()
    [alarm] = await fm.active()
    assert alarm.project_id == "other"
    assert await fm.alarms.list(scope=in_project(DEFAULT_PROJECT)) == []
    [heal] = await fm.healer.run_once()
    assert heal.project_id == "other" and heal.automatic
    await fm.settle()

    fake.unreachable = True
    await fm.watcher.run_once()
    unreachable = [
        a for a in await fm.active() if a.probable_cause == ProbableCause.VIM_UNREACHABLE
    ]
    assert [a.project_id for a in unreachable] == ["other"]
    fake.unreachable = False


async def test_stop_leaves_no_follower_when_a_pass_outlives_its_cancellation(fm: Fm) -> None:
    """asyncio.wait_for on 3.11 can swallow a cancellation that meets a result: the
    pass under way then returns normally. Its loop must not go on to start a
    follower that ``stop`` no longer knows of."""
    loops = FaultManagement(fm.watcher, fm.healer, fm.alarms, interval=0.01)
    entered = asyncio.Event()
    real_run_once = fm.watcher.run_once
    swallowed = False

    async def run_once(full: bool = False) -> None:
        nonlocal swallowed
        await real_run_once(full=full)
        if not swallowed:
            entered.set()
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                swallowed = True  # what the 3.11 wait_for race does

    fm.watcher.run_once = run_once  # type: ignore[method-assign]
    await loops.start()
    await asyncio.wait_for(entered.wait(), 2)
    await loops.stop()
    assert swallowed
    others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert not [t.get_name() for t in others if t.get_name().startswith("fault-")]
