"""``EventBus``: lifecycle events from the orchestrator to whoever listens.

Publishers (the operation runner, the NS service, fault management, KPIs)
hand over a SOL005-shaped notification body without ``id``,
``subscriptionId`` and ``_links``; the notifier of the subscriptions
adds those per subscriber. Every event names the project of the record it
is about (``PROJECT_KEY``, never sent to a subscriber): only subscriptions
of that project hear of it. ``publish`` never blocks and never raises: a
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

#: the key of an event that names its record's project (not part of a notification)
PROJECT_KEY = "_projectId"


def project_of(event: Event) -> str | None:
    """The project of the record an event is about."""
    project = event.get(PROJECT_KEY)
    return project if isinstance(project, str) else None


class EventBus:
    """Fan-out of events to listeners, in publication order."""

    def __init__(self) -> None:
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Add a listener; returns the function that removes it again."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def publish(self, notification_type: str, *, project_id: str, **body: Any) -> None:
        """Tell every listener of an event about a record of ``project_id``."""
        event: Event = {
            "notificationType": notification_type,
            "timeStamp": utcnow().isoformat().replace("+00:00", "Z"),
            **body,
            PROJECT_KEY: project_id,
        }
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("events.listener_failed type=%s", notification_type)
