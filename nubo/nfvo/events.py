"""``EventBus``: lifecycle events from the orchestrator to whoever listens.

Publishers (the operation runner, the NS service, fault management, KPIs)
hand over a SOL005-shaped notification body without ``id``,
``subscriptionId`` and ``_links``; the notifier of the subscriptions
adds those per subscriber. ``publish`` never blocks and never raises: a
listener must only queue the event, and one that fails is logged and skipped,
so a broken listener cannot stop an LCM operation.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from nubo.model.records import utcnow

log = logging.getLogger("nubo.events")

Event = dict[str, Any]
Listener = Callable[[Event], None]


class EventBus:
    """Fan-out of events to listeners, in publication order."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; returns the function that removes it again."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def publish(self, notification_type: str, **body: Any) -> None:
        event: Event = {
            "notificationType": notification_type,
            "timeStamp": utcnow().isoformat().replace("+00:00", "Z"),
            **body,
        }
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("events.listener_failed type=%s", notification_type)
