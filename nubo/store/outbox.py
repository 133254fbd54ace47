"""``SqlOutbox``: notifications accepted for delivery, kept until delivered or dropped.

A notification written here survives the process that accepted it: whichever
replica delivers reads a subscriber's oldest rows in ``seq`` order, POSTs
them, and deletes each row once it was delivered or given up. The attempts
made and the time of the next one are written after every failed POST, so a
restart (or another replica) goes on with the same retry budget and backoff
instead of starting again.

Each subscriber holds at most ``keep`` rows: ``add`` removes the oldest beyond
that in the same transaction, and returns them so the caller can say what
was dropped. Writes start with a write statement (INSERT, UPDATE, DELETE), as
the rest of the store does, so that SQLite takes its write lock at once.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update

from nubo.store.database import Database
from nubo.store.port import OutboxEntry
from nubo.store.tables import notification_outbox as outbox
from nubo.store.tables import subscriptions


class SqlOutbox:
    """The ``Outbox`` port on the outbox table, one transaction per call."""

    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def add(
        self, accepted: Sequence[tuple[str, dict[str, Any]]], keep: int
    ) -> builtins.list[OutboxEntry]:
        """Write ``(subscription id, body)`` pairs in order; the rows dropped to keep the bound."""
        if not accepted:
            return []
        now = datetime.now(UTC)
        rows = [
            {"subscription_id": sid, "body": body, "next_attempt_at": now, "created_at": now}
            for sid, body in accepted
        ]
        dropped: list[OutboxEntry] = []
        async with self._engine.begin() as conn:
            # one statement per row keeps ``seq`` in acceptance order on every dialect
            for row in rows:
                await conn.execute(insert(outbox).values(attempts=0, **row))
            for sid in dict.fromkeys(sid for sid, _ in accepted):
                beyond = (
                    select(outbox)
                    .where(outbox.c.subscription_id == sid)
                    .order_by(outbox.c.seq.desc())
                    .offset(max(1, keep))
                )
                dropped.extend(_entry(row) for row in await conn.execute(beyond))
            if dropped:
                await conn.execute(delete(outbox).where(outbox.c.seq.in_([e.seq for e in dropped])))
        return sorted(dropped, key=lambda e: e.seq)

    async def head(self, subscription_id: str, limit: int) -> builtins.list[OutboxEntry]:
        """The subscriber's oldest ``limit`` rows, oldest first."""
        query = (
            select(outbox)
            .where(outbox.c.subscription_id == subscription_id)
            .order_by(outbox.c.seq)
            .limit(limit)
        )
        async with self._engine.connect() as conn:
            return [_entry(row) for row in await conn.execute(query)]

    async def subscribers(self, limit: int) -> builtins.list[str]:
        """Subscription ids that have rows (at most ``limit``)."""
        query = select(outbox.c.subscription_id).distinct().limit(limit)
        async with self._engine.connect() as conn:
            return [row.subscription_id for row in await conn.execute(query)]

    async def failed(self, seq: int, attempts: int, next_attempt_at: datetime) -> bool:
        """Record a failed try; False when the row is gone (dropped or unsubscribed)."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(outbox)
                .where(outbox.c.seq == seq)
                .values(attempts=attempts, next_attempt_at=next_attempt_at)
            )
        return bool(result.rowcount)

    async def remove(self, seq: int) -> None:
        """The row was delivered or given up."""
        async with self._engine.begin() as conn:
            await conn.execute(delete(outbox).where(outbox.c.seq == seq))

    async def remove_subscription(self, subscription_id: str) -> int:
        """Drop every row of a subscription; how many there were."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(outbox).where(outbox.c.subscription_id == subscription_id)
            )
        return int(result.rowcount)

    async def remove_orphans(self, subscription_ids: Iterable[str]) -> int:
        """Drop the rows of those ``subscription_ids`` whose subscription no longer exists.

        One statement checks and deletes, so a subscription created meanwhile on
        another replica keeps its rows.
        """
        wanted = list(subscription_ids)
        if not wanted:
            return 0
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(outbox).where(
                    outbox.c.subscription_id.in_(wanted),
                    outbox.c.subscription_id.not_in(select(subscriptions.c.id)),
                )
            )
        return int(result.rowcount)

    async def counts(self, subscription_ids: Iterable[str]) -> dict[str, int]:
        """Rows per subscription, for those that have any."""
        wanted = list(subscription_ids)
        if not wanted:
            return {}
        query = (
            select(outbox.c.subscription_id, func.count())
            .where(outbox.c.subscription_id.in_(wanted))
            .group_by(outbox.c.subscription_id)
        )
        async with self._engine.connect() as conn:
            return {str(sid): int(n) for sid, n in await conn.execute(query)}


def _entry(row: Any) -> OutboxEntry:
    moment: datetime = row.next_attempt_at
    if moment.tzinfo is None:  # SQLite hands naive datetimes back; they were written in UTC
        moment = moment.replace(tzinfo=UTC)
    return OutboxEntry(
        seq=int(row.seq),
        subscription_id=row.subscription_id,
        body=dict(row.body),
        attempts=int(row.attempts),
        next_attempt_at=moment,
    )


__all__ = ["OutboxEntry", "SqlOutbox"]
