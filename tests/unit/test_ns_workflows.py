"""NS lifecycle workflows end to end over the in-memory VIM (fast; Docker is proven elsewhere)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nubo.app import Nubo
from nubo.model.errors import Conflict, VimUnreachable
from nubo.model.records import LcmOpOcc
from nubo.model.states import NsStatus, OpState, VnfcState
from nubo.nfvo.operations import FaultHook
from nubo.vim.fake import FakeVimDriver
from tests.conftest import INSTANTIATE_POINTS, fake_nubo

NSD = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"


@pytest.fixture
async def nubo(tmp_path: Path) -> AsyncIterator[Nubo]:
    app = fake_nubo(tmp_path, start_timeout=2)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def fake_of(nubo: Nubo) -> FakeVimDriver:
    vim = await nubo.vims.default()
    driver = await nubo.vims.driver(vim.id)
    assert isinstance(driver, FakeVimDriver)
    return driver


async def finish(nubo: Nubo, op: LcmOpOcc) -> LcmOpOcc:
    return await nubo.runner.wait(op.id, timeout=10)


async def deploy(nubo: Nubo) -> str:
    entry = await nubo.catalogue.onboard(NSD.read_bytes())
    nsr, op = await nubo.ns.instantiate(entry.id, name="sipp")
    done = await finish(nubo, op)
    assert done.state == OpState.COMPLETED, done.error
    return nsr.id


async def test_instantiate_resolves_dependency_and_starts_in_order(nubo: Nubo) -> None:
    fake = await fake_of(nubo)
    order: list[str] = []
    original = fake.start_server

    async def recording_start(server_id: str, timeout: float) -> object:
        server = await original(server_id, timeout)
        order.append(server.image)
        return server

    fake.start_server = recording_start  # type: ignore[method-assign,assignment]
    nsr_id = await deploy(nubo)
    nsr = await nubo.ns.get(nsr_id)
    assert nsr.status == NsStatus.ACTIVE
    server = nsr.vnfr_by_name("sipp-server").vnfcs()
    client = nsr.vnfr_by_name("sipp-client").vnfcs()
    assert len(server) == 1 and len(client) == 1
    assert order == ["nubo/sipp-server:latest", "nubo/sipp-client:latest"]
    server_ip = server[0].addresses["private"]
    assert server_ip.startswith("10.137.")
    container = fake.container_of(client[0].vc_id)
    assert container is not None
    assert container.environment["SERVER_PRIVATE"] == server_ip
    assert container.environment["SIPP_RATE"] == "10"
    assert all(c.state == VnfcState.RUNNING for c in nsr.all_vnfcs())
    ops = await nubo.ns.operations(nsr_id)
    steps = [s.name for s in ops[0].steps]
    assert steps[:5] == [
        "check-images",
        "create-networks",
        "allocate",
        "resolve-dependencies",
        "configure",
    ]
    assert steps[5:] == ["start sipp-server", "start sipp-client", "verify"]
    assert all(s.status == "DONE" for s in ops[0].steps)


async def test_scale_out_to_bound_then_refused_and_scale_in(nubo: Nubo) -> None:
    fake = await fake_of(nubo)
    nsr_id = await deploy(nubo)
    nsr = await nubo.ns.get(nsr_id)
    client = nsr.vnfr_by_name("sipp-client")
    vdu = client.vdu[0]
    server_ip = nsr.vnfr_by_name("sipp-server").vnfcs()[0].addresses["private"]
    for _ in range(4):
        op = await nubo.ns.scale_out(nsr_id, client.id, vdu.id)
        assert (await finish(nubo, op)).state == OpState.COMPLETED
    nsr = await nubo.ns.get(nsr_id)
    clients = nsr.vnfr_by_name("sipp-client").vnfcs()
    assert len(clients) == 5
    assert len({c.addresses["private"] for c in clients}) == 5
    for vnfc in clients:
        container = fake.container_of(vnfc.vc_id)
        assert container is not None and container.environment["SERVER_PRIVATE"] == server_ip
    with pytest.raises(Conflict, match="scale_in_out = 5"):
        await nubo.ns.scale_out(nsr_id, client.id, vdu.id)
    op = await nubo.ns.scale_in(nsr_id, client.id, vdu.id)
    assert (await finish(nubo, op)).state == OpState.COMPLETED
    nsr = await nubo.ns.get(nsr_id)
    assert len(nsr.vnfr_by_name("sipp-client").vnfcs()) == 4
    assert nsr.status == NsStatus.ACTIVE
    assert len(await fake.list_servers()) == 5


async def test_scale_in_never_removes_last_vnfc(nubo: Nubo) -> None:
    nsr_id = await deploy(nubo)
    nsr = await nubo.ns.get(nsr_id)
    server = nsr.vnfr_by_name("sipp-server")
    with pytest.raises(Conflict, match="single VNFC"):
        await nubo.ns.scale_in(nsr_id, server.id, server.vdu[0].id)


async def test_failed_start_rolls_back_everything(nubo: Nubo) -> None:
    fake = await fake_of(nubo)
    fake.fail_start_for = {"nubo/sipp-client:latest"}
    entry = await nubo.catalogue.onboard(NSD.read_bytes())
    nsr, op = await nubo.ns.instantiate(entry.id)
    done = await finish(nubo, op)
    assert done.state == OpState.ROLLED_BACK
    assert done.error is not None
    assert done.error["step"] == "start sipp-client"
    assert "exited right after start" in str(done.error["detail"])
    assert await fake.list_servers() == []
    assert await fake.list_networks() == []
    after = await nubo.ns.get(nsr.id)
    assert after.status == NsStatus.ERROR
    assert all(
        c.state == VnfcState.DELETED for v in after.vnfr for d in v.vdu for c in d.vnfc_instance
    )


@pytest.mark.parametrize(
    "point",
    INSTANTIATE_POINTS,
)
async def test_fault_at_any_step_rolls_back(tmp_path: Path, point: str) -> None:
    async def hook(operation: str, where: str) -> None:
        if operation == "INSTANTIATE" and where == point:
            raise RuntimeError(f"injected fault at {where}")

    app = fake_nubo(tmp_path, fault_hook=hook)
    await app.start()
    try:
        fake = await fake_of(app)
        entry = await app.catalogue.onboard(NSD.read_bytes())
        _, op = await app.ns.instantiate(entry.id)
        done = await finish(app, op)
        assert done.state == OpState.ROLLED_BACK
        assert "injected fault" in str(done.error)
        assert await fake.list_servers() == []
        assert await fake.list_networks() == []
    finally:
        await app.stop()


async def test_missing_image_fails_before_creating_anything(nubo: Nubo) -> None:
    fake = await fake_of(nubo)
    fake.images = {"nubo/sipp-server:latest"}
    entry = await nubo.catalogue.onboard(NSD.read_bytes())
    _, op = await nubo.ns.instantiate(entry.id)
    done = await finish(nubo, op)
    assert done.state == OpState.ROLLED_BACK
    assert done.error is not None and done.error["code"] == "IMAGE_NOT_FOUND"
    assert "nubo/sipp-client:latest" in str(done.error["detail"])
    assert fake.networks == {}


async def test_terminate_removes_everything_and_frees_the_nsd(nubo: Nubo) -> None:
    fake = await fake_of(nubo)
    nsr_id = await deploy(nubo)
    nsr = await nubo.ns.get(nsr_id)
    with pytest.raises(Conflict):
        await nubo.catalogue.delete(nsr.descriptor_reference)
    op = await nubo.ns.terminate(nsr_id)
    assert (await finish(nubo, op)).state == OpState.COMPLETED
    assert (await nubo.ns.get(nsr_id)).status == NsStatus.TERMINATED
    assert await fake.list_servers() == []
    assert await fake.list_networks() == []
    await nubo.catalogue.delete(nsr.descriptor_reference)
    with pytest.raises(Conflict, match="it is TERMINATED"):
        await nubo.ns.terminate(nsr_id)


async def test_second_operation_on_busy_ns_is_refused(nubo: Nubo) -> None:
    fake = await fake_of(nubo)
    nsr_id = await deploy(nubo)
    nsr = await nubo.ns.get(nsr_id)
    client = nsr.vnfr_by_name("sipp-client")
    fake.delay = 0.2
    op = await nubo.ns.scale_out(nsr_id, client.id, client.vdu[0].id)
    with pytest.raises(Conflict, match="busy"):
        await nubo.ns.terminate(nsr_id)
    assert (await finish(nubo, op)).state == OpState.COMPLETED


async def test_stop_and_start_a_vnfc(nubo: Nubo) -> None:
    nsr_id = await deploy(nubo)
    nsr = await nubo.ns.get(nsr_id)
    client = nsr.vnfr_by_name("sipp-client")
    vnfc = client.vnfcs()[0]
    op = await nubo.ns.stop_vnfc(nsr_id, client.id, client.vdu[0].id, vnfc.id)
    assert (await finish(nubo, op)).state == OpState.COMPLETED
    _, _, stopped = (await nubo.ns.get(nsr_id)).find_vnfc(vnfc.id)
    assert stopped.state == VnfcState.EXITED
    op = await nubo.ns.start_vnfc(nsr_id, client.id, client.vdu[0].id, vnfc.id)
    done = await finish(nubo, op)
    assert done.state == OpState.COMPLETED, done.error
    _, _, started = (await nubo.ns.get(nsr_id)).find_vnfc(vnfc.id)
    assert started.state == VnfcState.RUNNING


def pause_at(point: str) -> tuple[FaultHook, asyncio.Event]:
    """A fault hook that stops the workflow at ``point`` until the orchestrator stops."""
    reached = asyncio.Event()

    async def hook(operation: str, where: str) -> None:
        if f"{operation}:{where}" == point:
            reached.set()
            await asyncio.Event().wait()

    return hook, reached


async def interrupted(tmp_path: Path, point: str, before: str = "") -> tuple[str, str]:
    """Deploy (unless ``before`` is empty), run an operation up to ``point``, stop nubo."""
    hook, reached = pause_at(point)
    app = fake_nubo(tmp_path, fault_hook=hook)
    await app.start()
    try:
        entry = await app.catalogue.onboard(NSD.read_bytes())
        nsr, op = await app.ns.instantiate(entry.id)
        if before:
            assert (await finish(app, op)).state == OpState.COMPLETED
            op = await (
                app.ns.terminate(nsr.id)
                if before == "terminate"
                else app.ns.scale_in(
                    nsr.id,
                    nsr.vnfr_by_name("sipp-server").id,
                    nsr.vnfr_by_name("sipp-server").vdu[0].id,
                )
            )
        await asyncio.wait_for(reached.wait(), 5)
    finally:
        await app.stop()  # interrupts the operation, as a crash would
    return nsr.id, op.id


# before anything started: the in-memory VIM loses its servers with the process, so later
# points (with running servers, which a Docker Engine keeps) are proven on Docker
@pytest.mark.parametrize("point", ["after:create-networks", "after:allocate", "after:configure"])
async def test_interrupted_instantiate_is_resumed_at_start(tmp_path: Path, point: str) -> None:
    nsr_id, op_id = await interrupted(tmp_path, f"INSTANTIATE:{point}")
    again = fake_nubo(tmp_path)
    await again.start()
    try:
        done = await again.runner.wait(op_id, timeout=5)
        assert done.state == OpState.COMPLETED, done.error
        [resume] = [s for s in done.steps if s.name == "resume"]
        kind, step = point.split(":", 1)
        where = f"after step {step}" if kind == "after" else f"during step {step}"
        assert resume.detail.startswith(f"the orchestrator stopped {where};"), resume.detail
        nsr = await again.ns.get(nsr_id)
        assert nsr.status == NsStatus.ACTIVE
        # nothing planned twice: one VNFC per VDU, each RUNNING on the VIM
        assert sorted(c.hostname for c in nsr.all_vnfcs()) == ["sipp-client-0", "sipp-server-0"]
        fake = await fake_of(again)
        servers = await fake.list_servers({})
        assert sorted(s.id for s in servers) == sorted(c.vc_id for c in nsr.all_vnfcs())
        client = nsr.vnfr_by_name("sipp-client").vnfcs()[0]
        server = nsr.vnfr_by_name("sipp-server").vnfcs()[0]
        assert client.environment["SERVER_PRIVATE"] == server.addresses["private"]
    finally:
        await again.stop()


async def test_interrupted_terminate_is_completed_at_start(tmp_path: Path) -> None:
    nsr_id, op_id = await interrupted(tmp_path, "TERMINATE:after:remove-vnfcs", "terminate")
    again = fake_nubo(tmp_path)
    await again.start()
    try:
        done = await again.runner.wait(op_id, timeout=5)
        assert done.state == OpState.COMPLETED, done.error
        assert (await again.ns.get(nsr_id)).status == NsStatus.TERMINATED
    finally:
        await again.stop()


async def test_failed_scale_out_removes_only_the_new_vnfc(nubo: Nubo) -> None:
    fake = await fake_of(nubo)
    nsr_id = await deploy(nubo)
    nsr = await nubo.ns.get(nsr_id)
    client = nsr.vnfr_by_name("sipp-client")
    fake.fail_start_for = {"nubo/sipp-client:latest"}
    op = await nubo.ns.scale_out(nsr_id, client.id, client.vdu[0].id)
    done = await finish(nubo, op)
    assert done.state == OpState.ROLLED_BACK
    assert done.error is not None and done.error["step"] == "start"
    after = await nubo.ns.get(nsr_id)
    assert after.status == NsStatus.ACTIVE
    assert [c.hostname for c in after.vnfr_by_name("sipp-client").vdu[0].vnfc_instance] == [
        "sipp-client-0"
    ]
    assert len(await fake.list_servers()) == 2


async def test_scale_cycles_never_reuse_a_hostname(nubo: Nubo) -> None:
    nsr_id = await deploy(nubo)
    client = (await nubo.ns.get(nsr_id)).vnfr_by_name("sipp-client")
    vdu_id = client.vdu[0].id
    for _ in range(2):
        await finish(nubo, await nubo.ns.scale_out(nsr_id, client.id, vdu_id))
    first_extra = (await nubo.ns.get(nsr_id)).vnfr_by_name("sipp-client").vnfcs()[1]
    await finish(nubo, await nubo.ns.scale_in(nsr_id, client.id, vdu_id, first_extra.id))
    await finish(nubo, await nubo.ns.scale_out(nsr_id, client.id, vdu_id))
    vnfcs = (await nubo.ns.get(nsr_id)).vnfr_by_name("sipp-client").vnfcs()
    assert [c.hostname for c in vnfcs] == ["sipp-client-0", "sipp-client-2", "sipp-client-3"]


async def test_unreachable_vim_fails_fast_and_rolls_back_nothing(nubo: Nubo) -> None:
    fake = await fake_of(nubo)
    fake.unreachable = True
    entry = await nubo.catalogue.onboard(NSD.read_bytes())
    nsr, op = await nubo.ns.instantiate(entry.id)
    done = await finish(nubo, op)
    assert done.state == OpState.ROLLED_BACK
    assert done.error is not None and done.error["code"] == "VIM_UNREACHABLE"
    assert done.error["step"] == "check-images"
    assert (await nubo.ns.get(nsr.id)).status == NsStatus.ERROR


async def test_failed_rollback_leaves_the_ns_in_error(nubo: Nubo) -> None:
    fake = await fake_of(nubo)
    fake.fail_start_for = {"nubo/sipp-client:latest"}
    original = fake.delete_server

    async def broken_delete(server_id: str) -> None:
        fake.unreachable = True
        await original(server_id)

    fake.delete_server = broken_delete  # type: ignore[method-assign]
    entry = await nubo.catalogue.onboard(NSD.read_bytes())
    nsr, op = await nubo.ns.instantiate(entry.id)
    done = await finish(nubo, op)
    assert done.state == OpState.FAILED
    assert done.error is not None and "unreachable" in str(done.error["rollback_error"])
    assert (await nubo.ns.get(nsr.id)).status == NsStatus.ERROR


async def test_heal_restarts_a_crashed_vnfc_in_place(nubo: Nubo) -> None:
    fake = await fake_of(nubo)
    nsr_id = await deploy(nubo)
    server = (await nubo.ns.get(nsr_id)).vnfr_by_name("sipp-server").vnfcs()[0]
    fake.crash(server.vc_id, exit_code=137)
    done = await finish(nubo, await nubo.ns.heal(nsr_id, server.id, cause="test"))
    assert done.state == OpState.COMPLETED, done.error
    assert done.steps[0].detail == "restarted in place"
    healed = (await nubo.ns.get(nsr_id)).vnfr_by_name("sipp-server").vnfcs()[0]
    assert healed.state == VnfcState.RUNNING and healed.vc_id == server.vc_id


async def test_heal_recreates_a_vanished_vnfc_with_its_address(nubo: Nubo) -> None:
    fake = await fake_of(nubo)
    nsr_id = await deploy(nubo)
    server = (await nubo.ns.get(nsr_id)).vnfr_by_name("sipp-server").vnfcs()[0]
    fake.vanish(server.vc_id)
    done = await finish(nubo, await nubo.ns.heal(nsr_id, server.id))
    assert done.state == OpState.COMPLETED, done.error
    assert [s.name for s in done.steps] == [
        "restart sipp-server-0",
        "recreate sipp-server-0",
        "verify",
    ]
    healed = (await nubo.ns.get(nsr_id)).vnfr_by_name("sipp-server").vnfcs()[0]
    assert healed.vc_id != server.vc_id
    assert healed.addresses == server.addresses
    container = fake.container_of(healed.vc_id)
    assert container is not None and container.environment == server.environment


async def test_operations_fail_fast_on_a_vim_known_to_be_down(nubo: Nubo) -> None:
    nsr_id = await deploy(nubo)
    nsr = await nubo.ns.get(nsr_id)
    nubo.vims.mark_unreachable(nsr.vim_id, "connection refused")
    client = nsr.vnfr_by_name("sipp-client")
    with pytest.raises(VimUnreachable, match="connection refused"):
        await nubo.ns.scale_out(nsr_id, client.id, client.vdu[0].id)
    entry = await nubo.catalogue.onboard(NSD.read_bytes())
    with pytest.raises(VimUnreachable):
        await nubo.ns.instantiate(entry.id)
    nubo.vims.mark_reachable(nsr.vim_id)
    op = await nubo.ns.scale_out(nsr_id, client.id, client.vdu[0].id)
    assert (await finish(nubo, op)).state == OpState.COMPLETED


async def test_observed_state_is_recorded_unless_the_ns_is_busy(nubo: Nubo) -> None:
    fake = await fake_of(nubo)
    nsr_id = await deploy(nubo)
    nsr = await nubo.ns.get(nsr_id)
    vnfc = nsr.vnfr_by_name("sipp-client").vnfcs()[0]
    assert await nubo.ns.observe_vnfc(nsr_id, vnfc.id, VnfcState.FAILED)
    _, _, seen = (await nubo.ns.get(nsr_id)).find_vnfc(vnfc.id)
    assert seen.state == VnfcState.FAILED
    fake.delay = 0.2
    op = await nubo.ns.heal(nsr_id, vnfc.id)
    assert not await nubo.ns.observe_vnfc(nsr_id, vnfc.id, VnfcState.EXITED)
    assert (await finish(nubo, op)).state == OpState.COMPLETED
