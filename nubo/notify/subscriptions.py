"""``Subscriptions``: SOL005 subscriptions and the webhook delivery of their notifications.

A subscription is created only once its callback URI has answered the SOL005
endpoint test (a GET answered with 204 No Content); a request with the same
callback URI and filter as a stored subscription gets that one back instead
of a second. Subscriptions are stored, so they survive a restart; every
replica reads them again every ``poll`` seconds, so one created on another
replica gets this replica's notifications too.

While started, the service listens to the ``EventBus``: every event is
matched against every subscription's filter and, for each match, a
notification (the event plus ``id``, ``subscriptionId`` and ``_links``) is
accepted for that subscriber: buffered, then written to the outbox in the
database by ``OutboxWriter``, off the publisher's path, so a slow database
or a dead callback never delays an LCM operation, fault management, or
another subscriber. The replica that leads delivery (``Dispatcher``) POSTs
every replica's outbox rows in order with bounded retries (see
``nubo.notify.delivery``).

Notifications written to the outbox survive a restart and are delivered at
least once; one accepted but not yet written (milliseconds' worth) is lost
with the process that accepted it.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any, NamedTuple

import httpx

from nubo.model.alarms import Alarm
from nubo.model.errors import CallbackTestFailed, NotFound
from nubo.model.ids import new_id
from nubo.model.kpis import KpiEvent
from nubo.model.subscription_filters import MATCH_KEY, SubscriptionApi
from nubo.model.subscriptions import (
    CallbackHosts,
    Subscription,
    SubscriptionRequest,
    new_subscription,
)
from nubo.model.tenancy import SYSTEM, Scope, in_project
from nubo.nfvo.events import PROJECT_KEY, Event, EventBus, project_of
from nubo.nfvo.tasks import cancel_and_wait
from nubo.notify.authentication import CallbackCredentials
from nubo.notify.delivery import CallbackClient, DeliveryCounters, DeliveryFailed, DeliveryPolicy
from nubo.notify.dispatch import Dispatcher
from nubo.notify.sealing import Seal
from nubo.notify.sources import (
    Notification,
    alarm_notification,
    notification_links,
    threshold_crossed_notification,
)
from nubo.notify.writer import OutboxWriter
from nubo.store.port import Leadership, Outbox, OutboxEntry, SubscriptionRepository

log = logging.getLogger("nubo.notify")

#: an NS instance id -> what fault filters match on (``nubo.notify.sources.ns_facts``)
NsFacts = Callable[[str], Awaitable[Mapping[str, Any]]]


class Created(NamedTuple):
    """The subscription a create request led to; ``created`` False for an existing duplicate."""

    subscription: Subscription
    created: bool


class Subscriptions:
    """Create, list, read and delete subscriptions; deliver their notifications."""

    def __init__(
        self,
        store: SubscriptionRepository,
        outbox: Outbox,
        events: EventBus,
        *,
        timeout: float = 5.0,
        attempts: int = 5,
        backoff: float = 0.5,
        queue_size: int = 1000,
        transport: httpx.AsyncBaseTransport | None = None,
        allowed_hosts: str = "",
        leadership: Leadership | None = None,
        poll: float = 1.0,
        versions: Mapping[str, str] | None = None,
        describe_ns: NsFacts | None = None,
        seal: Seal | None = None,
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.allowed_hosts = CallbackHosts(allowed_hosts)
        self.events = events
        self.policy = DeliveryPolicy(
            timeout=timeout,
            attempts=max(1, attempts),
            backoff=backoff,
            queue_size=max(1, queue_size),
        )
        self.client = CallbackClient(timeout, transport)
        #: seals the callback credentials of new subscriptions (no key: refused)
        self.seal = seal if seal is not None else Seal()
        self.credentials = CallbackCredentials(self.seal, self.client)
        self.dispatcher = Dispatcher(
            self.outbox,
            self.client.post,
            self.policy,
            leadership,
            versions=versions,
            authenticator=self.credentials,
        )
        #: what fault filters match an alarm's NS on (its NSD, VNFDs, name)
        self.describe_ns = describe_ns
        self.writer = OutboxWriter(
            self.outbox, self.policy.queue_size, self._written, self._dropped
        )
        #: seconds between two looks at the database (subscriptions, the lead, the outbox)
        self.poll = poll if leadership is None else min(poll, leadership.ttl / 3)
        self._known: dict[str, Subscription] = {}
        self._unsubscribe: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None
        # the duplicate check and the insert, a delete, and a reload of the known
        # subscriptions must not interleave
        self._known_lock = asyncio.Lock()

    @property
    def running(self) -> bool:
        return self._unsubscribe is not None

    @property
    def delivering(self) -> bool:
        """Whether this replica POSTs notifications (it leads delivery)."""
        return self.dispatcher.leading

    def watched(self) -> builtins.list[str]:
        """Ids of the subscriptions this replica matches events against."""
        return builtins.list(self._known)

    async def start(self) -> None:
        """Load the subscriptions, listen to the bus, deliver what the outbox holds."""
        if self.running:
            return
        await self._reload()
        self.writer.start()
        self._unsubscribe = self.events.subscribe(self._on_event)
        await self._look()
        self._task = asyncio.create_task(self._follow(), name="notify-dispatch")
        log.info("notify.started subscriptions=%d delivering=%s", len(self._known), self.delivering)

    async def stop(self) -> None:
        """Stop listening, write what was accepted, stop delivering (the outbox keeps the rest)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self.writer.stop()
        if self._task is not None:
            await cancel_and_wait([self._task])
            self._task = None
        await self.dispatcher.stop()
        await self.client.close()

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self.poll)
            await self._look()

    async def _look(self) -> None:
        try:
            await self._reload()
            await self.dispatcher.run_once(self._known)
        except Exception:
            log.exception("notify.dispatch_failed")

    async def _reload(self) -> None:
        async with self._known_lock:
            self._known = {s.id: s for s in await self.store.list()}

    # -- the resource -----------------------------------------------------------------
    async def create(
        self,
        request: SubscriptionRequest,
        scope: Scope = SYSTEM,
        api: SubscriptionApi = SubscriptionApi.NSLCM,
    ) -> Created:
        """A new subscription on ``api`` of the scope's project, or the stored one of that
        project and API with the same callback and filter.

        ``BadRequest`` names a bad value, ``NotSupported`` refuses authentication a server
        without a credentials key cannot store, ``CallbackTestFailed`` says what the
        callback (or its token endpoint) answered; nothing is stored then.
        """
        candidate = new_subscription(request, scope.project_id, api, self.seal.seal)
        self.allowed_hosts.check(candidate.callback_uri)
        existing = await self._duplicate_of(candidate)
        if existing is not None:
            return Created(existing, False)
        try:
            headers = await self.credentials.headers(candidate)
        except DeliveryFailed as exc:  # the token endpoint refused the client
            raise CallbackTestFailed(
                f"the callback {candidate.callback_uri} was not tested: {exc}",
                callbackUri=candidate.callback_uri,
            ) from None
        await self.client.test(candidate.callback_uri, headers)
        async with self._known_lock:
            existing = await self._duplicate_of(candidate)
            if existing is not None:
                return Created(existing, False)
            await self.store.add(candidate)
            self._known[candidate.id] = candidate
        log.info(
            "subscription.created subscription=%s callback=%s filter=%s",
            candidate.id,
            candidate.callback_uri,
            candidate.filter.sol005(),
        )
        return Created(candidate, True)

    async def _duplicate_of(self, candidate: Subscription) -> Subscription | None:
        own = in_project(candidate.project_id)
        for stored in await self.store.list(candidate.callback_uri, own):
            if stored.same_as(candidate):
                return stored
        return None

    async def list(
        self,
        callback_uri: str | None = None,
        scope: Scope = SYSTEM,
        api: SubscriptionApi = SubscriptionApi.NSLCM,
    ) -> builtins.list[Subscription]:
        """The subscriptions of ``api``, oldest first; only those of ``callback_uri`` when
        given."""
        return [s for s in await self.store.list(callback_uri, scope) if s.api is api]

    async def get(
        self,
        subscription_id: str,
        scope: Scope = SYSTEM,
        api: SubscriptionApi = SubscriptionApi.NSLCM,
    ) -> Subscription:
        """One subscription of ``api``; ``NotFound`` for another API's (its URI is not this)."""
        found = await self.store.get(subscription_id, scope)
        if found.api is not api:
            raise NotFound(
                f"subscription {subscription_id} not found in {api.href} (it is {found.href})",
                subscription_id=subscription_id,
            )
        return found

    async def delete(
        self,
        subscription_id: str,
        scope: Scope = SYSTEM,
        api: SubscriptionApi = SubscriptionApi.NSLCM,
    ) -> None:
        """Delete the subscription with its pending notifications, and stop its deliveries."""
        await self.get(subscription_id, scope, api)  # another project's or API's: not found
        async with self._known_lock:
            await self.store.delete(subscription_id)
            self._known.pop(subscription_id, None)
            self.writer.discard(subscription_id)
        await self.dispatcher.forget(subscription_id)
        log.info("subscription.deleted subscription=%s", subscription_id)

    async def counters(self, subscription_ids: Iterable[str]) -> dict[str, DeliveryCounters]:
        """Per subscription: what this process did since it started, and what waits.

        ``queued`` counts the subscription's notifications in the outbox, or
        accepted here and not yet written, but not one this replica is sending.
        """
        wanted = list(subscription_ids)
        waiting = await self.outbox.counts(wanted)
        buffered = self.writer.buffered(wanted)
        found: dict[str, DeliveryCounters] = {}
        for sid in wanted:
            queued = waiting.get(sid, 0) + buffered.get(sid, 0)
            if self.dispatcher.in_flight(sid):
                queued = max(0, queued - 1)
            found[sid] = replace(self.dispatcher.counters_of(sid), queued=queued)
        return found

    # -- sources ------------------------------------------------------------------------
    async def publish_alarm(self, alarm: Alarm) -> None:
        """The ``notify`` hook of fault management: an alarm raised, changed or cleared."""
        facts: dict[str, Any] = {}
        if alarm.nsr_id and self.describe_ns is not None:
            try:
                facts = dict(await self.describe_ns(alarm.nsr_id))
            except Exception:  # a deleted NS, or the database: the alarm is notified anyway
                log.warning("notify.ns_facts_failed ns=%s", alarm.nsr_id, exc_info=True)
        self._publish(alarm.project_id, alarm_notification(alarm, facts))

    def publish_catalogue_event(self, kind: str, project_id: str, body: dict[str, Any]) -> None:
        """The hook of the NSD and VNF package catalogues: onboarded, changed, deleted."""
        self.events.publish(kind, project_id=project_id, **body)

    async def publish_kpi_event(self, event: KpiEvent) -> None:
        """The ``notify`` hook of KPI evaluation: a KPI's change of state."""
        self._publish(event.project_id, threshold_crossed_notification(event))

    def _publish(self, project_id: str, notification: Notification | None) -> None:
        if notification is not None:
            kind, body = notification
            self.events.publish(kind.value, project_id=project_id, **body)

    # -- delivery -----------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        """Accept the event for every matching subscriber of its project; never blocks."""
        project = project_of(event)
        for subscription in list(self._known.values()):
            if subscription.project_id == project and subscription.matches(event):
                self.writer.accept(subscription.id, notification_for(event, subscription))

    def _written(self, subscription_ids: set[str]) -> None:
        self.dispatcher.wake(self._known, subscription_ids)

    def _dropped(self, entry: OutboxEntry) -> None:
        """A full outbox (or write buffer) dropped its oldest notification."""
        self.dispatcher.counters_of(entry.subscription_id).dropped += 1
        subscription = self._known.get(entry.subscription_id)
        log.warning(
            "notify.queue_full subscription=%s callback=%s dropped=%s type=%s ns=%s",
            entry.subscription_id,
            subscription.callback_uri if subscription is not None else "-",
            entry.body.get("id"),
            entry.body.get("notificationType"),
            entry.body.get("nsInstanceId", "-"),
        )


def notification_for(event: Event, subscription: Subscription) -> dict[str, Any]:
    """The body POSTed to one subscriber: the event with its own id and links."""
    body: dict[str, Any] = {
        "id": new_id(),
        "notificationType": event.get("notificationType"),
        "subscriptionId": subscription.id,
        "timeStamp": event.get("timeStamp"),
    }
    hidden = (PROJECT_KEY, MATCH_KEY)
    body.update(
        (key, value) for key, value in event.items() if key not in body and key not in hidden
    )
    body["_links"] = notification_links(event, subscription.href)
    return body
