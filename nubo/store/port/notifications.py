"""Subscriptions to notifications and the outbox of notifications not yet delivered."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from nubo.model.subscriptions import Subscription
from nubo.model.tenancy import SYSTEM, Scope


@dataclass(frozen=True)
class OutboxEntry:
    """One notification waiting for a subscriber."""

    seq: int
    subscription_id: str
    body: dict[str, Any]
    #: POSTs tried so far (0: never tried)
    attempts: int
    next_attempt_at: datetime


class SubscriptionRepository(Protocol):
    async def add(self, subscription: Subscription) -> None:
        """Insert a new subscription; ``Conflict`` when its id is taken."""
        ...

    async def get(self, subscription_id: str, scope: Scope = SYSTEM) -> Subscription: ...

    async def list(
        self, callback_uri: str | None = None, scope: Scope = SYSTEM
    ) -> builtins.list[Subscription]:
        """Oldest first; only those of ``callback_uri`` when given."""
        ...

    async def delete(self, subscription_id: str) -> None:
        """Remove the subscription and its pending notifications; ``NotFound`` if none."""
        ...


class Outbox(Protocol):
    """Notifications accepted and not yet delivered, oldest first per subscriber."""

    async def add(
        self, accepted: Sequence[tuple[str, dict[str, Any]]], keep: int
    ) -> builtins.list[OutboxEntry]:
        """Write ``(subscription id, body)`` pairs in order; the rows dropped to keep the bound."""
        ...

    async def head(self, subscription_id: str, limit: int) -> builtins.list[OutboxEntry]: ...

    async def subscribers(self, limit: int) -> builtins.list[str]: ...

    async def failed(self, seq: int, attempts: int, next_attempt_at: datetime) -> bool:
        """Record a failed try; False when the row is gone (dropped or unsubscribed)."""
        ...

    async def remove(self, seq: int) -> None: ...

    async def remove_subscription(self, subscription_id: str) -> int: ...

    async def remove_orphans(self, subscription_ids: Iterable[str]) -> int:
        """Drop the rows of those ``subscription_ids`` whose subscription no longer exists."""
        ...

    async def counts(self, subscription_ids: Iterable[str]) -> dict[str, int]: ...
