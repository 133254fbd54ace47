"""``Subscriptions``: SOL005 subscriptions and the webhook delivery of their notifications.

A subscription is created only once its callback URI has answered the SOL005
endpoint test (a GET answered with 204 No Content); a request with the same
callback URI and filter as a stored subscription gets that one back instead
of a second. Subscriptions are stored, so they survive a restart.

While started, the service listens to the ``EventBus``: every event is
matched against every subscription's filter and, for each match, a
notification (the event plus ``id``, ``subscriptionId`` and ``_links``) is
queued on that subscription's ``Subscriber``, whose one worker POSTs them in
order with bounded retries (see ``nubo.notify.delivery``). The listener only
queues, so a slow or dead callback never delays an LCM operation, fault
management, or another subscriber.

Notifications are not stored: those still queued or being retried when the
orchestrator stops are lost, and a restarted orchestrator does not send
again what it published before.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
from collections.abc import Callable
from typing import Any, NamedTuple

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from nubo.model.alarms import Alarm
from nubo.model.ids import new_id
from nubo.model.kpis import KpiEvent
from nubo.model.subscriptions import (
    CallbackHosts,
    LccnSubscriptionRequest,
    Subscription,
    new_subscription,
)
from nubo.nfvo.events import Event, EventBus
from nubo.nfvo.tasks import cancel_and_wait
from nubo.notify.delivery import CallbackClient, DeliveryCounters, DeliveryPolicy, Subscriber
from nubo.notify.sources import (
    Notification,
    alarm_notification,
    notification_links,
    threshold_crossed_notification,
)
from nubo.store.subscriptions import SqlSubscriptionStore

log = logging.getLogger("nubo.notify")


class Created(NamedTuple):
    """The subscription a create request led to; ``created`` False for an existing duplicate."""

    subscription: Subscription
    created: bool


class Subscriptions:
    """Create, list, read and delete subscriptions; deliver their notifications."""

    def __init__(
        self,
        engine: AsyncEngine,
        events: EventBus,
        *,
        timeout: float = 5.0,
        attempts: int = 5,
        backoff: float = 0.5,
        queue_size: int = 1000,
        transport: httpx.AsyncBaseTransport | None = None,
        allowed_hosts: str = "",
    ) -> None:
        self.store = SqlSubscriptionStore(engine)
        self.allowed_hosts = CallbackHosts(allowed_hosts)
        self.events = events
        self.policy = DeliveryPolicy(
            timeout=timeout, attempts=max(1, attempts), backoff=backoff, queue_size=queue_size
        )
        self.client = CallbackClient(timeout, transport)
        self._subscribers: dict[str, Subscriber] = {}
        self._unsubscribe: Callable[[], None] | None = None
        # the duplicate check and the insert must see the same subscriptions
        self._create_lock = asyncio.Lock()

    @property
    def running(self) -> bool:
        return self._unsubscribe is not None

    async def start(self) -> None:
        """Load the stored subscriptions, start their workers, listen to the bus."""
        if self.running:
            return
        stored = await self.store.list()
        self._subscribers = {s.id: Subscriber(s, self.client.post, self.policy) for s in stored}
        for subscriber in self._subscribers.values():
            subscriber.start()
        self._unsubscribe = self.events.subscribe(self._on_event)
        log.info("notify.started subscriptions=%d", len(stored))

    async def stop(self) -> None:
        """Stop listening and cancel every worker; what is still queued is lost."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        subscribers, self._subscribers = list(self._subscribers.values()), {}
        await cancel_and_wait([s.task for s in subscribers if s.task is not None])
        await self.client.close()
        lost = sum(s.counters.queued for s in subscribers)
        if lost:
            log.warning("notify.stopped undelivered=%d", lost)

    # -- the resource -----------------------------------------------------------------
    async def create(self, request: LccnSubscriptionRequest) -> Created:
        """A new subscription, or the stored one with the same callback and filter.

        ``BadRequest`` names a bad value, ``NotSupported`` refuses authentication,
        ``CallbackTestFailed`` says what the callback answered; nothing is stored then.
        """
        candidate = new_subscription(request)
        self.allowed_hosts.check(candidate.callback_uri)
        existing = await self._duplicate_of(candidate)
        if existing is not None:
            return Created(existing, False)
        await self.client.test(candidate.callback_uri)
        async with self._create_lock:
            existing = await self._duplicate_of(candidate)
            if existing is not None:
                return Created(existing, False)
            await self.store.add(candidate)
            if self.running:
                subscriber = Subscriber(candidate, self.client.post, self.policy)
                self._subscribers[candidate.id] = subscriber
                subscriber.start()
        log.info(
            "subscription.created subscription=%s callback=%s filter=%s",
            candidate.id,
            candidate.callback_uri,
            candidate.filter.sol005(),
        )
        return Created(candidate, True)

    async def _duplicate_of(self, candidate: Subscription) -> Subscription | None:
        for stored in await self.store.list(candidate.callback_uri):
            if stored.same_as(candidate):
                return stored
        return None

    async def list(self, callback_uri: str | None = None) -> builtins.list[Subscription]:
        """Oldest first; only those of ``callback_uri`` when given."""
        return await self.store.list(callback_uri)

    async def get(self, subscription_id: str) -> Subscription:
        return await self.store.get(subscription_id)

    async def delete(self, subscription_id: str) -> None:
        """Delete the subscription and stop its deliveries (queued ones are dropped)."""
        await self.store.delete(subscription_id)
        subscriber = self._subscribers.pop(subscription_id, None)
        if subscriber is not None and subscriber.task is not None:
            await cancel_and_wait([subscriber.task])
        log.info("subscription.deleted subscription=%s", subscription_id)

    def counters(self, subscription_id: str) -> DeliveryCounters:
        """Delivery counters since this orchestrator started (zero when not running)."""
        subscriber = self._subscribers.get(subscription_id)
        return subscriber.counters if subscriber is not None else DeliveryCounters()

    # -- sources ------------------------------------------------------------------------
    async def publish_alarm(self, alarm: Alarm) -> None:
        """The ``notify`` hook of fault management: an alarm raised, changed or cleared."""
        self._publish(alarm_notification(alarm))

    async def publish_kpi_event(self, event: KpiEvent) -> None:
        """The ``notify`` hook of KPI evaluation: a KPI's change of state."""
        self._publish(threshold_crossed_notification(event))

    def _publish(self, notification: Notification | None) -> None:
        if notification is not None:
            kind, body = notification
            self.events.publish(kind.value, **body)

    # -- delivery -----------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        """Queue the event for every matching subscriber; never blocks."""
        for subscriber in list(self._subscribers.values()):
            subscription = subscriber.subscription
            if subscription.filter.matches(event):
                subscriber.offer(notification_for(event, subscription))


def notification_for(event: Event, subscription: Subscription) -> dict[str, Any]:
    """The body POSTed to one subscriber: the event with its own id and links."""
    body: dict[str, Any] = {
        "id": new_id(),
        "notificationType": event.get("notificationType"),
        "subscriptionId": subscription.id,
        "timeStamp": event.get("timeStamp"),
    }
    body.update((key, value) for key, value in event.items() if key not in body)
    body["_links"] = notification_links(event, subscription.href)
    return body
