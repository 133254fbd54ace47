"""Two nubo replicas on one database: a busy NS is busy on both, an Idempotency-Key
deploys once whichever replica gets the request, a held operation is decided once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from nubo.app import Nubo
from nubo.vim.fake import FakeVimDriver
from tests.conftest import api_client, fake_nubo, running
from tests.databases import database_url_for
from tests.unit.test_api import NSD, assert_problem, wait_op
from tests.unit.test_nslcm import settle


@pytest.fixture
async def replicas(tmp_path: Path) -> AsyncIterator[tuple[Nubo, Nubo]]:
    url = database_url_for(tmp_path / "shared")  # one database, two replicas
    a = fake_nubo(tmp_path / "a", database_url=url, replica_id="replica-a")
    b = fake_nubo(tmp_path / "b", database_url=url, replica_id="replica-b")
    async with running(a), running(b):
        yield a, b


async def slow_vim(app: Nubo, delay: float) -> None:
    driver = await app.vims.driver((await app.vims.default()).id)
    assert isinstance(driver, FakeVimDriver)
    driver.delay = delay


async def onboard(http: httpx.AsyncClient) -> str:
    r = await http.post("/api/v1/ns-descriptors", content=NSD.read_bytes())
    assert r.status_code == 201, r.text
    nsd_id: str = r.json()["id"]
    return nsd_id


async def test_a_busy_ns_answers_409_on_either_replica(replicas: tuple[Nubo, Nubo]) -> None:
    a, b = replicas
    await slow_vim(a, 0.2)
    async with api_client(a) as on_a, api_client(b) as on_b:
        nsd_id = await onboard(on_a)
        deployed = await on_a.post(f"/api/v1/ns-records/{nsd_id}", json={"name": "svc"})
        assert deployed.status_code == 202
        nsr_id = deployed.json()["id"]
        for http in (on_b, on_a):
            refused = await http.delete(f"/api/v1/ns-records/{nsr_id}")
            body = assert_problem(refused, 409, "BUSY")
            assert body["busy_operation"] in deployed.headers["location"]
        op = await wait_op(on_b, deployed.headers["location"])  # B reads A's progress
        assert op["state"] == "COMPLETED"
        assert [s["name"] for s in op["steps"]][-1] == "verify"
        # once A finished, B may operate on the NS (its own fake VIM knows no servers,
        # so only check that the lease was free: the terminate is accepted)
        accepted = await on_b.delete(f"/api/v1/ns-records/{nsr_id}")
        assert accepted.status_code == 202, accepted.text
        await wait_op(on_b, accepted.headers["location"])


async def test_one_idempotency_key_sent_to_both_replicas_deploys_once(
    replicas: tuple[Nubo, Nubo],
) -> None:
    a, b = replicas
    async with api_client(a) as on_a, api_client(b) as on_b:
        nsd_id = await onboard(on_a)
        headers = {"Idempotency-Key": "same-request"}
        first, second = await asyncio.gather(
            on_a.post(f"/api/v1/ns-records/{nsd_id}", headers=headers, json={"name": "x"}),
            on_b.post(f"/api/v1/ns-records/{nsd_id}", headers=headers, json={"name": "x"}),
        )
        assert first.status_code == second.status_code == 202, (first.text, second.text)
        assert first.json()["id"] == second.json()["id"]
        assert first.headers["location"] == second.headers["location"]
        await wait_op(on_a, first.headers["location"])
        assert len((await on_a.get("/api/v1/ns-records")).json()) == 1
        assert len(await a.repositories.operations.list_ops()) == 1


async def test_a_held_operation_is_decided_once_across_replicas(
    replicas: tuple[Nubo, Nubo],
) -> None:
    a, b = replicas
    driver = await a.vims.driver((await a.vims.default()).id)
    assert isinstance(driver, FakeVimDriver)
    driver.fail_start_for = {"nubo/sipp-client:latest"}
    async with api_client(a) as on_a, api_client(b) as on_b:
        nsd_id = await onboard(on_a)
        created = await on_a.post(
            "/nslcm/v1/ns_instances", json={"nsdId": nsd_id, "nsName": "held"}
        )
        assert created.status_code == 201, created.text
        ns_id = created.json()["id"]
        started = await on_a.post(
            f"/nslcm/v1/ns_instances/{ns_id}/instantiate", json={"nsFlavourId": "default"}
        )
        location = started.headers["location"]
        assert (await settle(on_a, started))["operationState"] == "FAILED_TEMP"

        # a fail on B and a rollback on A at once: exactly one wins
        failed, rolled = await asyncio.gather(
            on_b.post(f"{location}/fail"), on_a.post(f"{location}/rollback")
        )
        codes = sorted([failed.status_code, rolled.status_code])
        assert codes[1] == 409 and codes[0] in (200, 202), (failed.text, rolled.text)
        winner, loser = (rolled, failed) if failed.status_code == 409 else (failed, rolled)
        assert loser.json()["code"] in ("BUSY", "CONFLICT"), loser.text
        final = await settle(on_a, winner) if winner.status_code == 202 else winner.json()
        assert final["operationState"] in ("FAILED", "ROLLED_BACK")
        assert final["operationState"] == ("ROLLED_BACK" if winner is rolled else "FAILED")


async def test_one_replica_leads_the_background_loops_and_another_takes_over(
    tmp_path: Path,
) -> None:
    url = database_url_for(tmp_path / "shared")  # one database, two replicas
    quick = {"database_url": url, "lease_seconds": 0.6, "background": True}
    a = fake_nubo(tmp_path / "a", replica_id="replica-a", **quick)
    b = fake_nubo(tmp_path / "b", replica_id="replica-b", **quick)
    async with running(a), running(b):
        assert (a.leading, b.leading) == (True, False)
        assert a.fault.running and not b.fault.running
        await a.stop()  # resigns: b leads at its next round, without waiting for expiry
        for _ in range(50):
            if b.leading:
                break
            await asyncio.sleep(0.05)
        assert b.leading and b.fault.running
        await a.start()
        await asyncio.sleep(0.5)
        assert (a.leading, b.leading) == (False, True)  # no flapping back


async def test_an_operation_a_stopped_replica_left_is_taken_over_by_another(
    tmp_path: Path,
) -> None:
    url = database_url_for(tmp_path / "shared")  # one database, two replicas
    reached = asyncio.Event()

    async def pause(operation: str, where: str) -> None:
        if f"{operation}:{where}" == "INSTANTIATE:after:allocate":
            reached.set()
            await asyncio.Event().wait()

    a = fake_nubo(tmp_path / "a", database_url=url, replica_id="a", fault_hook=pause)
    b = fake_nubo(tmp_path / "b", database_url=url, replica_id="b", lease_seconds=0.6)
    async with running(b):
        await a.start()
        try:
            entry = await a.catalogue.onboard(NSD.read_bytes())
            nsr, op = await a.ns.instantiate(entry.id)
            await asyncio.wait_for(reached.wait(), 5)
            assert await b.runner.locks.holder(nsr.id) == op.id
            await asyncio.sleep(0.5)
            assert op.id not in b.runner.running()  # a's lease is alive: b keeps off
        finally:
            await a.stop()  # the occurrence stays PROCESSING, as after a crash
        for _ in range(60):
            if op.id in b.runner.running():
                break
            await asyncio.sleep(0.05)
        done = await b.runner.wait(op.id, timeout=10)
        assert done.state.value == "COMPLETED", done.error
        [resume] = [s for s in done.steps if s.name == "resume"]
        assert "replica b runs the operation again" in resume.detail
        assert (await b.ns.get(nsr.id)).status.value == "ACTIVE"


async def test_a_cancel_sent_to_another_replica_stops_the_operation(tmp_path: Path) -> None:
    reached = asyncio.Event()

    async def hang_after_networks(operation: str, where: str) -> None:
        if f"{operation}:{where}" == "INSTANTIATE:after:create-networks":
            reached.set()
            await asyncio.sleep(60)

    url = database_url_for(tmp_path / "shared")
    a = fake_nubo(tmp_path / "a", database_url=url, replica_id="a", fault_hook=hang_after_networks)
    b = fake_nubo(tmp_path / "b", database_url=url, replica_id="b")
    async with running(a), running(b), api_client(a) as on_a, api_client(b) as on_b:
        nsd_id = await onboard(on_a)
        created = await on_a.post("/nslcm/v1/ns_instances", json={"nsdId": nsd_id, "nsName": "c"})
        ns_id = created.json()["id"]
        started = await on_a.post(
            f"/nslcm/v1/ns_instances/{ns_id}/instantiate", json={"nsFlavourId": "default"}
        )
        await asyncio.wait_for(reached.wait(), 5)
        op_path = started.headers["location"].split("://", 1)[-1].split("/", 1)[-1]
        loop = asyncio.get_running_loop()
        asked = loop.time()
        cancel = await on_b.post(f"/{op_path}/cancel", json={"cancelMode": "FORCEFUL"})
        op = await settle(on_b, cancel)  # B answers once A has stopped the work
        assert loop.time() - asked < 5
        assert op["operationState"] == "FAILED_TEMP" and op["error"]["code"] == "CANCELLED"
        # A ran it, so A's VIM holds the network: A rolls it back
        rolled = await settle(on_a, await on_a.post(f"/{op_path}/rollback"))
        assert rolled["operationState"] == "ROLLED_BACK"
        driver = await a.vims.driver((await a.vims.default()).id)
        assert await driver.list_networks({}) == []
        # a finished operation cannot be cancelled, on either replica
        for http in (on_a, on_b):
            assert_problem(await http.post(f"/{op_path}/cancel"), 409, "CONFLICT")
