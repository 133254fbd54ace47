"""``SqlKpiStore``: KPI definitions (``kpis``) and their state changes (``kpi_events``).

A KPI's body holds its definition and its current state. The evaluator only
ever UPDATEs a KPI, never inserts it, so a KPI deleted while an evaluation
was under way stays deleted; its state and its event are written in one
transaction, so an event never exists without the state it led to.
"""

from __future__ import annotations

import builtins

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError

from nubo.model.errors import Conflict, NotFound
from nubo.model.kpis import Kpi, KpiEvent
from nubo.model.tenancy import SYSTEM, Scope
from nubo.store.database import Database
from nubo.store.rows import in_scope, read_bodies, read_body, versioned
from nubo.store.tables import kpi_events, kpis

#: the most events one listing returns
MAX_LIMIT = 1000


class SqlKpiStore:
    """Saves, lists and deletes KPIs and their events, one transaction per call."""

    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def add(self, kpi: Kpi) -> None:
        """Insert a new KPI; ``Conflict`` when its id is taken."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(kpis).values(
                        id=kpi.id,
                        project_id=kpi.project_id,
                        nsr_id=kpi.nsr_id,
                        body=kpi.model_dump(mode="json"),
                    )
                )
        except IntegrityError as exc:
            raise Conflict(f"KPI {kpi.id} already exists", kpi_id=kpi.id) from exc

    async def get(self, kpi_id: str, scope: Scope = SYSTEM) -> Kpi:
        return await read_body(self._engine, kpis, kpi_id, Kpi, "KPI", "kpi_id", scope)

    async def list(self, nsr_id: str | None = None, scope: Scope = SYSTEM) -> builtins.list[Kpi]:
        """Oldest first."""
        query = in_scope(versioned(kpis), kpis, scope)
        if nsr_id is not None:
            query = query.where(kpis.c.nsr_id == nsr_id)
        found = await read_bodies(self._engine, query, Kpi)
        return sorted(found, key=lambda kpi: (kpi.created_at, kpi.id))

    async def delete(self, kpi_id: str) -> None:
        """Remove the KPI and its events; ``NotFound`` when there is none."""
        async with self._engine.begin() as conn:
            await conn.execute(delete(kpi_events).where(kpi_events.c.kpi_id == kpi_id))
            result = await conn.execute(delete(kpis).where(kpis.c.id == kpi_id))
        if result.rowcount == 0:
            raise NotFound(f"KPI {kpi_id} not found", kpi_id=kpi_id)

    async def record(self, kpi: Kpi, event: KpiEvent | None = None) -> bool:
        """Save an evaluated KPI and its event; False (nothing written) when it was deleted."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(kpis).where(kpis.c.id == kpi.id).values(body=kpi.model_dump(mode="json"))
            )
            if result.rowcount == 0:
                return False
            if event is not None:
                await conn.execute(
                    insert(kpi_events).values(
                        id=event.id,
                        project_id=event.project_id,
                        kpi_id=event.kpi_id,
                        nsr_id=event.nsr_id,
                        time=event.time,
                        body=event.model_dump(mode="json"),
                    )
                )
        return True

    async def events(
        self,
        *,
        kpi_id: str | None = None,
        nsr_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        scope: Scope = SYSTEM,
    ) -> builtins.list[KpiEvent]:
        """The matching events, newest first, at most ``limit``."""
        table = kpi_events
        query = versioned(table).order_by(table.c.time.desc(), table.c.id.desc())
        query = in_scope(query, table, scope)
        if kpi_id is not None:
            query = query.where(table.c.kpi_id == kpi_id)
        if nsr_id is not None:
            query = query.where(table.c.nsr_id == nsr_id)
        if since is not None:
            query = query.where(table.c.time >= since)
        if until is not None:
            query = query.where(table.c.time <= until)
        query = query.limit(max(1, min(limit, MAX_LIMIT)))
        return await read_bodies(self._engine, query, KpiEvent)
