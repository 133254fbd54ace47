"""``SqlStore``: the ``Store`` port on SQLAlchemy's asyncio engine.

One implementation serves the embedded SQLite default and PostgreSQL. Every
method is one transaction. Each write method starts with a write statement
(UPDATE, INSERT or DELETE) and never reads first, so that SQLite takes its
write lock at the start of the transaction: a read-then-write transaction can
fail with "database is locked" when another writer commits in between, and a
busy timeout does not help with that case.
"""

from __future__ import annotations

import functools
import logging
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import (
    Connection,
    Row,
    Select,
    Table,
    delete,
    event,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import URL
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from nubo.model.alarms import Alarm
from nubo.model.catalogue import NsdEntry, VimRegistration
from nubo.model.errors import Conflict, NotFound, StaleRecord
from nubo.model.records import LcmOpOcc, NetworkServiceRecord, VnfcLocation
from nubo.model.states import FINAL_OP_STATES, NsStatus, OpState, VnfcState
from nubo.store.database import (
    create_engine,
    database_url,
    ensure_reachable,
    refuse_unstorable_values,
)
from nubo.store.tables import (
    alarms,
    idempotency_keys,
    lcm_op_occs,
    ns_leases,
    nsds,
    nsrs,
    vims,
    virtual_links,
    vnfc_instances,
)

log = logging.getLogger(__name__)

_Body = TypeVar("_Body", NetworkServiceRecord, LcmOpOcc, Alarm)
#: an NSR's VNFC rows and virtual link rows, without the NSR id
_IndexRows = tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: how long a SQLite connection waits for another writer before giving up
SQLITE_BUSY_TIMEOUT_MS = 10_000


class SqlStore:
    """Persistence of VIMs, NSDs, NSRs and LCM operation occurrences in one SQL database."""

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self._url = database_url(url)
        self._engine: AsyncEngine = create_engine(self._url, echo=echo)
        refuse_unstorable_values(self._engine)
        self._indexed = _IndexedRevisions()
        if self._url.get_backend_name() == "sqlite":
            event.listen(self._engine.sync_engine, "connect", _tune_sqlite)

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    # -- lifecycle ---------------------------------------------------------

    async def init(self) -> None:
        """Create or migrate the schema to the newest version; a no-op when already there."""
        self._ensure_sqlite_directory()
        await ensure_reachable(self._engine)
        async with self._engine.begin() as conn:
            await conn.run_sync(_upgrade_to_head)

    async def close(self) -> None:
        await self._engine.dispose()

    def _ensure_sqlite_directory(self) -> None:
        database = self._url.database
        if self._url.get_backend_name() != "sqlite" or not database:
            return
        if database == ":memory:" or database.startswith("file:"):
            return
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)

    # -- VIMs --------------------------------------------------------------

    async def add_vim(self, vim: VimRegistration) -> None:
        """Register a VIM; raise ``Conflict`` when its name or id is taken."""
        values = vim.model_dump()
        values["created_at"] = _to_utc(vim.created_at)
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(vims).values(**values))
        except IntegrityError as exc:
            raise Conflict(
                f"a VIM named {vim.name!r} or with id {vim.id} already exists", field="name"
            ) from exc

    async def list_vims(self) -> list[VimRegistration]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(vims).order_by(vims.c.created_at, vims.c.name))
            return [_vim_of(row) for row in rows]

    async def get_vim(self, id_or_name: str) -> VimRegistration:
        """The VIM with that id or name; raise ``NotFound`` naming it."""
        query = select(vims).where(or_(vims.c.id == id_or_name, vims.c.name == id_or_name))
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"VIM {id_or_name} not found", vim_id=id_or_name)
        return _vim_of(row)

    # -- NSDs --------------------------------------------------------------

    async def add_nsd(self, nsd: NsdEntry) -> None:
        """Store an onboarded NSD; raise ``Conflict`` when the id is taken."""
        values = nsd.model_dump(mode="json")
        values["created_at"] = _to_utc(nsd.created_at)
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(nsds).values(**values))
        except IntegrityError as exc:
            raise Conflict(f"NSD {nsd.id} already exists", nsd_id=nsd.id) from exc

    async def update_nsd(self, nsd: NsdEntry) -> None:
        """Replace a stored NSD entry (content upload, enable/disable); ``NotFound`` if gone."""
        values = nsd.model_dump(mode="json", exclude={"id", "created_at"})
        async with self._engine.begin() as conn:
            result = await conn.execute(update(nsds).where(nsds.c.id == nsd.id).values(**values))
        if result.rowcount == 0:
            raise NotFound(f"NSD {nsd.id} not found", nsd_id=nsd.id)

    async def list_nsds(self) -> list[NsdEntry]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(nsds).order_by(nsds.c.created_at, nsds.c.id))
            return [_nsd_of(row) for row in rows]

    async def get_nsd(self, nsd_id: str) -> NsdEntry:
        async with self._engine.connect() as conn:
            row = (await conn.execute(select(nsds).where(nsds.c.id == nsd_id))).first()
        if row is None:
            raise NotFound(f"NSD {nsd_id} not found", nsd_id=nsd_id)
        return _nsd_of(row)

    async def delete_nsd(self, nsd_id: str) -> None:
        """Remove the NSD; raise ``NotFound`` when there is none (checking use is the caller's)."""
        async with self._engine.begin() as conn:
            deleted = await _delete(conn, nsds, nsd_id)
        if not deleted:
            raise NotFound(f"NSD {nsd_id} not found", nsd_id=nsd_id)

    # -- NSRs ------------------------------------------------------------------------
    #
    # NSRs and operation occurrences carry a revision: a write names the revision
    # it read and succeeds only if the row still has it (compare-and-set), so two
    # writers (two replicas, or a task and a stale copy) can never both win.

    async def save_nsr(self, nsr: NetworkServiceRecord) -> None:
        """Insert a new NSR (revision 0) or update the revision it was read at."""
        async with self._engine.begin() as conn:
            revision, parts = await self._write_nsr(conn, nsr)
        self._indexed.remember(nsr.id, revision, parts)
        nsr.revision = revision

    async def save_progress(
        self, nsr: NetworkServiceRecord, op: LcmOpOcc, *, release: bool = False
    ) -> None:
        """Write an NSR and the occurrence changing it in one transaction (both or neither).

        With ``release`` the occurrence's lease on the NS goes in the same
        transaction: whoever sees the operation ended finds the NS free.
        """
        async with self._engine.begin() as conn:
            nsr_revision, parts = await self._write_nsr(conn, nsr)
            op_revision = await _write_op(conn, op)
            if release:
                await conn.execute(
                    delete(ns_leases).where(
                        ns_leases.c.nsr_id == nsr.id, ns_leases.c.holder == op.id
                    )
                )
        self._indexed.remember(nsr.id, nsr_revision, parts)
        nsr.revision, op.revision = nsr_revision, op_revision

    async def create_ns_operation(
        self,
        nsr: NetworkServiceRecord,
        op: LcmOpOcc,
        idempotency: tuple[str, str] | None = None,
    ) -> None:
        """Store the NSR, its first occurrence and the request's idempotency key at once.

        ``idempotency`` is ``(key, request)``; a key taken meanwhile (the same
        request sent to another replica) raises ``Conflict`` and stores nothing.
        """
        try:
            async with self._engine.begin() as conn:
                nsr_revision, parts = await self._write_nsr(conn, nsr)
                op_revision = await _write_op(conn, op)
                if idempotency is not None:
                    key, request = idempotency
                    await conn.execute(
                        insert(idempotency_keys).values(
                            id=key,
                            request=request,
                            nsr_id=nsr.id,
                            op_id=op.id,
                            created_at=datetime.now(UTC),
                        )
                    )
        except IntegrityError as exc:
            if idempotency is not None and await self.find_idempotency_key(idempotency[0]):
                raise Conflict(
                    f"idempotency key {idempotency[0]!r} is already used",
                    field="Idempotency-Key",
                ) from exc
            raise Conflict(f"NSR {nsr.id} already exists", nsr_id=nsr.id) from exc
        self._indexed.remember(nsr.id, nsr_revision, parts)
        nsr.revision, op.revision = nsr_revision, op_revision

    async def _write_nsr(
        self, conn: AsyncConnection, nsr: NetworkServiceRecord
    ) -> tuple[int, _IndexRows]:
        """Write the NSR row, and its index rows unless they are unchanged."""
        parts = _index_parts(nsr)
        revision = await _write_nsr_row(conn, nsr)
        if not self._indexed.holds(nsr.id, nsr.revision, parts):
            await _rewrite_index(conn, nsr.id, parts)
        return revision, parts

    async def get_nsr(self, nsr_id: str) -> NetworkServiceRecord:
        return await self._body(nsrs, nsr_id, NetworkServiceRecord, "NSR", "nsr_id")

    async def list_nsrs(self, include_terminated: bool = True) -> list[NetworkServiceRecord]:
        query = _versioned(nsrs).order_by(nsrs.c.created_at, nsrs.c.id)
        if not include_terminated:
            query = query.where(nsrs.c.status != NsStatus.TERMINATED.value)
        return await self._bodies(query, NetworkServiceRecord)

    async def nsrs_using_nsd(self, nsd_id: str) -> list[NetworkServiceRecord]:
        """NSRs of that NSD whose status is not TERMINATED."""
        query = (
            _versioned(nsrs)
            .where(nsrs.c.nsd_id == nsd_id, nsrs.c.status != NsStatus.TERMINATED.value)
            .order_by(nsrs.c.created_at, nsrs.c.id)
        )
        return await self._bodies(query, NetworkServiceRecord)

    async def delete_nsr(self, nsr_id: str) -> None:
        """Remove the NSR; raise ``NotFound`` when there is none. Its operations stay as history."""
        async with self._engine.begin() as conn:
            deleted = await _delete(conn, nsrs, nsr_id)
            await conn.execute(delete(vnfc_instances).where(vnfc_instances.c.nsr_id == nsr_id))
            await conn.execute(delete(virtual_links).where(virtual_links.c.nsr_id == nsr_id))
        if not deleted:
            raise NotFound(f"NSR {nsr_id} not found", nsr_id=nsr_id)

    async def vnfc_locations(
        self,
        *,
        vim_id: str | None = None,
        ns_statuses: Iterable[NsStatus] | None = None,
        nsr_ids: Iterable[str] | None = None,
        states: Iterable[VnfcState] | None = None,
        vc_id: str | None = None,
    ) -> list[VnfcLocation]:
        """VNFCs (of NSs in ``ns_statuses``, on ``vim_id``) from the index; no NSR is loaded."""
        query = select(
            vnfc_instances.c.nsr_id,
            nsrs.c.status,
            vnfc_instances.c.vnfr_id,
            vnfc_instances.c.id,
            vnfc_instances.c.vim_id,
            vnfc_instances.c.vc_id,
            vnfc_instances.c.state,
        ).join(nsrs, nsrs.c.id == vnfc_instances.c.nsr_id)
        if vim_id is not None:
            query = query.where(vnfc_instances.c.vim_id == vim_id)
        if ns_statuses is not None:
            query = query.where(nsrs.c.status.in_(sorted(s.value for s in ns_statuses)))
        if nsr_ids is not None:
            query = query.where(vnfc_instances.c.nsr_id.in_(sorted(set(nsr_ids))))
        if states is not None:
            query = query.where(vnfc_instances.c.state.in_(sorted(s.value for s in states)))
        if vc_id is not None:
            query = query.where(vnfc_instances.c.vc_id == vc_id)
        async with self._engine.connect() as conn:
            return [
                VnfcLocation(
                    nsr_id=row[0],
                    ns_status=NsStatus(row[1]),
                    vnfr_id=row[2],
                    vnfc_id=row[3],
                    vim_id=row[4],
                    vc_id=row[5],
                    state=VnfcState(row[6]),
                )
                for row in await conn.execute(query)
            ]

    async def vnfc_on_server(self, vim_id: str, vc_id: str) -> VnfcLocation | None:
        """The VNFC whose server on ``vim_id`` is ``vc_id`` (which NS owns a container)."""
        found = await self.vnfc_locations(vim_id=vim_id, vc_id=vc_id)
        return found[0] if found else None

    async def nsr_revisions_by_nsd(
        self, ns_statuses: Iterable[NsStatus]
    ) -> dict[str, dict[str, int]]:
        """The revision of each NS in ``ns_statuses``, by the NSD it was made from (one
        query): a reader holding copies reloads only the NSs whose revision moved."""
        query = (
            select(nsrs.c.nsd_id, nsrs.c.id, nsrs.c.version)
            .where(nsrs.c.status.in_(sorted(s.value for s in ns_statuses)))
            .order_by(nsrs.c.created_at, nsrs.c.id)
        )
        found: dict[str, dict[str, int]] = {}
        async with self._engine.connect() as conn:
            for row in await conn.execute(query):
                found.setdefault(row.nsd_id, {})[row.id] = row.version
        return found

    async def nsrs_with_ids(self, nsr_ids: Iterable[str]) -> list[NetworkServiceRecord]:
        """The NSRs of ``nsr_ids`` that exist, oldest first."""
        wanted = sorted(set(nsr_ids))
        if not wanted:
            return []
        query = _versioned(nsrs).where(nsrs.c.id.in_(wanted)).order_by(nsrs.c.created_at, nsrs.c.id)
        return await self._bodies(query, NetworkServiceRecord)

    async def ns_statuses(self, nsr_ids: Iterable[str] | None = None) -> dict[str, NsStatus]:
        """The status of each NS (of ``nsr_ids``, or all), from one column."""
        query = select(nsrs.c.id, nsrs.c.status)
        if nsr_ids is not None:
            query = query.where(nsrs.c.id.in_(sorted(set(nsr_ids))))
        async with self._engine.connect() as conn:
            return {row.id: NsStatus(row.status) for row in await conn.execute(query)}

    # -- LCM operation occurrences ---------------------------------------------------

    async def save_op(self, op: LcmOpOcc) -> None:
        """Insert a new occurrence (revision 0) or update the revision it was read at."""
        async with self._engine.begin() as conn:
            revision = await _write_op(conn, op)
        op.revision = revision

    async def get_op(self, op_id: str) -> LcmOpOcc:
        return await self._body(lcm_op_occs, op_id, LcmOpOcc, "LCM operation occurrence", "op_id")

    async def list_ops(self, nsr_id: str | None = None) -> list[LcmOpOcc]:
        """Newest first (by start time)."""
        query = _versioned(lcm_op_occs).order_by(
            lcm_op_occs.c.start_time.desc(), lcm_op_occs.c.id.desc()
        )
        if nsr_id is not None:
            query = query.where(lcm_op_occs.c.nsr_id == nsr_id)
        return await self._bodies(query, LcmOpOcc)

    async def unfinished_ops(self) -> list[LcmOpOcc]:
        """Operations not in a final state (for the start-up sweep), oldest first."""
        final = sorted(state.value for state in FINAL_OP_STATES)
        query = (
            _versioned(lcm_op_occs)
            .where(lcm_op_occs.c.state.not_in(final))
            .order_by(lcm_op_occs.c.start_time, lcm_op_occs.c.id)
        )
        return await self._bodies(query, LcmOpOcc)

    async def held_op(self, nsr_id: str) -> LcmOpOcc | None:
        query = (
            _versioned(lcm_op_occs)
            .where(
                lcm_op_occs.c.nsr_id == nsr_id,
                lcm_op_occs.c.state == OpState.FAILED_TEMP.value,
            )
            .limit(1)
        )
        found = await self._bodies(query, LcmOpOcc)
        return found[0] if found else None

    # -- alarms ------------------------------------------------------------

    async def save_alarm(self, alarm: Alarm) -> None:
        """Insert or replace."""
        values = {
            "managed_object_id": alarm.managed_object_id,
            "nsr_id": alarm.nsr_id,
            "probable_cause": alarm.probable_cause.value,
            "active": alarm.active,
            "alarm_raised_time": _to_utc(alarm.alarm_raised_time),
            "body": alarm.model_dump(mode="json"),
        }
        await self._upsert(alarms, alarm.id, values)

    async def get_alarm(self, alarm_id: str) -> Alarm:
        return await self._body(alarms, alarm_id, Alarm, "alarm", "alarm_id")

    async def list_alarms(
        self, active_only: bool = False, nsr_id: str | None = None
    ) -> list[Alarm]:
        """Newest first."""
        query = select(alarms.c.body).order_by(
            alarms.c.alarm_raised_time.desc(), alarms.c.id.desc()
        )
        if active_only:
            query = query.where(alarms.c.active.is_(True))
        if nsr_id is not None:
            query = query.where(alarms.c.nsr_id == nsr_id)
        return await self._bodies(query, Alarm)

    async def active_alarm(self, managed_object_id: str, probable_cause: str) -> Alarm | None:
        query = select(alarms.c.body).where(
            alarms.c.managed_object_id == managed_object_id,
            alarms.c.probable_cause == probable_cause,
            alarms.c.active.is_(True),
        )
        found = await self._bodies(query, Alarm)
        return found[0] if found else None

    # -- idempotency keys ----------------------------------------------------

    async def find_idempotency_key(self, key: str) -> tuple[str, str, str] | None:
        query = select(idempotency_keys).where(idempotency_keys.c.id == key)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else (row.request, row.nsr_id, row.op_id)

    # -- shared ------------------------------------------------------------

    async def _upsert(self, table: Table, row_id: str, values: dict[str, Any]) -> None:
        """UPDATE, and INSERT when no row matched, in one transaction.

        Portable (no dialect-specific ON CONFLICT). Two writers inserting the
        same new id at once can only race on PostgreSQL; the loser's INSERT
        fails on the primary key and the retry then finds the row to update.
        """
        for attempt in (1, 2):
            try:
                async with self._engine.begin() as conn:
                    result = await conn.execute(
                        update(table).where(table.c.id == row_id).values(**values)
                    )
                    if result.rowcount == 0:
                        await conn.execute(insert(table).values(id=row_id, **values))
                return
            except IntegrityError:
                if attempt == 2:
                    raise
                log.info("store.upsert_retry table=%s id=%s", table.name, row_id)

    async def _body(
        self, table: Table, row_id: str, model: type[_Body], kind: str, field: str
    ) -> _Body:
        """The aggregate stored in ``table`` under ``row_id``; ``NotFound`` names kind and id."""
        query = _versioned(table).where(table.c.id == row_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"{kind} {row_id} not found", **{field: row_id})
        return _aggregate_of(row, model)

    async def _bodies(self, query: Select[Any], model: type[_Body]) -> list[_Body]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return [_aggregate_of(row, model) for row in rows]


def _versioned(table: Table) -> Select[Any]:
    """Select an aggregate's body, with its revision where the table keeps one."""
    if "version" in table.c:
        return select(table.c.body, table.c.version)
    return select(table.c.body)


def _aggregate_of(row: Row[Any], model: type[_Body]) -> _Body:
    body = dict(row.body)
    if "version" in row._fields:
        body["revision"] = row.version
    return model.model_validate(body)


def _index_parts(nsr: NetworkServiceRecord) -> _IndexRows:
    """The NSR's rows in the VNFC and virtual link index."""
    vnfcs = tuple(
        (
            vnfc.id,
            vnfr.id,
            vdu.id,
            vnfc.hostname,
            vnfc.vim_id or nsr.vim_id,
            vnfc.vc_id,
            vnfc.state.value,
        )
        for vnfr in nsr.vnfr
        for vdu in vnfr.vdu
        for vnfc in vdu.vnfc_instance
    )
    links = tuple((v.name, v.vim_network_id, v.cidr) for v in nsr.vlr)
    return vnfcs, links


async def _rewrite_index(conn: AsyncConnection, nsr_id: str, parts: _IndexRows) -> None:
    """Replace the NSR's VNFC and virtual link rows (same transaction as the NSR)."""
    vnfcs, links = parts
    await conn.execute(delete(vnfc_instances).where(vnfc_instances.c.nsr_id == nsr_id))
    await conn.execute(delete(virtual_links).where(virtual_links.c.nsr_id == nsr_id))
    if vnfcs:
        await conn.execute(
            insert(vnfc_instances),
            [dict(zip(_VNFC_COLUMNS, (nsr_id, *row), strict=True)) for row in vnfcs],
        )
    if links:
        await conn.execute(
            insert(virtual_links),
            [dict(zip(_LINK_COLUMNS, (nsr_id, *row), strict=True)) for row in links],
        )


_VNFC_COLUMNS = ("nsr_id", "id", "vnfr_id", "vdu_id", "hostname", "vim_id", "vc_id", "state")
_LINK_COLUMNS = ("nsr_id", "name", "vim_network_id", "cidr")


class _IndexedRevisions:
    """The index rows of the NSR revisions this store wrote itself, most recent ones.

    Most writes of an NSR (an operation's progress) leave its VNFCs and
    links as they were. When the revision being replaced is one this store
    wrote, with the same rows, the index already holds them; anything else
    (another replica wrote it, a restart, an evicted entry) rewrites them.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._rows: OrderedDict[str, tuple[int, _IndexRows]] = OrderedDict()

    def holds(self, nsr_id: str, revision: int, parts: _IndexRows) -> bool:
        return self._rows.get(nsr_id) == (revision, parts)

    def remember(self, nsr_id: str, revision: int, parts: _IndexRows) -> None:
        """Call once the transaction that wrote ``revision`` has committed."""
        self._rows[nsr_id] = (revision, parts)
        self._rows.move_to_end(nsr_id)
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)


async def _write_nsr_row(conn: AsyncConnection, nsr: NetworkServiceRecord) -> int:
    values = {
        "nsd_id": nsr.descriptor_reference,
        "name": nsr.name,
        "status": nsr.status.value,
        "body": nsr.model_dump(mode="json", exclude={"revision"}),
        "created_at": _to_utc(nsr.created_at),
        "updated_at": _to_utc(nsr.updated_at),
    }
    return await _compare_and_set(conn, nsrs, nsr.id, nsr.revision, values, "NSR")


async def _write_op(conn: AsyncConnection, op: LcmOpOcc) -> int:
    values = {
        "nsr_id": op.nsr_id,
        "operation": op.operation.value,
        "state": op.state.value,
        "start_time": _to_utc(op.start_time),
        "state_entered_time": _to_utc(op.state_entered_time),
        "body": op.model_dump(mode="json", exclude={"revision"}),
    }
    return await _compare_and_set(
        conn, lcm_op_occs, op.id, op.revision, values, "LCM operation occurrence"
    )


async def _compare_and_set(
    conn: AsyncConnection,
    table: Table,
    row_id: str,
    revision: int,
    values: dict[str, Any],
    kind: str,
) -> int:
    """Write ``values`` if the row is still at ``revision`` (0: insert); the new revision.

    A row that moved on raises ``StaleRecord`` and the transaction rolls back.
    """
    if revision == 0:
        await conn.execute(insert(table).values(id=row_id, version=1, **values))
        return 1
    result = await conn.execute(
        update(table)
        .where(table.c.id == row_id, table.c.version == revision)
        .values(version=revision + 1, **values)
    )
    if result.rowcount == 1:
        return revision + 1
    current = (
        await conn.execute(select(table.c.version).where(table.c.id == row_id))
    ).scalar_one_or_none()
    if current is None:
        raise NotFound(f"{kind} {row_id} not found", id=row_id)
    raise StaleRecord(
        f"{kind} {row_id} changed meanwhile (read at revision {revision}, now {current}); "
        "read it again",
        id=row_id,
        read_revision=revision,
        current_revision=current,
    )


async def _delete(conn: AsyncConnection, table: Table, row_id: str) -> bool:
    result = await conn.execute(delete(table).where(table.c.id == row_id))
    return result.rowcount > 0


def _upgrade_to_head(connection: Connection) -> None:
    """Run ``alembic upgrade head`` on an open connection (called through ``run_sync``).

    Skipped when the database is at head already: loading the migration scripts
    costs more than the rest of a start-up, and the revision is one SELECT.
    """
    if set(MigrationContext.configure(connection).get_current_heads()) == _script_heads():
        return
    config = _alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@functools.cache
def _script_heads() -> frozenset[str]:
    """The head revisions of the migrations shipped with this nubo (read once per process)."""
    return frozenset(ScriptDirectory.from_config(_alembic_config()).get_heads())


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers work while one writer commits; the busy timeout makes writers queue."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _to_utc(moment: datetime) -> datetime:
    """Store instants in UTC so that columns sort correctly whatever offset they came with."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _from_db(moment: datetime) -> datetime:
    """SQLite hands DateTime columns back without a zone; they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _vim_of(row: Row[Any]) -> VimRegistration:
    values = row._asdict()
    values["created_at"] = _from_db(values["created_at"])
    return VimRegistration.model_validate(values)


def _nsd_of(row: Row[Any]) -> NsdEntry:
    values = row._asdict()
    values["created_at"] = _from_db(values["created_at"])
    values["info"] = values.get("info") or {}
    return NsdEntry.model_validate(values)


__all__ = ["SqlStore"]
