"""NS leases: the per-NS lock as a row every replica of nubo sees.

A lease names its ``holder`` (an operation occurrence, or an observer's token)
and its ``owner``, the replica that runs the holder and renews the lease.
Whoever asks while a live lease exists gets ``Busy`` (409), on any replica. A
replica that dies stops renewing: once ``expires_at`` has passed, another
replica may take the lease over and, with it, the recovery of the operation.
A replica that starts again under the same name takes its own leases back at
once (``release_owned``): they belonged to the process that died.

Writes start with a write statement (INSERT, UPDATE, DELETE), as the rest of
the store does, so that SQLite takes its write lock at the start.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from nubo.model.errors import Busy
from nubo.store.database import Database
from nubo.store.tables import leaderships, ns_leases

log = logging.getLogger("nubo.store")

Clock = Callable[[], datetime]


def _now() -> datetime:
    return datetime.now(UTC)


class SqlLeases:
    """The ``NsLeases`` port on the store's database."""

    def __init__(
        self,
        database: Database,
        owner: str,
        ttl: float = 10.0,
        clock: Clock = _now,
    ) -> None:
        self._engine = database.engine
        #: the replica these leases belong to
        self.owner = owner
        #: seconds a lease lives without renewal
        self.ttl = ttl
        self._clock = clock

    def _expiry(self, now: datetime) -> datetime:
        return now + timedelta(seconds=self.ttl)

    async def acquire(self, nsr_id: str, holder: str) -> None:
        """Take the NS's lease for ``holder``; ``Busy`` naming the live holder otherwise.

        A lease whose owner stopped renewing it (expired) is taken over.
        """
        now = self._clock()
        values = {
            "holder": holder,
            "owner": self.owner,
            "acquired_at": now,
            "expires_at": self._expiry(now),
        }
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(ns_leases).values(nsr_id=nsr_id, **values))
            return
        except IntegrityError:
            pass
        async with self._engine.begin() as conn:
            taken = await conn.execute(
                update(ns_leases)
                .where(ns_leases.c.nsr_id == nsr_id, ns_leases.c.expires_at < now)
                .values(**values)
            )
            if taken.rowcount == 1:
                log.warning("lease.taken_over ns=%s holder=%s owner=%s", nsr_id, holder, self.owner)
                return
            row = (
                await conn.execute(
                    select(ns_leases.c.holder, ns_leases.c.owner).where(
                        ns_leases.c.nsr_id == nsr_id
                    )
                )
            ).first()
        if row is None:  # released between the two statements: try once more
            return await self.acquire(nsr_id, holder)
        raise Busy(
            f"NS {nsr_id} is busy with operation {row.holder}; retry when it has finished",
            busy_operation=row.holder,
        )

    async def release(self, nsr_id: str, holder: str) -> None:
        """Give the lease back, if ``holder`` still has it."""
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(ns_leases).where(ns_leases.c.nsr_id == nsr_id, ns_leases.c.holder == holder)
            )

    async def holder(self, nsr_id: str) -> str | None:
        """Who holds the NS's live lease, if anyone."""
        query = select(ns_leases.c.holder).where(
            ns_leases.c.nsr_id == nsr_id, ns_leases.c.expires_at >= self._clock()
        )
        async with self._engine.connect() as conn:
            found: str | None = (await conn.execute(query)).scalar_one_or_none()
        return found

    async def holders(self, nsr_ids: Iterable[str] | None = None) -> dict[str, str]:
        """Live leases by NS (of ``nsr_ids``, or all): one query for a whole pass."""
        query = select(ns_leases.c.nsr_id, ns_leases.c.holder).where(
            ns_leases.c.expires_at >= self._clock()
        )
        if nsr_ids is not None:
            wanted = list(nsr_ids)
            if not wanted:
                return {}
            query = query.where(ns_leases.c.nsr_id.in_(wanted))
        async with self._engine.connect() as conn:
            return {row.nsr_id: row.holder for row in await conn.execute(query)}

    async def renew(self) -> int:
        """Extend every lease this replica owns; the number renewed."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(ns_leases)
                .where(ns_leases.c.owner == self.owner)
                .values(expires_at=self._expiry(self._clock()))
            )
        return int(result.rowcount)

    async def request_cancel(self, nsr_id: str, holder: str) -> str | None:
        """Ask the replica running ``holder`` on the NS to cancel it; that replica's name,
        or None when no live lease of ``holder`` exists (nobody runs it right now)."""
        async with self._engine.begin() as conn:
            asked = await conn.execute(
                update(ns_leases)
                .where(
                    ns_leases.c.nsr_id == nsr_id,
                    ns_leases.c.holder == holder,
                    ns_leases.c.expires_at >= self._clock(),
                )
                .values(cancel_requested=True)
                .returning(ns_leases.c.owner)
            )
            owner: str | None = asked.scalar_one_or_none()
        return owner

    async def cancel_requests(self) -> list[str]:
        """The holders of this replica's leases that another replica asked to cancel."""
        query = select(ns_leases.c.holder).where(
            ns_leases.c.owner == self.owner, ns_leases.c.cancel_requested.is_(True)
        )
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).scalars())

    async def release_owned(self) -> int:
        """Drop the leases a previous process of this replica left (start-up)."""
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(ns_leases).where(ns_leases.c.owner == self.owner))
        if result.rowcount:
            log.warning("lease.released_stale owner=%s leases=%d", self.owner, result.rowcount)
        return int(result.rowcount)


class SqlLeadership:
    """One replica at a time leads a named kind of work; the others stand by.

    The leader renews its claim; once the claim expires (its replica died)
    the next replica to claim leads. A replica restarted under the same name
    leads again at once.
    """

    def __init__(
        self, database: Database, owner: str, ttl: float = 10.0, clock: Clock = _now
    ) -> None:
        self._engine = database.engine
        self.owner = owner
        self.ttl = ttl
        self._clock = clock

    async def claim(self, name: str) -> bool:
        """Lead ``name`` (or go on leading it) unless another live replica does."""
        now = self._clock()
        expires = now + timedelta(seconds=self.ttl)
        async with self._engine.begin() as conn:
            renewed = await conn.execute(
                update(leaderships)
                .where(
                    leaderships.c.name == name,
                    (leaderships.c.owner == self.owner) | (leaderships.c.expires_at < now),
                )
                .values(owner=self.owner, expires_at=expires)
            )
            if renewed.rowcount == 1:
                return True
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(leaderships).values(name=name, owner=self.owner, expires_at=expires)
                )
        except IntegrityError:
            return False
        return True

    async def leader(self, name: str) -> str | None:
        query = select(leaderships.c.owner).where(
            leaderships.c.name == name, leaderships.c.expires_at >= self._clock()
        )
        async with self._engine.connect() as conn:
            found: str | None = (await conn.execute(query)).scalar_one_or_none()
        return found

    async def resign(self, name: str) -> None:
        """Stop leading at once, so another replica need not wait for the expiry."""
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(leaderships).where(
                    leaderships.c.name == name, leaderships.c.owner == self.owner
                )
            )


__all__ = ["SqlLeadership", "SqlLeases"]
