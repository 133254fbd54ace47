"""``SqlAuditStore``: the audit trail in the ``audit_events`` table."""

from __future__ import annotations

import builtins

from sqlalchemy import ColumnElement, delete, insert, select

from nubo.model.audit import AuditEvent
from nubo.model.tenancy import SYSTEM, Scope
from nubo.store.database import Database
from nubo.store.port import AuditQuery
from nubo.store.tables import audit_events as t

#: the most events one listing returns
MAX_LIMIT = 1000


class SqlAuditStore:
    """The ``AuditRepository`` port, one transaction per call."""

    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def record(self, event: AuditEvent) -> None:
        values = event.model_dump(mode="json", exclude={"id"})
        values["actor"] = values["actor"][:255]
        async with self._engine.begin() as conn:
            await conn.execute(insert(t), values)

    async def list(self, query: AuditQuery, scope: Scope = SYSTEM) -> builtins.list[AuditEvent]:
        where: list[ColumnElement[bool]] = []
        if scope.visible is not None:
            where.append(t.c.project_id == scope.visible)
        for column, wanted in (
            (t.c.actor, query.actor),
            (t.c.method, query.method.upper() if query.method else None),
            (t.c.outcome, query.outcome.value if query.outcome else None),
        ):
            if wanted is not None:
                where.append(column == wanted)
        if query.since is not None:
            where.append(t.c.time >= query.since)
        if query.until is not None:
            where.append(t.c.time <= query.until)
        if query.path_prefix:
            where.append(t.c.path.startswith(query.path_prefix, autoescape=True))
        if query.before_id is not None:
            where.append(t.c.id < query.before_id)
        statement = (
            select(t)
            .where(*where)
            .order_by(t.c.id.desc())
            .limit(max(1, min(query.limit, MAX_LIMIT)))
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(statement)).mappings().all()
        return [AuditEvent.model_validate(dict(row)) for row in rows]

    async def prune(self, before: float) -> int:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(t).where(t.c.time < before))
        return int(result.rowcount or 0)
