"""Delivery of notifications to one subscriber: an ordered queue and one worker.

Each subscription gets a ``Subscriber``: a bounded FIFO queue filled by the
event listener (which must never block) and one task that POSTs the queued
notifications to the callback URI one after the other, so a subscriber
receives them in publication order. A POST that fails (transport error, time
out, or an answer other than 2xx) is retried with exponential backoff
(``backoff``, then twice that, ...) up to ``attempts`` tries; then the
notification is dropped with a warning, and the next one goes. A full queue
drops its oldest notification, also with a warning, so a dead callback costs
bounded memory and never slows the orchestrator.

Delivery is at most once per notification and lives in memory only: what is
queued or being retried when the orchestrator stops is lost, and the
counters start again from zero after a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from nubo.model.errors import CallbackTestFailed
from nubo.model.records import utcnow
from nubo.model.subscriptions import Subscription

log = logging.getLogger("nubo.notify")

#: the most characters of a callback's answer quoted in an error
_QUOTE = 200


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard nubo tries to deliver one notification."""

    #: seconds one POST (or the endpoint test GET) may take, from connect to the answer
    timeout: float = 5.0
    #: tries per notification, the first one included
    attempts: int = 5
    #: seconds before the first retry; each further retry waits twice as long
    backoff: float = 0.5
    #: notifications a subscriber's queue holds; the oldest goes when it is full
    queue_size: int = 1000

    def delay(self, failed_attempts: int) -> float:
        """The wait after the ``failed_attempts``-th failed try."""
        return float(self.backoff * 2 ** (failed_attempts - 1))


@dataclass
class DeliveryCounters:
    """What happened to a subscription's notifications since this orchestrator started."""

    delivered: int = 0
    failed_attempts: int = 0
    dropped: int = 0
    queued: int = 0
    last_error: str | None = None
    last_delivered_at: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "delivered": self.delivered,
            "failedAttempts": self.failed_attempts,
            "dropped": self.dropped,
            "queued": self.queued,
            "lastError": self.last_error,
            "lastDeliveredAt": self.last_delivered_at,
        }


class DeliveryFailed(Exception):
    """One POST of a notification did not succeed; the message says why."""


class CallbackClient:
    """The HTTP side: the SOL005 endpoint test and notification POSTs."""

    def __init__(self, timeout: float, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.timeout = timeout
        self._transport = transport
        self._http: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            # trust_env off: a proxy of the environment must not see, or break, callbacks
            self._http = httpx.AsyncClient(
                timeout=self.timeout,
                transport=self._transport,
                trust_env=False,
                follow_redirects=False,
            )
        return self._http

    async def close(self) -> None:
        client, self._http = self._http, None
        if client is not None:
            await client.aclose()

    async def test(self, uri: str) -> None:
        """GET the callback URI, which must answer 204 (SOL005); else ``CallbackTestFailed``."""
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._client().get(uri)
        except (TimeoutError, httpx.TimeoutException):
            raise CallbackTestFailed(
                f"the callback {uri} did not answer the test GET within {self.timeout:g} s",
                callbackUri=uri,
            ) from None
        except httpx.HTTPError as exc:
            raise CallbackTestFailed(
                f"the callback {uri} could not be reached: {_reason(exc)}", callbackUri=uri
            ) from None
        if response.status_code != 204:
            raise CallbackTestFailed(
                f"the callback {uri} answered the test GET with {response.status_code} "
                f"{response.reason_phrase}{_quote(response)}; SOL005 expects 204 No Content",
                callbackUri=uri,
                callbackStatus=response.status_code,
            )

    async def post(self, uri: str, body: dict[str, Any]) -> None:
        """POST one notification; ``DeliveryFailed`` unless the answer is 2xx in time."""
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._client().post(uri, json=body)
        except (TimeoutError, httpx.TimeoutException):
            raise DeliveryFailed(f"no answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(_reason(exc)) from None
        if not response.is_success:
            raise DeliveryFailed(
                f"answered {response.status_code} {response.reason_phrase}{_quote(response)}"
            )


def _reason(exc: Exception) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _quote(response: httpx.Response) -> str:
    text = response.text.strip()
    if not text:
        return ""
    return f": {text[:_QUOTE]}" + ("..." if len(text) > _QUOTE else "")


Post = Callable[[str, dict[str, Any]], Awaitable[None]]


class Subscriber:
    """One subscription's queue and the worker that empties it in order."""

    def __init__(self, subscription: Subscription, post: Post, policy: DeliveryPolicy) -> None:
        self.subscription = subscription
        self.policy = policy
        self._counters = DeliveryCounters()
        self._post = post
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(max(1, policy.queue_size))
        self._task: asyncio.Task[None] | None = None

    @property
    def counters(self) -> DeliveryCounters:
        """The counters, with the current length of the queue."""
        self._counters.queued = self._queue.qsize()
        return self._counters

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._task

    def start(self) -> None:
        """Start the worker; a no-op when it runs."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"notify-{self.subscription.id}")

    def offer(self, notification: dict[str, Any]) -> None:
        """Queue a notification; never blocks: a full queue drops its oldest one."""
        if self._queue.full():
            oldest = self._queue.get_nowait()
            self._counters.dropped += 1
            log.warning(
                "notify.queue_full subscription=%s callback=%s dropped=%s type=%s ns=%s",
                self.subscription.id,
                self.subscription.callback_uri,
                oldest.get("id"),
                oldest.get("notificationType"),
                oldest.get("nsInstanceId", "-"),
            )
        self._queue.put_nowait(notification)

    async def _run(self) -> None:
        while True:
            notification = await self._queue.get()
            try:
                await self._deliver(notification)
            except Exception:  # a bug here must not end this subscriber's deliveries
                self._counters.dropped += 1
                log.exception(
                    "notify.delivery_crashed subscription=%s notification=%s",
                    self.subscription.id,
                    notification.get("id"),
                )

    async def _deliver(self, notification: dict[str, Any]) -> None:
        uri = self.subscription.callback_uri
        for attempt in range(1, self.policy.attempts + 1):
            try:
                await self._post(uri, notification)
            except DeliveryFailed as exc:
                self._counters.failed_attempts += 1
                self._counters.last_error = str(exc)
                log.info(
                    "notify.attempt_failed subscription=%s notification=%s attempt=%d/%d reason=%r",
                    self.subscription.id,
                    notification.get("id"),
                    attempt,
                    self.policy.attempts,
                    str(exc),
                )
                if attempt < self.policy.attempts:
                    await asyncio.sleep(self.policy.delay(attempt))
                continue
            self._counters.delivered += 1
            self._counters.last_delivered_at = utcnow().isoformat().replace("+00:00", "Z")
            return
        self._counters.dropped += 1
        log.warning(
            "notify.dropped subscription=%s callback=%s notification=%s type=%s ns=%s "
            "attempts=%d reason=%r",
            self.subscription.id,
            uri,
            notification.get("id"),
            notification.get("notificationType"),
            notification.get("nsInstanceId", "-"),
            self.policy.attempts,
            self._counters.last_error,
        )
