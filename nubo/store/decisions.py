"""``SqlDecisionStore``: the auto-scaler's decisions in the ``scaling_decisions`` table.

Decisions are stored as JSON bodies with the columns the listing filters on
(NS, VNF, time) beside them. The store knows nothing of the decision model
(it lives in a layer above); it reads the columns off any object that has
them and hands back the bodies.
"""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import delete, insert, select

from nubo.model.tenancy import SYSTEM, Scope
from nubo.store.database import Database
from nubo.store.port import DecisionLike
from nubo.store.tables import nsrs, scaling_decisions

#: the most decisions one listing returns
MAX_LIMIT = 1000


class SqlDecisionStore:
    """Saves and lists scaling decisions, one transaction per call."""

    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def save(self, decision: DecisionLike) -> None:
        async with self._engine.begin() as conn:
            # a statement without values compiles once; its parameters come per call
            await conn.execute(
                insert(scaling_decisions),
                {
                    "id": decision.id,
                    "time": decision.time,
                    "nsr_id": decision.nsr_id,
                    "vnfr_id": decision.vnfr_id,
                    "policy": decision.policy[:255],
                    "outcome": str(decision.outcome),
                    "body": decision.to_body(),
                },
            )

    async def prune(self, before: float) -> int:
        table = scaling_decisions
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(table).where(table.c.time < before))
        return int(result.rowcount or 0)

    async def list(
        self,
        nsr_id: str | None = None,
        vnfr_id: str | None = None,
        since: float | None = None,
        limit: int = 100,
        scope: Scope = SYSTEM,
    ) -> builtins.list[dict[str, Any]]:
        """Bodies of the matching decisions, newest first, at most ``limit``.

        A decision belongs to its NS's project: ``scope`` filters on that, through
        the NS table's indexed project column.
        """
        table = scaling_decisions
        query = select(table.c.body).order_by(table.c.time.desc())
        if scope.visible is not None:
            of_project = select(nsrs.c.id).where(nsrs.c.project_id == scope.visible)
            query = query.where(table.c.nsr_id.in_(of_project))
        if nsr_id is not None:
            query = query.where(table.c.nsr_id == nsr_id)
        if vnfr_id is not None:
            query = query.where(table.c.vnfr_id == vnfr_id)
        if since is not None:
            query = query.where(table.c.time >= since)
        query = query.limit(max(1, min(limit, MAX_LIMIT)))
        async with self._engine.connect() as conn:
            rows = await conn.execute(query)
            return [dict(row.body) for row in rows]
