"""``SqlNsdRepository``: the NSD catalogue (table ``nsds``).

Whether an NSD is still in use is a question for the NS records
(``nsrs_using_nsd``); the catalogue service asks both.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from nubo.model.catalogue import NsdEntry
from nubo.model.errors import Conflict, NotFound
from nubo.model.tenancy import SYSTEM, Scope
from nubo.store.database import Database
from nubo.store.rows import delete_row, from_db, in_scope, to_utc
from nubo.store.tables import nsds


class SqlNsdRepository:
    """The ``NsdRepository`` port; one transaction per call."""

    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def add_nsd(self, nsd: NsdEntry) -> None:
        """Store an onboarded NSD; raise ``Conflict`` when the id is taken."""
        values = nsd.model_dump(mode="json")
        values["created_at"] = to_utc(nsd.created_at)
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

    async def list_nsds(self, scope: Scope = SYSTEM) -> list[NsdEntry]:
        query = in_scope(select(nsds).order_by(nsds.c.created_at, nsds.c.id), nsds, scope)
        async with self._engine.connect() as conn:
            return [_nsd_of(row) for row in await conn.execute(query)]

    async def get_nsd(self, nsd_id: str, scope: Scope = SYSTEM) -> NsdEntry:
        query = in_scope(select(nsds).where(nsds.c.id == nsd_id), nsds, scope)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"NSD {nsd_id} not found", nsd_id=nsd_id)
        return _nsd_of(row)

    async def delete_nsd(self, nsd_id: str) -> None:
        """Remove the NSD; raise ``NotFound`` when there is none (checking use is the caller's)."""
        async with self._engine.begin() as conn:
            deleted = await delete_row(conn, nsds, nsd_id)
        if not deleted:
            raise NotFound(f"NSD {nsd_id} not found", nsd_id=nsd_id)


def _nsd_of(row: Row[Any]) -> NsdEntry:
    values = row._asdict()
    values["created_at"] = from_db(values["created_at"])
    values["info"] = values.get("info") or {}
    return NsdEntry.model_validate(values)


__all__ = ["SqlNsdRepository"]
