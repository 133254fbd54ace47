"""``SqlSubscriptionStore``: subscriptions to notifications (table ``subscriptions``).

The subscription is kept whole in ``body``; ``callback_uri`` is copied out
because listings filter on it and a duplicate is looked for among the
subscriptions of one callback. Deleting a subscription deletes, in the same
transaction, its notifications still waiting in the outbox (see
``nubo.store.outbox``).
"""

from __future__ import annotations

import builtins

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from nubo.model.errors import Conflict, NotFound
from nubo.model.subscriptions import Subscription
from nubo.store.database import Database
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
                        callback_uri=subscription.callback_uri,
                        body=subscription.model_dump(mode="json"),
                        created_at=subscription.created_at,
                    )
                )
        except IntegrityError as exc:
            raise Conflict(
                f"subscription {subscription.id} already exists", subscription_id=subscription.id
            ) from exc

    async def get(self, subscription_id: str) -> Subscription:
        query = select(subscriptions.c.body).where(subscriptions.c.id == subscription_id)
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(
                f"subscription {subscription_id} not found", subscription_id=subscription_id
            )
        return Subscription.model_validate(row.body)

    async def list(self, callback_uri: str | None = None) -> builtins.list[Subscription]:
        """Oldest first; only those of ``callback_uri`` when given."""
        query = select(subscriptions.c.body)
        if callback_uri is not None:
            query = query.where(subscriptions.c.callback_uri == callback_uri)
        async with self._engine.connect() as conn:
            found = [Subscription.model_validate(row.body) for row in await conn.execute(query)]
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
