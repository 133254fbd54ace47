"""``SqlOperationRepository``: LCM operation occurrences and the requests' idempotency keys.

An operation occurrence is what changes an NS record, so the transactions that
write both live here: ``save_progress`` (the NSR, the occurrence and, when the
operation ended, its lease on the NS) and ``create_ns_operation`` (a new NSR,
its first occurrence and the request's idempotency key). Each is ONE
transaction (a crash between the writes would leave an NSR that no
occurrence explains, a finished operation still holding its NS, or a key
pointing at nothing); the NSR part is the NS record repository's own row
writer on the same connection (it also remembers which index rows it wrote),
so the NS record repository knows nothing of operations, leases or keys.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.model.errors import Conflict
from nubo.model.records import LcmOpOcc, NetworkServiceRecord
from nubo.model.states import FINAL_OP_STATES, OpState
from nubo.model.tenancy import SYSTEM, Scope
from nubo.store.database import Database
from nubo.store.records import SqlNsRecordRepository
from nubo.store.rows import (
    compare_and_set,
    in_scope,
    read_bodies,
    read_body,
    to_utc,
    versioned,
)
from nubo.store.tables import idempotency_keys, lcm_op_occs, ns_leases

_KIND = "LCM operation occurrence"


class SqlOperationRepository:
    """The ``OperationRepository`` port; one transaction per call."""

    def __init__(self, database: Database, records: SqlNsRecordRepository) -> None:
        self._engine = database.engine
        self._records = records

    async def save_op(self, op: LcmOpOcc) -> None:
        """Insert a new occurrence (revision 0) or update the revision it was read at."""
        async with self._engine.begin() as conn:
            revision = await _write_op(conn, op)
        op.revision = revision

    async def save_progress(
        self, nsr: NetworkServiceRecord, op: LcmOpOcc, *, release: bool = False
    ) -> None:
        """Write an NSR and the occurrence changing it in one transaction (both or neither).

        With ``release`` the occurrence's lease on the NS goes in the same
        transaction: whoever sees the operation ended finds the NS free.
        """
        async with self._engine.begin() as conn:
            nsr_revision, parts = await self._records.write_nsr(conn, nsr)
            op_revision = await _write_op(conn, op)
            if release:
                await conn.execute(
                    delete(ns_leases).where(
                        ns_leases.c.nsr_id == nsr.id, ns_leases.c.holder == op.id
                    )
                )
        self._records.written(nsr.id, nsr_revision, parts)
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
                nsr_revision, parts = await self._records.write_nsr(conn, nsr)
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
        self._records.written(nsr.id, nsr_revision, parts)
        nsr.revision, op.revision = nsr_revision, op_revision

    async def get_op(self, op_id: str, scope: Scope = SYSTEM) -> LcmOpOcc:
        return await read_body(self._engine, lcm_op_occs, op_id, LcmOpOcc, _KIND, "op_id", scope)

    async def list_ops(self, nsr_id: str | None = None, scope: Scope = SYSTEM) -> list[LcmOpOcc]:
        """Newest first (by start time)."""
        query = versioned(lcm_op_occs).order_by(
            lcm_op_occs.c.start_time.desc(), lcm_op_occs.c.id.desc()
        )
        query = in_scope(query, lcm_op_occs, scope)
        if nsr_id is not None:
            query = query.where(lcm_op_occs.c.nsr_id == nsr_id)
        return await read_bodies(self._engine, query, LcmOpOcc)

    async def unfinished_ops(self) -> list[LcmOpOcc]:
        """Operations not in a final state (for the start-up sweep), oldest first."""
        final = sorted(state.value for state in FINAL_OP_STATES)
        query = (
            versioned(lcm_op_occs)
            .where(lcm_op_occs.c.state.not_in(final))
            .order_by(lcm_op_occs.c.start_time, lcm_op_occs.c.id)
        )
        return await read_bodies(self._engine, query, LcmOpOcc)

    async def held_op(self, nsr_id: str) -> LcmOpOcc | None:
        query = (
            versioned(lcm_op_occs)
            .where(
                lcm_op_occs.c.nsr_id == nsr_id,
                lcm_op_occs.c.state == OpState.FAILED_TEMP.value,
            )
            .limit(1)
        )
        found = await read_bodies(self._engine, query, LcmOpOcc)
        return found[0] if found else None

    async def find_idempotency_key(self, key: str) -> tuple[str, str, str] | None:
        query = select(idempotency_keys).where(idempotency_keys.c.id == key)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        return None if row is None else (row.request, row.nsr_id, row.op_id)


async def _write_op(conn: AsyncConnection, op: LcmOpOcc) -> int:
    values = {
        "project_id": op.project_id,
        "nsr_id": op.nsr_id,
        "operation": op.operation.value,
        "state": op.state.value,
        "start_time": to_utc(op.start_time),
        "state_entered_time": to_utc(op.state_entered_time),
        "body": op.model_dump(mode="json", exclude={"revision"}),
    }
    return await compare_and_set(conn, lcm_op_occs, op.id, op.revision, values, _KIND)


__all__ = ["SqlOperationRepository"]
