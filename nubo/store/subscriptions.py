"""``SqlSubscriptionStore``: subscriptions to notifications (table ``subscriptions``).

The subscription is kept whole in ``body``; ``callback_uri`` is copied out
because listings filter on it and a duplicate is looked for among the
subscriptions of one callback. Deleting a subscription deletes, in the same
transaction, its notifications still waiting in the outbox (see
``nubo.store.outbox``).
"""

from __future__ import annotations

import builtins

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from nubo.model.errors import Conflict, NotFound
from nubo.model.subscriptions import Subscription
from nubo.model.tenancy import SYSTEM, Scope
from nubo.store.database import Database
from nubo.store.rows import aggregate_of, in_scope, read_bodies, versioned
from nubo.store.tables import notification_outbox, subscriptions


class SqlSubscriptionStore:
    """Adds, reads, lists and deletes subscriptions, one transaction per call."""

    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def add(self, subscription: Subscription) -> None:
        """Insert a new subscription; ``Conflict`` when its id is taken."""
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(subscriptions).values(
                        id=subscription.id,
                        project_id=subscription.project_id,
                        callback_uri=subscription.callback_uri,
                        body=subscription.model_dump(mode="json"),
                        created_at=subscription.created_at,
                    )
                )
        except IntegrityError as exc:
            raise Conflict(
                f"subscription {subscription.id} already exists", subscription_id=subscription.id
            ) from exc

    async def get(self, subscription_id: str, scope: Scope = SYSTEM) -> Subscription:
        query = versioned(subscriptions).where(subscriptions.c.id == subscription_id)
        query = in_scope(query, subscriptions, scope)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(
                f"subscription {subscription_id} not found", subscription_id=subscription_id
            )
        return aggregate_of(row, Subscription)

    async def list(
        self, callback_uri: str | None = None, scope: Scope = SYSTEM
    ) -> builtins.list[Subscription]:
        """Oldest first; only those of ``callback_uri`` when given."""
        query = in_scope(versioned(subscriptions), subscriptions, scope)
        if callback_uri is not None:
            query = query.where(subscriptions.c.callback_uri == callback_uri)
        found = await read_bodies(self._engine, query, Subscription)
        return sorted(found, key=lambda s: (s.created_at, s.id))

    async def delete(self, subscription_id: str) -> None:
        """Remove the subscription and its pending notifications; ``NotFound`` if none."""
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(subscriptions).where(subscriptions.c.id == subscription_id)
            )
            await conn.execute(
                delete(notification_outbox).where(
                    notification_outbox.c.subscription_id == subscription_id
                )
            )
        if result.rowcount == 0:
            raise NotFound(
                f"subscription {subscription_id} not found", subscription_id=subscription_id
            )
