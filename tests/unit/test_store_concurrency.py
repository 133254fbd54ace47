"""Several writers on one database: compare-and-set records, one transaction per
step, and NS leases that every replica sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from nubo.model.errors import Busy, NotFound, StaleRecord
from nubo.model.records import LcmOpOcc, NetworkServiceRecord
from nubo.model.states import LcmOperationType, NsStatus, OpState
from nubo.store.leases import SqlLeases
from nubo.store.sql import SqlStore


def nsr(nsr_id: str = "ns-1") -> NetworkServiceRecord:
    return NetworkServiceRecord(
        id=nsr_id, name="svc", descriptor_reference="nsd-1", status=NsStatus.ACTIVE
    )


def occurrence(op_id: str = "op-1", nsr_id: str = "ns-1") -> LcmOpOcc:
    return LcmOpOcc(id=op_id, nsr_id=nsr_id, operation=LcmOperationType.SCALE_OUT)


class Clock:
    """A settable wall clock for lease expiry."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# -- records ---------------------------------------------------------------------


async def test_every_write_bumps_the_revision(store: SqlStore) -> None:
    record = nsr()
    await store.save_nsr(record)
    assert record.revision == 1
    record.set_status(NsStatus.SCALING)
    await store.save_nsr(record)
    assert record.revision == 2
    assert (await store.get_nsr("ns-1")).revision == 2
    assert [r.revision for r in await store.list_nsrs()] == [2]


async def test_a_stale_copy_cannot_overwrite_a_newer_write(store: SqlStore) -> None:
    await store.save_nsr(nsr())
    first, second = await store.get_nsr("ns-1"), await store.get_nsr("ns-1")
    first.set_status(NsStatus.SCALING)
    await store.save_nsr(first)
    second.set_status(NsStatus.TERMINATING)
    with pytest.raises(StaleRecord) as refused:
        await store.save_nsr(second)
    assert refused.value.extra == {"id": "ns-1", "read_revision": 1, "current_revision": 2}
    assert (await store.get_nsr("ns-1")).status == NsStatus.SCALING


async def test_a_stale_occurrence_is_refused_too(store: SqlStore) -> None:
    await store.save_op(occurrence())
    one, two = await store.get_op("op-1"), await store.get_op("op-1")
    one.set_state(OpState.FAILED_TEMP)
    await store.save_op(one)
    two.set_state(OpState.COMPLETED)
    with pytest.raises(StaleRecord):
        await store.save_op(two)
    assert (await store.get_op("op-1")).state == OpState.FAILED_TEMP


async def test_writing_a_deleted_record_is_not_found(store: SqlStore) -> None:
    record = nsr()
    await store.save_nsr(record)
    await store.delete_nsr("ns-1")
    with pytest.raises(NotFound, match="NSR ns-1 not found"):
        await store.save_nsr(record)


async def test_a_step_writes_the_nsr_and_the_occurrence_together_or_not_at_all(
    store: SqlStore,
) -> None:
    record, op = nsr(), occurrence()
    await store.create_ns_operation(record, op)
    assert (record.revision, op.revision) == (1, 1)
    stale = await store.get_op("op-1")
    op.set_state(OpState.FAILED_TEMP)
    await store.save_op(op)  # someone else moved the occurrence on

    record.set_status(NsStatus.ERROR)
    stale.set_state(OpState.COMPLETED)
    with pytest.raises(StaleRecord):
        await store.save_progress(record, stale)
    # the NSR half of the failed transaction was rolled back with it
    assert (await store.get_nsr("ns-1")).status == NsStatus.ACTIVE
    assert record.revision == 1


async def test_creating_an_existing_ns_is_a_conflict(store: SqlStore) -> None:
    await store.create_ns_operation(nsr(), occurrence())
    with pytest.raises(Exception, match="already exists"):
        await store.create_ns_operation(nsr(), occurrence("op-2"))
    with pytest.raises(NotFound):
        await store.get_op("op-2")


# -- leases ----------------------------------------------------------------------


async def test_a_lease_is_seen_by_every_replica(store: SqlStore) -> None:
    a = SqlLeases(store.engine, "replica-a")
    b = SqlLeases(store.engine, "replica-b")
    await a.acquire("ns-1", "op-1")
    with pytest.raises(Busy) as refused:
        await b.acquire("ns-1", "op-2")
    assert refused.value.extra["busy_operation"] == "op-1"
    assert refused.value.status == 409
    with pytest.raises(Busy):
        await a.acquire("ns-1", "op-3")  # the same replica is refused as well
    assert await b.holder("ns-1") == "op-1"
    assert await b.holders() == {"ns-1": "op-1"}
    assert await b.holders(["ns-2"]) == {}

    await b.release("ns-1", "op-2")  # not its lease: nothing happens
    assert await a.holder("ns-1") == "op-1"
    await a.release("ns-1", "op-1")
    assert await a.holder("ns-1") is None
    await b.acquire("ns-1", "op-2")
    assert await a.holder("ns-1") == "op-2"


async def test_a_lease_nobody_renews_expires_and_is_taken_over(store: SqlStore) -> None:
    clock = Clock()
    dead = SqlLeases(store.engine, "replica-a", ttl=10, clock=clock)
    alive = SqlLeases(store.engine, "replica-b", ttl=10, clock=clock)
    await dead.acquire("ns-1", "op-1")
    clock.advance(9)
    with pytest.raises(Busy):
        await alive.acquire("ns-1", "op-2")
    clock.advance(2)
    assert await alive.holder("ns-1") is None  # expired: nobody holds it any more
    await alive.acquire("ns-1", "op-2")
    assert await dead.holder("ns-1") == "op-2"
    # the dead replica's late release cannot drop the new holder's lease
    await dead.release("ns-1", "op-1")
    assert await alive.holder("ns-1") == "op-2"


async def test_renewal_keeps_the_owners_leases_alive(store: SqlStore) -> None:
    clock = Clock()
    mine = SqlLeases(store.engine, "replica-a", ttl=10, clock=clock)
    other = SqlLeases(store.engine, "replica-b", ttl=10, clock=clock)
    await mine.acquire("ns-1", "op-1")
    await other.acquire("ns-2", "op-2")
    clock.advance(8)
    assert await mine.renew() == 1
    clock.advance(8)
    assert await other.holders() == {"ns-1": "op-1"}  # ns-2's lease expired, ns-1's did not


async def test_a_restarted_replica_takes_its_own_leases_back_at_once(store: SqlStore) -> None:
    before = SqlLeases(store.engine, "replica-a")
    await before.acquire("ns-1", "op-1")
    await SqlLeases(store.engine, "replica-b").acquire("ns-2", "op-2")
    again = SqlLeases(store.engine, "replica-a")
    assert await again.release_owned() == 1
    assert await again.holders() == {"ns-2": "op-2"}
