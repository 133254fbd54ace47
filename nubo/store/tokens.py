"""``SqlTokenStore``: the keys tokens are signed with, and tokens revoked early."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, insert, select, update

from nubo.model.identity import SigningKey
from nubo.store.database import Database
from nubo.store.port.identity import TokenState
from nubo.store.rows import from_db, to_utc
from nubo.store.tables import api_clients, revoked_tokens, signing_keys, users


class SqlTokenStore:
    """The ``TokenRepository`` port; one transaction per call."""

    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def add_signing_key(self, key: SigningKey, *, retire_others: bool) -> None:
        async with self._engine.begin() as conn:
            if retire_others:
                await conn.execute(
                    update(signing_keys)
                    .where(signing_keys.c.retired_at.is_(None))
                    .values(retired_at=to_utc(key.created_at))
                )
            await conn.execute(
                insert(signing_keys).values(
                    id=key.id,
                    secret=key.secret,
                    created_at=to_utc(key.created_at),
                    retired_at=None if key.retired_at is None else to_utc(key.retired_at),
                )
            )

    async def delete_signing_keys(self, retired_before: datetime) -> int:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(signing_keys).where(signing_keys.c.retired_at <= to_utc(retired_before))
            )
        return int(result.rowcount)

    async def revoke(self, token_id: str, expires_at: datetime) -> None:
        async with self._engine.begin() as conn:
            # forgetting the expired ones here keeps the table as small as the live tokens
            await conn.execute(
                delete(revoked_tokens).where(
                    (revoked_tokens.c.id == token_id)
                    | (revoked_tokens.c.expires_at < to_utc(datetime.now(UTC)))
                )
            )
            await conn.execute(
                insert(revoked_tokens).values(id=token_id, expires_at=to_utc(expires_at))
            )

    async def token_state(self, now: datetime) -> TokenState:
        # a read only: replicas call it about once a second, it must not queue behind writers
        async with self._engine.connect() as conn:
            keys = {
                row.id: SigningKey(
                    id=row.id,
                    secret=row.secret,
                    created_at=from_db(row.created_at),
                    retired_at=None if row.retired_at is None else from_db(row.retired_at),
                )
                for row in await conn.execute(select(signing_keys))
            }
            revoked = frozenset(
                row.id
                for row in await conn.execute(
                    select(revoked_tokens.c.id).where(revoked_tokens.c.expires_at >= to_utc(now))
                )
            )
            holders = await conn.execute(
                select(users.c.id, users.c.generation).where(users.c.enabled.is_(True))
            )
            user_generations = {row.id: int(row.generation) for row in holders}
            clients = await conn.execute(select(api_clients.c.id, api_clients.c.generation))
            client_generations = {row.id: int(row.generation) for row in clients}
        return TokenState(keys, revoked, user_generations, client_generations)


__all__ = ["SqlTokenStore"]
