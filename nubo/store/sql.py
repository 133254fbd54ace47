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
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from nubo.model.alarms import Alarm
from nubo.model.catalogue import NsdEntry, VimRegistration
from nubo.model.errors import Conflict, NotFound
from nubo.model.records import LcmOpOcc, NetworkServiceRecord
from nubo.model.states import FINAL_OP_STATES, NsStatus, OpState
from nubo.store.database import (
    database_url,
    engine_options,
    ensure_reachable,
    refuse_unstorable_values,
)
from nubo.store.tables import alarms, idempotency_keys, lcm_op_occs, nsds, nsrs, vims

log = logging.getLogger(__name__)

_Body = TypeVar("_Body", NetworkServiceRecord, LcmOpOcc, Alarm)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: how long a SQLite connection waits for another writer before giving up
SQLITE_BUSY_TIMEOUT_MS = 10_000


class SqlStore:
    """Persistence of VIMs, NSDs, NSRs and LCM operation occurrences in one SQL database."""

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        self._url = database_url(url)
        self._engine: AsyncEngine = create_async_engine(
            self._url, echo=echo, **engine_options(self._url)
        )
        refuse_unstorable_values(self._engine)
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

    # -- NSRs --------------------------------------------------------------

    async def save_nsr(self, nsr: NetworkServiceRecord) -> None:
        """Insert or replace the whole aggregate."""
        values = {
            "nsd_id": nsr.descriptor_reference,
            "name": nsr.name,
            "status": nsr.status.value,
            "body": nsr.model_dump(mode="json"),
            "created_at": _to_utc(nsr.created_at),
            "updated_at": _to_utc(nsr.updated_at),
        }
        await self._upsert(nsrs, nsr.id, values)

    async def get_nsr(self, nsr_id: str) -> NetworkServiceRecord:
        return await self._body(nsrs, nsr_id, NetworkServiceRecord, "NSR", "nsr_id")

    async def list_nsrs(self, include_terminated: bool = True) -> list[NetworkServiceRecord]:
        query = select(nsrs.c.body).order_by(nsrs.c.created_at, nsrs.c.id)
        if not include_terminated:
            query = query.where(nsrs.c.status != NsStatus.TERMINATED.value)
        return await self._bodies(query, NetworkServiceRecord)

    async def nsrs_using_nsd(self, nsd_id: str) -> list[NetworkServiceRecord]:
        """NSRs of that NSD whose status is not TERMINATED."""
        query = (
            select(nsrs.c.body)
            .where(nsrs.c.nsd_id == nsd_id, nsrs.c.status != NsStatus.TERMINATED.value)
            .order_by(nsrs.c.created_at, nsrs.c.id)
        )
        return await self._bodies(query, NetworkServiceRecord)

    async def delete_nsr(self, nsr_id: str) -> None:
        """Remove the NSR; raise ``NotFound`` when there is none. Its operations stay as history."""
        async with self._engine.begin() as conn:
            deleted = await _delete(conn, nsrs, nsr_id)
        if not deleted:
            raise NotFound(f"NSR {nsr_id} not found", nsr_id=nsr_id)

    # -- LCM operation occurrences -------------------------------------------

    async def save_op(self, op: LcmOpOcc) -> None:
        """Insert or replace."""
        values = {
            "nsr_id": op.nsr_id,
            "operation": op.operation.value,
            "state": op.state.value,
            "start_time": _to_utc(op.start_time),
            "state_entered_time": _to_utc(op.state_entered_time),
            "body": op.model_dump(mode="json"),
        }
        await self._upsert(lcm_op_occs, op.id, values)

    async def get_op(self, op_id: str) -> LcmOpOcc:
        return await self._body(lcm_op_occs, op_id, LcmOpOcc, "LCM operation occurrence", "op_id")

    async def list_ops(self, nsr_id: str | None = None) -> list[LcmOpOcc]:
        """Newest first (by start time)."""
        query = select(lcm_op_occs.c.body).order_by(
            lcm_op_occs.c.start_time.desc(), lcm_op_occs.c.id.desc()
        )
        if nsr_id is not None:
            query = query.where(lcm_op_occs.c.nsr_id == nsr_id)
        return await self._bodies(query, LcmOpOcc)

    async def unfinished_ops(self) -> list[LcmOpOcc]:
        """Operations not in a final state (for the start-up sweep), oldest first."""
        final = sorted(state.value for state in FINAL_OP_STATES)
        query = (
            select(lcm_op_occs.c.body)
            .where(lcm_op_occs.c.state.not_in(final))
            .order_by(lcm_op_occs.c.start_time, lcm_op_occs.c.id)
        )
        return await self._bodies(query, LcmOpOcc)

    async def held_op(self, nsr_id: str) -> LcmOpOcc | None:
        query = (
            select(lcm_op_occs.c.body)
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

    async def save_idempotency_key(self, key: str, request: str, nsr_id: str, op_id: str) -> None:
        values = {"request": request, "nsr_id": nsr_id, "op_id": op_id}
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(idempotency_keys).values(id=key, created_at=datetime.now(UTC), **values)
                )
        except IntegrityError as exc:
            raise Conflict(
                f"idempotency key {key!r} is already used", field="Idempotency-Key"
            ) from exc

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
        query = select(table.c.body).where(table.c.id == row_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"{kind} {row_id} not found", **{field: row_id})
        return model.model_validate(row.body)

    async def _bodies(self, query: Select[Any], model: type[_Body]) -> list[_Body]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return [model.model_validate(row.body) for row in rows]


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
