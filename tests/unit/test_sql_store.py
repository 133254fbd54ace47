"""The SQL repositories on the run's backend: round-trips, upserts, errors, queries and
migrations."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, bindparam, inspect, text

from nubo.app import Repositories, build_repositories
from nubo.model.catalogue import NsdEntry, VimRegistration
from nubo.model.errors import BadRequest, Conflict, NotFound
from nubo.model.records import (
    LcmOpOcc,
    NetworkServiceRecord,
    StepRecord,
    VduRecord,
    VirtualLinkRecord,
    VnfcInstance,
    VnfRecord,
)
from nubo.model.states import LcmOperationType, NsStatus, OpState, VnfcState
from nubo.model.tenancy import DEFAULT_PROJECT, in_project
from nubo.store.database import Database
from nubo.store.records import SqlNsRecordRepository
from nubo.store.schema import alembic_config
from nubo.store.tables import JSON_DOCUMENT, metadata
from tests.databases import current_databases

T0 = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


def make_nsr(
    nsr_id: str = "nsr-1", nsd_id: str = "nsd-1", status: NsStatus = NsStatus.ACTIVE
) -> NetworkServiceRecord:
    vnfc = VnfcInstance(
        id="vnfc-1",
        vdu_id="vdu-1",
        hostname="uas-0",
        state=VnfcState.RUNNING,
        addresses={"private": "10.137.0.2"},
        environment={"UAC_PRIVATE": "10.137.0.3"},
    )
    vdu = VduRecord(id="vdu-1", name="uas", image="sipp", scale_in_out=3, vnfc_instance=[vnfc])
    vnfr = VnfRecord(id="vnfr-1", name="sipp-uas", type="server", vdu=[vdu])
    return NetworkServiceRecord(
        project_id="default",
        id=nsr_id,
        name="sipp",
        descriptor_reference=nsd_id,
        status=status,
        vnfr=[vnfr],
        vlr=[VirtualLinkRecord(id="vlr-1", name="private", cidr="10.137.0.0/24")],
        created_at=T0,
        updated_at=T0,
    )


def make_op(
    op_id: str, nsr_id: str = "nsr-1", state: OpState = OpState.PROCESSING, minutes: int = 0
) -> LcmOpOcc:
    start = T0 + timedelta(minutes=minutes)
    return LcmOpOcc(
        project_id="default",
        id=op_id,
        nsr_id=nsr_id,
        operation=LcmOperationType.INSTANTIATE,
        state=state,
        start_time=start,
        state_entered_time=start,
        params={"vim": "local", "count": 2},
        steps=[StepRecord(name="allocate", status="DONE", started_at=start)],
    )


# -- VIMs ------------------------------------------------------------------


async def test_vim_round_trip_by_id_and_name(store: Repositories) -> None:
    vim = VimRegistration(
        project_id="default",
        id="vim-1",
        name="local",
        type="docker",
        endpoint="unix:///var/run/docker.sock",
        subnet_pool="10.200.0.0/16",
        subnet_prefix=26,
        is_default=True,
        created_at=T0,
    )
    await store.vims.add_vim(vim)
    assert await store.vims.get_vim("vim-1") == vim
    assert await store.vims.get_vim("local") == vim
    assert await store.vims.list_vims() == [vim]


async def test_duplicate_vim_name_is_a_conflict(store: Repositories) -> None:
    await store.vims.add_vim(
        VimRegistration(project_id="default", id="vim-1", name="local", type="docker")
    )
    with pytest.raises(Conflict) as caught:
        await store.vims.add_vim(
            VimRegistration(project_id="default", id="vim-2", name="local", type="docker")
        )
    assert "local" in caught.value.detail
    assert [v.id for v in await store.vims.list_vims()] == ["vim-1"]


async def test_unknown_vim_is_not_found(store: Repositories) -> None:
    with pytest.raises(NotFound, match="VIM nowhere not found"):
        await store.vims.get_vim("nowhere")


async def test_times_come_back_as_utc_instants(store: Repositories) -> None:
    plus_two = datetime(2024, 6, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    await store.vims.add_vim(
        VimRegistration(project_id="default", id="v", name="v", type="docker", created_at=plus_two)
    )
    back = (await store.vims.get_vim("v")).created_at
    assert back == plus_two
    assert back.utcoffset() == timedelta(0)


# -- NSDs ------------------------------------------------------------------


async def test_nsd_round_trip_and_delete(store: Repositories) -> None:
    body = {"name": "sipp", "vnfd": [{"name": "uas", "vdu": [{"vm_image": ["sipp"]}]}]}
    entry = NsdEntry(
        project_id="default", id="nsd-1", name="sipp", vendor="fokus", version="1.0", body=body
    )
    await store.nsds.add_nsd(entry)
    assert await store.nsds.get_nsd("nsd-1") == entry
    assert await store.nsds.list_nsds() == [entry]

    await store.nsds.delete_nsd("nsd-1")
    assert await store.nsds.list_nsds() == []
    with pytest.raises(NotFound, match="NSD nsd-1 not found"):
        await store.nsds.get_nsd("nsd-1")
    with pytest.raises(NotFound, match="NSD nsd-1 not found"):
        await store.nsds.delete_nsd("nsd-1")


async def test_duplicate_nsd_id_is_a_conflict(store: Repositories) -> None:
    await store.nsds.add_nsd(NsdEntry(project_id="default", id="nsd-1", name="a", body={}))
    with pytest.raises(Conflict):
        await store.nsds.add_nsd(NsdEntry(project_id="default", id="nsd-1", name="b", body={}))
    assert (await store.nsds.get_nsd("nsd-1")).name == "a"


async def test_values_postgresql_cannot_hold_are_bad_requests_there(store: Repositories) -> None:
    # NUL characters and over-long names come from users; SQLite keeps them as given
    entries = [
        NsdEntry(project_id="default", id="nul-name", name="a\x00b", body={}),
        NsdEntry(project_id="default", id="nul-body", name="b", body={"name": "a\x00b"}),
        NsdEntry(project_id="default", id="long-name", name="n" * 300, body={}),
    ]
    for entry in entries:
        if current_databases().backend == "postgresql":
            with pytest.raises(BadRequest, match=r"cannot be stored|longer than"):
                await store.nsds.add_nsd(entry)
        else:
            await store.nsds.add_nsd(entry)
            assert await store.nsds.get_nsd(entry.id) == entry
    expected = [] if current_databases().backend == "postgresql" else entries
    assert await store.nsds.list_nsds() == expected


# -- NSRs ------------------------------------------------------------------


async def test_nsr_round_trip_keeps_the_whole_aggregate(store: Repositories) -> None:
    nsr = make_nsr()
    await store.nsrs.save_nsr(nsr)
    back = await store.nsrs.get_nsr("nsr-1")
    assert back == nsr
    assert back.find_vnfc("vnfc-1")[2].addresses == {"private": "10.137.0.2"}


async def test_save_nsr_replaces(store: Repositories) -> None:
    nsr = make_nsr()
    await store.nsrs.save_nsr(nsr)
    nsr.set_status(NsStatus.SCALING)
    nsr.vnfr[0].vdu[0].vnfc_instance.append(VnfcInstance(id="vnfc-2", vdu_id="vdu-1", hostname="b"))
    await store.nsrs.save_nsr(nsr)

    assert await store.nsrs.get_nsr("nsr-1") == nsr
    assert len(await store.nsrs.list_nsrs()) == 1


async def test_unknown_nsr_is_not_found(store: Repositories) -> None:
    with pytest.raises(NotFound, match="NSR ghost not found"):
        await store.nsrs.get_nsr("ghost")
    with pytest.raises(NotFound, match="NSR ghost not found"):
        await store.nsrs.delete_nsr("ghost")


async def test_list_nsrs_and_delete(store: Repositories) -> None:
    await store.nsrs.save_nsr(make_nsr("a"))
    await store.nsrs.save_nsr(make_nsr("b", status=NsStatus.TERMINATED))
    assert {n.id for n in await store.nsrs.list_nsrs()} == {"a", "b"}
    assert [n.id for n in await store.nsrs.list_nsrs(include_terminated=False)] == ["a"]

    await store.nsrs.delete_nsr("a")
    assert [n.id for n in await store.nsrs.list_nsrs()] == ["b"]


async def test_nsrs_using_nsd_ignores_terminated_and_other_nsds(store: Repositories) -> None:
    await store.nsrs.save_nsr(make_nsr("running", nsd_id="nsd-1"))
    await store.nsrs.save_nsr(make_nsr("failed", nsd_id="nsd-1", status=NsStatus.ERROR))
    await store.nsrs.save_nsr(make_nsr("gone", nsd_id="nsd-1", status=NsStatus.TERMINATED))
    await store.nsrs.save_nsr(make_nsr("other", nsd_id="nsd-2"))

    assert {n.id for n in await store.nsrs.nsrs_using_nsd("nsd-1")} == {"running", "failed"}
    assert await store.nsrs.nsrs_using_nsd("nsd-3") == []


# -- LCM operation occurrences ---------------------------------------------


async def test_the_fingerprint_moves_with_every_write_entry_and_exit(store: Repositories) -> None:
    live = {NsStatus.ACTIVE, NsStatus.SCALING}
    assert await store.nsrs.nsr_fingerprint(live) == (0, 0)
    first, second = make_nsr("nsr-1"), make_nsr("nsr-2")
    await store.nsrs.save_nsr(first)
    await store.nsrs.save_nsr(second)
    seen = [await store.nsrs.nsr_fingerprint(live)]
    assert seen[0][0] == 2
    assert await store.nsrs.nsr_fingerprint(live) == seen[0]  # at rest it stays
    await store.nsrs.save_nsr(first)  # the same content, written again
    seen.append(await store.nsrs.nsr_fingerprint(live))
    first.set_status(NsStatus.SCALING)  # moves within the statuses
    await store.nsrs.save_nsr(first)
    seen.append(await store.nsrs.nsr_fingerprint(live))
    second.set_status(NsStatus.TERMINATING)  # leaves them
    await store.nsrs.save_nsr(second)
    seen.append(await store.nsrs.nsr_fingerprint(live))
    assert seen[-1][0] == 1
    await store.nsrs.save_nsr(make_nsr("nsr-3"))  # a new one enters
    seen.append(await store.nsrs.nsr_fingerprint(live))
    assert len(set(seen)) == len(seen)
    assert (await store.nsrs.nsr_fingerprint({NsStatus.TERMINATED}))[0] == 0


async def test_op_round_trip_and_replace(store: Repositories) -> None:
    op = make_op("op-1")
    await store.operations.save_op(op)
    assert await store.operations.get_op("op-1") == op

    op.set_state(OpState.FAILED_TEMP)
    op.error = {"code": "VIM_ERROR", "detail": "boom"}
    await store.operations.save_op(op)
    assert await store.operations.get_op("op-1") == op
    assert len(await store.operations.list_ops()) == 1


async def test_unknown_op_is_not_found(store: Repositories) -> None:
    with pytest.raises(NotFound, match="op-x not found"):
        await store.operations.get_op("op-x")


async def test_list_ops_newest_first_and_by_nsr(store: Repositories) -> None:
    await store.operations.save_op(make_op("first", minutes=0))
    await store.operations.save_op(make_op("third", minutes=20))
    await store.operations.save_op(make_op("second", minutes=10))
    await store.operations.save_op(make_op("elsewhere", nsr_id="nsr-2", minutes=5))

    assert [o.id for o in await store.operations.list_ops()] == [
        "third",
        "second",
        "elsewhere",
        "first",
    ]
    assert [o.id for o in await store.operations.list_ops("nsr-1")] == ["third", "second", "first"]
    assert await store.operations.list_ops("nsr-none") == []


async def test_unfinished_ops_are_those_not_in_a_final_state(store: Repositories) -> None:
    for minutes, state in enumerate(OpState):
        await store.operations.save_op(make_op(state.value, state=state, minutes=minutes))

    unfinished = {o.id for o in await store.operations.unfinished_ops()}
    assert unfinished == {"PROCESSING", "FAILED_TEMP", "ROLLING_BACK"}


# -- schema and concurrency ----------------------------------------------------


async def test_init_twice_is_a_no_op_at_head(tmp_path: Path) -> None:
    url = current_databases().empty_url(tmp_path)
    first = Database(url)
    try:
        await first.init()
        await SqlNsRecordRepository(first).save_nsr(make_nsr())
    finally:
        await first.close()

    second = Database(url)
    try:
        await second.init()
        await second.init()
        assert (await SqlNsRecordRepository(second).get_nsr("nsr-1")).id == "nsr-1"
        async with second.engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    finally:
        await second.close()
    assert [v.version_num for v in versions] == ["0015"]


async def test_sqlite_file_gets_its_directory_and_write_ahead_log(tmp_path: Path) -> None:
    # SQLite whatever the run's backend: it is the embedded default
    database = Database(f"sqlite:///{tmp_path / 'nested' / 'nubo.db'}")
    try:
        await database.init()
        await SqlNsRecordRepository(database).save_nsr(make_nsr())
        async with database.engine.connect() as conn:
            journal = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
    finally:
        await database.close()
    assert (tmp_path / "nested" / "nubo.db").is_file()
    assert journal == "wal"


async def test_migrations_match_the_table_definitions(database: Database) -> None:
    # the database is a clone of the run's template, which the migrations made: so this
    # compares the migrations with the models on the run's backend (SQLite or PostgreSQL)
    def diff(conn: Connection) -> list[object]:
        return list(compare_metadata(MigrationContext.configure(conn), metadata))

    def table_names(conn: Connection) -> set[str]:
        return set(inspect(conn).get_table_names())

    async with database.engine.connect() as conn:
        assert await conn.run_sync(diff) == []
        names = await conn.run_sync(table_names)
    assert names == {
        "alembic_version",
        "vims",
        "nsds",
        "nsrs",
        "lcm_op_occs",
        "vnfc_instances",
        "virtual_links",
        "ns_leases",
        "leaderships",
        "loop_memory",
        "alarms",
        "idempotency_keys",
        "metric_samples",
        "scaling_decisions",
        "kpis",
        "kpi_events",
        "vnf_packages",
        "subscriptions",
        "notification_outbox",
        "projects",
        "users",
        "project_members",
        "api_clients",
        "signing_keys",
        "revoked_tokens",
        "audit_events",
    }


def _migrate(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def test_upgrading_gives_existing_records_the_default_project(tmp_path: Path) -> None:
    """A deployment made before tenancy keeps its records, members and clients in the
    project named ``default``, which takes the fixed id ``default``."""
    url = current_databases().empty_url(tmp_path)
    old = Database(url)
    now = datetime.now(UTC)
    body = make_nsr().model_dump(mode="json", exclude={"project_id", "revision"})
    try:
        async with old.engine.begin() as conn:
            await conn.run_sync(_migrate, "0011")
            await conn.execute(
                text(
                    "INSERT INTO projects (id, name, description, created_at) VALUES "
                    "('p-random', 'default', '', :now), ('p-other', 'other', '', :now)"
                ),
                {"now": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO project_members (user_id, project_id, role) VALUES "
                    "('u-1', 'p-random', 'ADMIN'), ('u-1', 'p-other', 'GUEST')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO vims (id, name, type, endpoint, subnet_pool, subnet_prefix, "
                    "is_default, created_at) VALUES ('vim-1', 'local', 'docker', '', "
                    "'10.137.0.0/16', 24, true, :now)"
                ),
                {"now": now},
            )
            await conn.execute(
                text(
                    "INSERT INTO nsrs (id, nsd_id, name, status, body, created_at, updated_at, "
                    "version) VALUES ('nsr-1', 'nsd-1', 'sipp', 'ACTIVE', :body, :now, :now, 1)"
                ).bindparams(bindparam("body", type_=JSON_DOCUMENT)),
                {"body": body, "now": now},
            )
    finally:
        await old.close()

    upgraded = Database(url)
    try:
        await upgraded.init()
        repositories = build_repositories(upgraded, "replica-1", 10.0)
        default = in_project(DEFAULT_PROJECT)
        nsr = await repositories.nsrs.get_nsr("nsr-1", default)
        vim = await repositories.vims.get_vim("local", default)
        with pytest.raises(NotFound):
            await repositories.nsrs.get_nsr("nsr-1", in_project("p-other"))
        async with upgraded.engine.connect() as conn:
            projects = (await conn.execute(text("SELECT id, name FROM projects"))).all()
            members = (await conn.execute(text("SELECT project_id FROM project_members"))).all()
    finally:
        await upgraded.close()
    assert nsr.project_id == DEFAULT_PROJECT and nsr.name == "sipp"
    assert vim.project_id == DEFAULT_PROJECT
    assert sorted(projects) == [("default", "default"), ("p-other", "other")]
    assert sorted(m.project_id for m in members) == ["default", "p-other"]


async def test_concurrent_writes_and_reads_do_not_fail(store: Repositories) -> None:
    async def write(i: int) -> None:
        await store.nsrs.save_nsr(make_nsr(f"nsr-{i}"))
        await store.operations.save_op(make_op(f"op-{i}", nsr_id=f"nsr-{i}", minutes=i))

    async def read() -> None:
        await store.nsrs.list_nsrs()
        await store.operations.unfinished_ops()

    await asyncio.gather(*(write(i) for i in range(10)), *(read() for _ in range(10)))
    assert len(await store.nsrs.list_nsrs()) == 10
    assert len(await store.operations.list_ops()) == 10


async def test_alarms_round_trip_and_active_lookup(store: Repositories) -> None:
    from nubo.model.alarms import Alarm, EventType, PerceivedSeverity, ProbableCause

    first = Alarm(
        project_id="default",
        id="a1",
        managed_object_id="vnfc-1",
        nsr_id="ns-1",
        perceived_severity=PerceivedSeverity.MAJOR,
        probable_cause=ProbableCause.VNFC_FAILED,
        event_type=EventType.PROCESSING_ERROR_ALARM,
        fault_details=["exit code 137"],
    )
    other = first.model_copy(update={"id": "a2", "managed_object_id": "vim-1", "nsr_id": None})
    await store.alarms.save_alarm(first)
    await store.alarms.save_alarm(other)
    assert await store.alarms.get_alarm("a1") == first
    found = await store.alarms.active_alarm("vnfc-1", "VNFC_FAILED")
    assert found is not None and found.id == "a1"
    assert await store.alarms.active_alarm("vnfc-1", "VNFC_VANISHED") is None
    assert [a.id for a in await store.alarms.list_alarms(nsr_id="ns-1")] == ["a1"]
    cleared = first.model_copy(
        update={
            "alarm_cleared_time": datetime.now(UTC),
            "perceived_severity": PerceivedSeverity.CLEARED,
        }
    )
    await store.alarms.save_alarm(cleared)
    assert await store.alarms.active_alarm("vnfc-1", "VNFC_FAILED") is None
    assert [a.id for a in await store.alarms.list_alarms(active_only=True)] == ["a2"]
    assert len(await store.alarms.list_alarms()) == 2
    with pytest.raises(NotFound, match="alarm nope"):
        await store.alarms.get_alarm("nope")


async def test_idempotency_keys_are_recorded_once(store: Repositories) -> None:
    assert await store.operations.find_idempotency_key("k") is None
    first, first_op = make_nsr("ns-1"), make_op("op-1", nsr_id="ns-1")
    await store.operations.create_ns_operation(first, first_op, ("k", "POST /x"))
    assert await store.operations.find_idempotency_key("k") == ("POST /x", "ns-1", "op-1")
    with pytest.raises(Conflict) as refused:
        await store.operations.create_ns_operation(
            make_nsr("ns-2"), make_op("op-2", nsr_id="ns-2"), ("k", "POST /x")
        )
    assert refused.value.extra["field"] == "Idempotency-Key"
    # all or nothing: the second NSR and its occurrence were not stored either
    with pytest.raises(NotFound):
        await store.nsrs.get_nsr("ns-2")
    with pytest.raises(NotFound):
        await store.operations.get_op("op-2")
