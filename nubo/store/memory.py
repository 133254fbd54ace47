"""``SqlLoopMemory``: what the background loops remember, in the database.

Heal attempts and scaling cooldowns must outlive the process that counted
them: after a restart, or when another replica becomes the leader of the
loops, a VNFC that already used its heal attempts must not get new ones, and
a VNF that just scaled must not scale again before its cooldown is over.
Only the leading replica writes; every pass reads what it needs again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from nubo.store.database import Database
from nubo.store.tables import loop_memory


class SqlLoopMemory:
    """Small JSON documents by (kind, key), one transaction per call."""

    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def load(self, kind: str) -> dict[str, dict[str, Any]]:
        """Every document of ``kind``, by key."""
        query = select(loop_memory.c.key, loop_memory.c.body).where(loop_memory.c.kind == kind)
        async with self._engine.connect() as conn:
            return {row.key: dict(row.body) for row in await conn.execute(query)}

    async def put(self, kind: str, key: str, body: dict[str, Any]) -> None:
        """Insert or replace (UPDATE first, so SQLite takes its write lock at once)."""
        now = datetime.now(UTC)
        where = (loop_memory.c.kind == kind) & (loop_memory.c.key == key)
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(loop_memory).where(where).values(body=body, updated_at=now)
            )
            if result.rowcount == 0:
                await conn.execute(
                    insert(loop_memory).values(kind=kind, key=key, body=body, updated_at=now)
                )

    async def forget(self, kind: str, key: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(loop_memory).where(loop_memory.c.kind == kind, loop_memory.c.key == key)
            )


__all__ = ["SqlLoopMemory"]
