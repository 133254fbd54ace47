"""Delivery of notifications to one subscriber: its outbox rows, in order, by one worker.

On the replica that delivers (see ``nubo.notify.dispatch``) each subscription
gets a ``Subscriber``: one task that reads the subscriber's oldest rows of the
outbox (``nubo.store.outbox``) and POSTs them to the callback URI one after
the other, so a subscriber receives them in the order they were accepted. A
POST that fails (transport error, time out, or an answer other than 2xx) is
retried with exponential backoff (``backoff``, then twice that, ...) up to
``attempts`` tries; then the notification is dropped with a warning, and the
next one goes. The tries made and the time of the next one are written to
the row after each failure, so a restart keeps the budget and the backoff.
A row is deleted once delivered or dropped.

Delivery is at least once: a process that dies (or a replica that stops
leading) between a POST the callback accepted and the delete of its row
sends that notification again from the new process or leader. Callbacks can
recognise a repeat by the notification's ``id``, which is written with the
row and never changes. The counters are this process's: they start again
from zero after a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import httpx

from nubo.model.errors import CallbackTestFailed
from nubo.model.records import utcnow
from nubo.model.subscriptions import Subscription
from nubo.store.port import Outbox, OutboxEntry

log = logging.getLogger("nubo.notify")

#: the most characters of a callback's answer quoted in an error
_QUOTE = 200
#: rows a worker reads at once
_BATCH = 50
#: seconds a worker waits after its database failed it
_RECOVER = 1.0


@dataclass(frozen=True)
class DeliveryPolicy:
    """How hard nubo tries to deliver one notification."""

    #: seconds one POST (or the endpoint test GET) may take, from connect to the answer
    timeout: float = 5.0
    #: tries per notification, the first one included
    attempts: int = 5
    #: seconds before the first retry; each further retry waits twice as long
    backoff: float = 0.5
    #: notifications a subscriber's outbox holds; the oldest goes when it is full
    queue_size: int = 1000

    def delay(self, failed_attempts: int) -> float:
        """The wait after the ``failed_attempts``-th failed try."""
        return float(self.backoff * 2 ** (failed_attempts - 1))


@dataclass
class DeliveryCounters:
    """What this process did with a subscription's notifications since it started.

    ``queued`` is the exception: the caller fills it in from the outbox.
    """

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

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        #: the callback's HTTP status, when it answered
        self.status = status


class Authenticator(Protocol):
    """The credentials of a subscription's callback, as request headers."""

    async def headers(self, subscription: Subscription) -> dict[str, str]: ...

    def refused(self, subscription: Subscription) -> None:
        """The callback answered 401: credentials cached for it are stale."""
        ...


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

    async def test(self, uri: str, headers: Mapping[str, str] | None = None) -> None:
        """GET the callback URI, which must answer 204 (SOL005); else ``CallbackTestFailed``."""
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._client().get(uri, headers=headers)
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

    async def post(
        self, uri: str, body: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        """POST one notification; ``DeliveryFailed`` unless the answer is 2xx in time."""
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._client().post(uri, json=body, headers=headers)
        except (TimeoutError, httpx.TimeoutException):
            raise DeliveryFailed(f"no answer within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(_reason(exc)) from None
        if not response.is_success:
            raise DeliveryFailed(
                f"answered {response.status_code} {response.reason_phrase}{_quote(response)}",
                response.status_code,
            )

    async def token(self, endpoint: str, client_id: str, secret: str) -> tuple[str, float]:
        """An access token by the client credentials grant (RFC 6749 §4.4, the client's
        id and password as HTTP Basic) and its lifetime in seconds; ``DeliveryFailed``."""
        try:
            async with asyncio.timeout(self.timeout):
                response = await self._client().post(
                    endpoint,
                    data={"grant_type": "client_credentials"},
                    auth=(client_id, secret),
                )
        except (TimeoutError, httpx.TimeoutException):
            raise DeliveryFailed(f"the token endpoint {endpoint} did not answer in time") from None
        except httpx.HTTPError as exc:
            raise DeliveryFailed(f"the token endpoint {endpoint}: {_reason(exc)}") from None
        try:
            answer = response.json() if response.is_success else {}
        except ValueError:
            answer = {}
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if not isinstance(token, str) or not token:
            raise DeliveryFailed(
                f"the token endpoint {endpoint} gave no access token (answered "
                f"{response.status_code} {response.reason_phrase})"
            )
        lifetime = answer.get("expires_in")
        return token, float(lifetime) if isinstance(lifetime, int | float) else 300.0


def _reason(exc: Exception) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _quote(response: httpx.Response) -> str:
    text = response.text.strip()
    if not text:
        return ""
    return f": {text[:_QUOTE]}" + ("..." if len(text) > _QUOTE else "")


#: POST a notification: the callback URI, the body, the headers (SOL013's ``Version``)
Post = Callable[[str, dict[str, Any], Mapping[str, str]], Awaitable[None]]


def describe(entry: OutboxEntry) -> str:
    """The log fields that name a notification."""
    body = entry.body
    return (
        f"notification={body.get('id')} type={body.get('notificationType')} "
        f"ns={body.get('nsInstanceId', '-')}"
    )


class Subscriber:
    """One subscription's worker: POSTs its outbox rows oldest first, one at a time."""

    def __init__(
        self,
        subscription: Subscription,
        post: Post,
        policy: DeliveryPolicy,
        outbox: Outbox,
        counters: DeliveryCounters | None = None,
        version: str | None = None,
        authenticator: Authenticator | None = None,
    ) -> None:
        self.subscription = subscription
        self.authenticator = authenticator
        #: SOL013 §4.6: a notification names the version of its API, as a response does
        self.headers = {"Version": version} if version else {}
        self.policy = policy
        self.counters = counters if counters is not None else DeliveryCounters()
        self._post = post
        self._outbox = outbox
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        #: the ``seq`` of the row being POSTed, if any
        self.in_flight: int | None = None

    @property
    def task(self) -> asyncio.Task[None] | None:
        return self._task

    def start(self) -> None:
        """Start the worker; a no-op when it runs."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"notify-{self.subscription.id}")

    def wake(self) -> None:
        """New rows may be waiting: read the outbox again."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            self._wake.clear()  # before the read: a wake during it is not missed
            try:
                rows = await self._outbox.head(self.subscription.id, _BATCH)
                for row in rows:
                    if not await self._deliver(row):
                        break
            except Exception:  # the database, or a bug: the rows stay, try again
                log.exception("notify.delivery_crashed subscription=%s", self.subscription.id)
                await asyncio.sleep(_RECOVER)
                continue
            if not rows:
                await self._wake.wait()

    async def _deliver(self, row: OutboxEntry) -> bool:
        """Try ``row`` once it is due; True to go on with the next row, False to read again."""
        wait = (row.next_attempt_at - utcnow()).total_seconds()
        if wait > 0:
            # read again afterwards: the row may have been dropped while waiting
            await asyncio.sleep(wait)
            return False
        attempt = row.attempts + 1
        uri = self.subscription.callback_uri
        self.in_flight = row.seq
        try:
            headers = self.headers
            if self.authenticator is not None and self.subscription.credentials:
                headers = headers | await self.authenticator.headers(self.subscription)
            await self._post(uri, row.body, headers)
        except DeliveryFailed as exc:
            if exc.status == 401 and self.authenticator is not None:
                self.authenticator.refused(self.subscription)
            return await self._failed(row, attempt, str(exc))
        finally:
            self.in_flight = None
        self.counters.delivered += 1
        self.counters.last_delivered_at = utcnow().isoformat().replace("+00:00", "Z")
        await self._outbox.remove(row.seq)
        return True

    async def _failed(self, row: OutboxEntry, attempt: int, reason: str) -> bool:
        self.counters.failed_attempts += 1
        self.counters.last_error = reason
        log.info(
            "notify.attempt_failed subscription=%s %s attempt=%d/%d reason=%r",
            self.subscription.id,
            describe(row),
            attempt,
            self.policy.attempts,
            reason,
        )
        if attempt < self.policy.attempts:
            due = utcnow() + timedelta(seconds=self.policy.delay(attempt))
            await self._outbox.failed(row.seq, attempt, due)
            return False
        await self._outbox.remove(row.seq)
        self.counters.dropped += 1
        log.warning(
            "notify.dropped subscription=%s callback=%s %s attempts=%d reason=%r",
            self.subscription.id,
            self.subscription.callback_uri,
            describe(row),
            attempt,
            reason,
        )
        return True
