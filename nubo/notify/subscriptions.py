"""Placeholder: subscriptions and notification delivery (being written)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from nubo.nfvo.events import EventBus


class Subscriptions:
    def __init__(self, engine: AsyncEngine, events: EventBus) -> None:
        self.engine = engine
        self.events = events

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None
