"""``Dispatcher``: which replica delivers, and its workers.

Every replica writes the notifications it accepts to the outbox; only the
replica that leads the ``notification-delivery`` leadership (``Leadership``)
POSTs them, with one ``Subscriber`` worker per subscription. So in normal
operation each notification is POSTed by exactly one replica, and a
subscriber's notifications go out one at a time, in outbox order, whichever
replica accepted them.

The leader learns of rows another replica wrote by a scan of the outbox
(which subscribers have rows: one bounded query) every ``poll`` seconds; of
its own rows at once (``wake``). A replica that cannot renew its claim stops
its workers before the claim can expire, so two leaders never deliver at the
same time unless the database lets one claim expire while the other is still
sending (then a notification may go twice: delivery is at least once).
Without a leadership (one process alone on its database) the dispatcher
always delivers.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

from nubo.model.subscriptions import Subscription
from nubo.nfvo.tasks import cancel_and_wait
from nubo.notify.delivery import (
    Authenticator,
    DeliveryCounters,
    DeliveryPolicy,
    Post,
    Subscriber,
)
from nubo.store.port import Leadership, Outbox

log = logging.getLogger("nubo.notify")

#: the leadership whose holder POSTs the notifications of every replica
DELIVERY = "notification-delivery"
#: subscribers with rows looked at per scan
_SCAN_LIMIT = 1000


class Dispatcher:
    """Runs the delivery workers while this replica leads delivery."""

    def __init__(
        self,
        outbox: Outbox,
        post: Post,
        policy: DeliveryPolicy,
        leadership: Leadership | None = None,
        *,
        versions: Mapping[str, str] | None = None,
        authenticator: Authenticator | None = None,
    ) -> None:
        self.outbox = outbox
        self.authenticator = authenticator
        #: the SOL005 version of each API by name, sent with its notifications
        self.versions = dict(versions or {})
        self.policy = policy
        self.leadership = leadership
        self.leading = False
        self._post = post
        self._workers: dict[str, Subscriber] = {}
        self._counters: dict[str, DeliveryCounters] = {}
        self._claimed_at = float("-inf")

    def counters_of(self, subscription_id: str) -> DeliveryCounters:
        """This process's counters of a subscription (created on first use)."""
        return self._counters.setdefault(subscription_id, DeliveryCounters())

    def in_flight(self, subscription_id: str) -> bool:
        worker = self._workers.get(subscription_id)
        return worker is not None and worker.in_flight is not None

    async def run_once(self, subscriptions: Mapping[str, Subscription]) -> None:
        """Claim (or renew) the lead when due; while leading, wake workers that have rows."""
        await self._follow_leadership()
        if not self.leading:
            return
        for gone in set(self._workers) - set(subscriptions):
            await self.forget(gone)
        for subscription in subscriptions.values():
            self._worker(subscription)
        with_rows = await self.outbox.subscribers(_SCAN_LIMIT)
        orphans = [sid for sid in with_rows if sid not in subscriptions]
        if orphans:
            removed = await self.outbox.remove_orphans(orphans)
            if removed:
                log.info("notify.orphans_removed notifications=%d", removed)
        for sid in with_rows:
            worker = self._workers.get(sid)
            if worker is not None:
                worker.wake()

    def wake(self, subscriptions: Mapping[str, Subscription], written: set[str]) -> None:
        """Rows were written here for ``written``: their workers go at once, if leading."""
        if not self.leading:
            return
        for sid in written:
            subscription = subscriptions.get(sid)
            if subscription is not None:
                self._worker(subscription).wake()

    async def forget(self, subscription_id: str) -> None:
        """Stop a deleted subscription's worker."""
        worker = self._workers.pop(subscription_id, None)
        if worker is not None and worker.task is not None:
            await cancel_and_wait([worker.task])

    async def stop(self) -> None:
        """Stop every worker; resign the lead so another replica delivers at once."""
        await self._stand_by()
        if self.leading and self.leadership is not None:
            try:
                await self.leadership.resign(DELIVERY)
            except Exception:
                log.exception("notify.resign_failed replica=%s", self.leadership.owner)
        self.leading = False
        self._claimed_at = float("-inf")

    def _worker(self, subscription: Subscription) -> Subscriber:
        worker = self._workers.get(subscription.id)
        if worker is None:
            worker = Subscriber(
                subscription,
                self._post,
                self.policy,
                self.outbox,
                self.counters_of(subscription.id),
                self.versions.get(subscription.api.value),
                self.authenticator,
            )
            self._workers[subscription.id] = worker
        worker.start()
        return worker

    async def _follow_leadership(self) -> None:
        if self.leadership is None:
            self.leading = True
            return
        # renew three times per claim period, as the background loops do
        if time.monotonic() - self._claimed_at < self.leadership.ttl / 3:
            return
        try:
            leading = await self.leadership.claim(DELIVERY)
        except Exception:
            log.exception("notify.claim_failed replica=%s", self.leadership.owner)
            leading = False
        if leading:
            self._claimed_at = time.monotonic()
        if leading and not self.leading:
            log.info("replica.leads replica=%s work=%s", self.leadership.owner, DELIVERY)
        elif not leading and self.leading:
            log.warning("replica.stands_by replica=%s work=%s", self.leadership.owner, DELIVERY)
            await self._stand_by()
        self.leading = leading

    async def _stand_by(self) -> None:
        workers, self._workers = list(self._workers.values()), {}
        await cancel_and_wait([w.task for w in workers if w.task is not None])
