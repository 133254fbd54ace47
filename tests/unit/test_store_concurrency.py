"""Several writers on one database: compare-and-set records, one transaction per
step, and NS leases that every replica sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, insert, select

from nubo.app import Repositories
from nubo.model.errors import Busy, NotFound, StaleRecord
from nubo.model.records import (
    LcmOpOcc,
    NetworkServiceRecord,
    VduRecord,
    VirtualLinkRecord,
    VnfcInstance,
    VnfRecord,
)
from nubo.model.states import LcmOperationType, NsStatus, OpState, VnfcState
from nubo.store.database import Database
from nubo.store.leases import SqlLeases
from nubo.store.records import SqlNsRecordRepository
from nubo.store.schema import MIGRATIONS_DIR
from nubo.store.tables import nsrs, virtual_links, vnfc_instances


def nsr(nsr_id: str = "ns-1") -> NetworkServiceRecord:
    return NetworkServiceRecord(
        project_id="default",
        id=nsr_id,
        name="svc",
        descriptor_reference="nsd-1",
        status=NsStatus.ACTIVE,
    )


def occurrence(op_id: str = "op-1", nsr_id: str = "ns-1") -> LcmOpOcc:
    return LcmOpOcc(
        project_id="default", id=op_id, nsr_id=nsr_id, operation=LcmOperationType.SCALE_OUT
    )


class Clock:
    """A settable wall clock for lease expiry."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# -- records ---------------------------------------------------------------------


async def test_every_write_bumps_the_revision(store: Repositories) -> None:
    record = nsr()
    await store.nsrs.save_nsr(record)
    assert record.revision == 1
    record.set_status(NsStatus.SCALING)
    await store.nsrs.save_nsr(record)
    assert record.revision == 2
    assert (await store.nsrs.get_nsr("ns-1")).revision == 2
    assert [r.revision for r in await store.nsrs.list_nsrs()] == [2]


async def test_a_stale_copy_cannot_overwrite_a_newer_write(store: Repositories) -> None:
    await store.nsrs.save_nsr(nsr())
    first, second = await store.nsrs.get_nsr("ns-1"), await store.nsrs.get_nsr("ns-1")
    first.set_status(NsStatus.SCALING)
    await store.nsrs.save_nsr(first)
    second.set_status(NsStatus.TERMINATING)
    with pytest.raises(StaleRecord) as refused:
        await store.nsrs.save_nsr(second)
    assert refused.value.extra == {"id": "ns-1", "read_revision": 1, "current_revision": 2}
    assert (await store.nsrs.get_nsr("ns-1")).status == NsStatus.SCALING


async def test_a_stale_occurrence_is_refused_too(store: Repositories) -> None:
    await store.operations.save_op(occurrence())
    one, two = await store.operations.get_op("op-1"), await store.operations.get_op("op-1")
    one.set_state(OpState.FAILED_TEMP)
    await store.operations.save_op(one)
    two.set_state(OpState.COMPLETED)
    with pytest.raises(StaleRecord):
        await store.operations.save_op(two)
    assert (await store.operations.get_op("op-1")).state == OpState.FAILED_TEMP


async def test_writing_a_deleted_record_is_not_found(store: Repositories) -> None:
    record = nsr()
    await store.nsrs.save_nsr(record)
    await store.nsrs.delete_nsr("ns-1")
    with pytest.raises(NotFound, match="NSR ns-1 not found"):
        await store.nsrs.save_nsr(record)


async def test_a_step_writes_the_nsr_and_the_occurrence_together_or_not_at_all(
    store: Repositories,
) -> None:
    record, op = nsr(), occurrence()
    await store.operations.create_ns_operation(record, op)
    assert (record.revision, op.revision) == (1, 1)
    stale = await store.operations.get_op("op-1")
    op.set_state(OpState.FAILED_TEMP)
    await store.operations.save_op(op)  # someone else moved the occurrence on

    record.set_status(NsStatus.ERROR)
    stale.set_state(OpState.COMPLETED)
    with pytest.raises(StaleRecord):
        await store.operations.save_progress(record, stale)
    # the NSR half of the failed transaction was rolled back with it
    assert (await store.nsrs.get_nsr("ns-1")).status == NsStatus.ACTIVE
    assert record.revision == 1


async def test_creating_an_existing_ns_is_a_conflict(store: Repositories) -> None:
    await store.operations.create_ns_operation(nsr(), occurrence())
    with pytest.raises(Exception, match="already exists"):
        await store.operations.create_ns_operation(nsr(), occurrence("op-2"))
    with pytest.raises(NotFound):
        await store.operations.get_op("op-2")


# -- leases ----------------------------------------------------------------------


async def test_a_lease_is_seen_by_every_replica(database: Database) -> None:
    a = SqlLeases(database, "replica-a")
    b = SqlLeases(database, "replica-b")
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


async def test_a_lease_nobody_renews_expires_and_is_taken_over(database: Database) -> None:
    clock = Clock()
    dead = SqlLeases(database, "replica-a", ttl=10, clock=clock)
    alive = SqlLeases(database, "replica-b", ttl=10, clock=clock)
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


async def test_renewal_keeps_the_owners_leases_alive(database: Database) -> None:
    clock = Clock()
    mine = SqlLeases(database, "replica-a", ttl=10, clock=clock)
    other = SqlLeases(database, "replica-b", ttl=10, clock=clock)
    await mine.acquire("ns-1", "op-1")
    await other.acquire("ns-2", "op-2")
    clock.advance(8)
    assert await mine.renew() == 1
    clock.advance(8)
    assert await other.holders() == {"ns-1": "op-1"}  # ns-2's lease expired, ns-1's did not


async def test_a_restarted_replica_takes_its_own_leases_back_at_once(database: Database) -> None:
    before = SqlLeases(database, "replica-a")
    await before.acquire("ns-1", "op-1")
    await SqlLeases(database, "replica-b").acquire("ns-2", "op-2")
    again = SqlLeases(database, "replica-a")
    assert await again.release_owned() == 1
    assert await again.holders() == {"ns-2": "op-2"}


# -- the index of VNFCs and virtual links ------------------------------------------


def with_parts(nsr_id: str, states: list[VnfcState], vim: str = "vim-1") -> NetworkServiceRecord:
    record = nsr(nsr_id)
    record.vim_id = vim
    vnfcs = [
        VnfcInstance(
            id=f"{nsr_id}-c{i}",
            vdu_id="vdu",
            hostname=f"h{i}",
            state=state,
            vim_id=vim,
            vc_id=f"{nsr_id}-server-{i}",
        )
        for i, state in enumerate(states)
    ]
    vdu = VduRecord(id="vdu", name="vdu", image="img", scale_in_out=5, vnfc_instance=vnfcs)
    record.vnfr = [VnfRecord(id=f"{nsr_id}-vnfr", name="vnf", type="t", vdu=[vdu])]
    record.vlr = [VirtualLinkRecord(id="l", name="private", vim_network_id=f"net-{nsr_id}")]
    return record


async def test_vnfcs_are_queried_without_loading_their_ns(store: Repositories) -> None:
    running = with_parts("ns-a", [VnfcState.RUNNING, VnfcState.RUNNING])
    await store.nsrs.save_nsr(running)
    await store.nsrs.save_nsr(with_parts("ns-b", [VnfcState.RUNNING, VnfcState.EXITED]))
    await store.nsrs.save_nsr(with_parts("ns-c", [VnfcState.RUNNING], vim="vim-2"))

    on_one = await store.nsrs.vnfc_locations(vim_id="vim-1")
    assert sorted(v.vnfc_id for v in on_one) == ["ns-a-c0", "ns-a-c1", "ns-b-c0", "ns-b-c1"]
    not_running = {v.nsr_id for v in on_one if v.state != VnfcState.RUNNING}
    assert not_running == {"ns-b"}

    owner = await store.nsrs.vnfc_on_server("vim-2", "ns-c-server-0")
    assert owner is not None and (owner.nsr_id, owner.vnfc_id) == ("ns-c", "ns-c-c0")
    assert owner.ns_status == NsStatus.ACTIVE and owner.vnfr_id == "ns-c-vnfr"
    assert await store.nsrs.vnfc_on_server("vim-1", "ns-c-server-0") is None

    # the rows follow every write of their NSR, and its status filters them
    running.vnfr[0].vdu[0].vnfc_instance[1].set_state(VnfcState.FAILED)
    running.vnfr[0].vdu[0].vnfc_instance.pop(0)
    running.set_status(NsStatus.TERMINATING)
    await store.nsrs.save_nsr(running)
    [left] = await store.nsrs.vnfc_locations(nsr_ids=["ns-a"])
    assert (left.vnfc_id, left.state, left.ns_status) == (
        "ns-a-c1",
        VnfcState.FAILED,
        NsStatus.TERMINATING,
    )
    active = await store.nsrs.vnfc_locations(ns_statuses=[NsStatus.ACTIVE])
    assert {v.nsr_id for v in active} == {"ns-b", "ns-c"}
    assert await store.nsrs.ns_statuses(["ns-a", "ns-x"]) == {"ns-a": NsStatus.TERMINATING}

    await store.nsrs.delete_nsr("ns-b")
    assert {v.nsr_id for v in await store.nsrs.vnfc_locations()} == {"ns-a", "ns-c"}


async def index_rows(database: Database, nsr_id: str) -> tuple[set[tuple[str, ...]], ...]:
    """The raw VNFC and virtual link rows of an NSR."""
    c, link = vnfc_instances.c, virtual_links.c
    async with database.engine.connect() as conn:
        vnfcs = await conn.execute(
            select(c.id, c.vnfr_id, c.vdu_id, c.hostname, c.vim_id, c.vc_id, c.state).where(
                c.nsr_id == nsr_id
            )
        )
        links = await conn.execute(
            select(link.name, link.vim_network_id).where(link.nsr_id == nsr_id)
        )
        return {tuple(r) for r in vnfcs}, {tuple(r) for r in links}


def rows_of(record: NetworkServiceRecord) -> tuple[set[tuple[str, ...]], ...]:
    vnfcs = {
        (v.id, vnfr.id, vdu.id, v.hostname, v.vim_id or "", v.vc_id, v.state.value)
        for vnfr in record.vnfr
        for vdu in vnfr.vdu
        for v in vdu.vnfc_instance
    }
    return vnfcs, {(link.name, link.vim_network_id) for link in record.vlr}


async def test_the_index_written_as_differences_matches_the_record(
    store: Repositories, database: Database
) -> None:
    record = with_parts("ns-a", [VnfcState.CREATED, VnfcState.CREATED])
    await store.nsrs.save_nsr(record)
    assert await index_rows(database, "ns-a") == rows_of(record)
    vdu = record.vnfr[0].vdu[0]
    steps = [
        lambda: vdu.vnfc_instance[0].set_state(VnfcState.RUNNING),  # one VNFC changes
        lambda: setattr(vdu.vnfc_instance[1], "vc_id", "other-server"),
        lambda: vdu.vnfc_instance.append(  # one comes, as in a scale-out
            VnfcInstance(id="ns-a-c9", vdu_id="vdu", hostname="h9", vim_id="vim-1", vc_id="s9")
        ),
        lambda: setattr(record.vlr[0], "vim_network_id", "net-2"),  # the link moves
        lambda: vdu.vnfc_instance.pop(0),  # one goes, as in a scale-in
        lambda: record.set_status(NsStatus.SCALING),  # nothing of the index changes
    ]
    for step in steps:
        step()
        await store.nsrs.save_nsr(record)
        assert await index_rows(database, "ns-a") == rows_of(record)


async def test_a_refused_write_leaves_the_index_as_it_was(store: Repositories) -> None:
    await store.nsrs.save_nsr(with_parts("ns-a", [VnfcState.RUNNING]))
    stale = await store.nsrs.get_nsr("ns-a")
    fresh = await store.nsrs.get_nsr("ns-a")
    fresh.set_status(NsStatus.SCALING)
    await store.nsrs.save_nsr(fresh)
    stale.vnfr[0].vdu[0].vnfc_instance[0].set_state(VnfcState.EXITED)
    with pytest.raises(StaleRecord):
        await store.nsrs.save_nsr(stale)
    [row] = await store.nsrs.vnfc_locations()
    assert row.state == VnfcState.RUNNING


async def test_the_index_follows_writes_of_two_stores_that_skip_unchanged_rows(
    store: Repositories, database: Database
) -> None:
    """A store leaves the index alone only for a revision it wrote itself with the same
    rows; a write by another replica in between makes it rewrite them."""
    other_replica = Database(database.engine.url)
    other = SqlNsRecordRepository(other_replica)
    try:
        record = with_parts("ns-a", [VnfcState.RUNNING])
        await store.nsrs.save_nsr(record)  # revision 1: rows written
        record.set_status(NsStatus.SCALING)
        await store.nsrs.save_nsr(record)  # revision 2: same rows, left alone
        assert [v.ns_status for v in await store.nsrs.vnfc_locations()] == [NsStatus.SCALING]
        theirs = await other.get_nsr("ns-a")
        theirs.vnfr[0].vdu[0].vnfc_instance[0].set_state(VnfcState.EXITED)
        await other.save_nsr(theirs)  # revision 3, by the other replica
        ours = await store.nsrs.get_nsr("ns-a")
        ours.vnfr[0].vdu[0].vnfc_instance[0].set_state(VnfcState.RUNNING)
        await store.nsrs.save_nsr(ours)  # revision 4: this store did not write 3, so rewrites
        [row] = await other.vnfc_locations()
        assert row.state == VnfcState.RUNNING
        again = await other.get_nsr("ns-a")
        again.vnfr[0].vdu[0].vnfc_instance[0].set_state(VnfcState.FAILED)
        await other.save_nsr(again)  # revision 5: the other store's copy of 3 is stale
        [row] = await store.nsrs.vnfc_locations()
        assert row.state == VnfcState.FAILED
    finally:
        await other_replica.close()


async def test_the_migration_indexes_the_nsrs_that_existed_before(tmp_path: Path) -> None:
    # an embedded SQLite file at the revision before, whatever the run's backend
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    old = with_parts("ns-old", [VnfcState.RUNNING, VnfcState.EXITED])
    database = Database(url)
    records = SqlNsRecordRepository(database)
    try:

        def upgrade_to(connection: Connection, revision: str) -> None:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS_DIR))
            config.attributes["connection"] = connection
            command.upgrade(config, revision)

        async with database.engine.begin() as conn:
            await conn.run_sync(upgrade_to, "0006")
            await conn.execute(
                insert(nsrs).values(
                    id=old.id,
                    nsd_id="nsd-1",
                    name="old",
                    status="ACTIVE",
                    body=old.model_dump(mode="json", exclude={"revision"}),
                    created_at=old.created_at,
                    updated_at=old.updated_at,
                )
            )
        await database.init()
        rows = await records.vnfc_locations()
        assert sorted((r.vnfc_id, r.state) for r in rows) == [
            ("ns-old-c0", VnfcState.RUNNING),
            ("ns-old-c1", VnfcState.EXITED),
        ]
        again = await records.get_nsr("ns-old")
        assert again.revision == 1
        again.set_status(NsStatus.SCALING)
        await records.save_nsr(again)  # an NSR from before the migration is written normally
        assert (await records.get_nsr("ns-old")).status == NsStatus.SCALING
    finally:
        await database.close()
