"""Subscriptions to notifications, shaped after ETSI GS NFV-SOL 005 (``LccnSubscription``).

A subscription names a callback URI and a filter; every notification the
filter lets through is POSTed to the callback. The filter follows SOL005's
``LifecycleChangeNotificationsFilter``: each attribute that is present must
match (an event matches an attribute when it carries one of the listed
values), absent attributes match everything. As in SOL005, ``operationTypes``
and ``operationStates`` only constrain ``NsLcmOperationOccurrenceNotification``
events; nubo adds fault (``AlarmNotification``, ``AlarmClearedNotification``)
and KPI (``ThresholdCrossedNotification``) notifications to the same
subscriptions, which SOL005 spreads over its FM and PM interfaces.

The NSD, VNF package and fault management APIs have subscriptions of their
own, with their own filters (``nubo.model.subscription_filters``); a
``Subscription`` names its API, one mechanism for all four.

This module is pure: parsing, validation and matching. The filter is stored
normalised (sorted, without repeats), so two requests that differ only in
the order of their lists are the same subscription.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from nubo.model.callback_auth import CallbackAuth, callback_auth
from nubo.model.errors import BadRequest, NotSupported
from nubo.model.ids import new_id
from nubo.model.records import utcnow
from nubo.model.states import SOL005_OPERATION, OpState
from nubo.model.subscription_filters import SubscriptionApi, filter_matches, normalised_filter

SUBSCRIPTIONS_HREF = "/nslcm/v1/subscriptions"
#: the longest callback URI the store keeps
MAX_URI_LENGTH = 2048


class NotificationType(StrEnum):
    """Every notification nubo sends to subscribers."""

    NS_LCM_OPERATION_OCCURRENCE = "NsLcmOperationOccurrenceNotification"
    NS_IDENTIFIER_CREATION = "NsIdentifierCreationNotification"
    NS_IDENTIFIER_DELETION = "NsIdentifierDeletionNotification"
    ALARM = "AlarmNotification"
    ALARM_CLEARED = "AlarmClearedNotification"
    THRESHOLD_CROSSED = "ThresholdCrossedNotification"


_NSLCM_TYPES = frozenset(t.value for t in NotificationType)

#: SOL005's ``NsLcmOpType`` values nubo's operations map to
OPERATION_TYPES: tuple[str, ...] = tuple(sorted(set(SOL005_OPERATION.values())))


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class NsInstanceSubscriptionFilter(_Camel):
    """Which NS instances; nubo filters by id only."""

    ns_instance_ids: list[str] | None = None


class LifecycleChangeNotificationsFilter(_Camel):
    """A filter as a client writes it (and as nubo renders it)."""

    ns_instance_subscription_filter: NsInstanceSubscriptionFilter | None = None
    notification_types: list[str] | None = None
    operation_types: list[str] | None = Field(
        None, description="SOL005 NsLcmOpType: " + ", ".join(OPERATION_TYPES)
    )
    operation_states: list[str] | None = None


class LccnSubscriptionRequest(_Camel):
    """The body of ``POST /nslcm/v1/subscriptions``."""

    callback_uri: str
    filter: LifecycleChangeNotificationsFilter | None = None
    authentication: dict[str, Any] | None = Field(
        None,
        description="SOL013 SubscriptionAuthentication: BASIC or OAUTH2_CLIENT_CREDENTIALS "
        "(stored encrypted, never shown)",
    )


class SubscriptionFilter(BaseModel):
    """A validated, normalised filter; empty tuples match everything."""

    model_config = ConfigDict(frozen=True)

    ns_instance_ids: tuple[str, ...] = ()
    notification_types: tuple[NotificationType, ...] = ()
    operation_types: tuple[str, ...] = ()
    operation_states: tuple[OpState, ...] = ()

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Whether a notification (an ``EventBus`` event) passes this filter."""
        kind = event.get("notificationType")
        if self.notification_types and kind not in self.notification_types:
            return False
        if self.ns_instance_ids and event.get("nsInstanceId") not in self.ns_instance_ids:
            return False
        if kind != NotificationType.NS_LCM_OPERATION_OCCURRENCE:
            return True
        if self.operation_types and event.get("operation") not in self.operation_types:
            return False
        return not self.operation_states or event.get("operationState") in self.operation_states

    def sol005(self) -> dict[str, Any]:
        """The SOL005 rendering: only the attributes that are set."""
        body: dict[str, Any] = {}
        if self.ns_instance_ids:
            body["nsInstanceSubscriptionFilter"] = {"nsInstanceIds": list(self.ns_instance_ids)}
        if self.notification_types:
            body["notificationTypes"] = [t.value for t in self.notification_types]
        if self.operation_types:
            body["operationTypes"] = list(self.operation_types)
        if self.operation_states:
            body["operationStates"] = [s.value for s in self.operation_states]
        return body


class Subscription(BaseModel):
    """A stored subscription."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=new_id)
    #: notifications of this project's records only reach it
    project_id: str
    callback_uri: str
    filter: SubscriptionFilter = Field(default_factory=SubscriptionFilter)
    created_at: datetime = Field(default_factory=utcnow)
    #: the API it was created on, which decides its filter and its notifications
    api: SubscriptionApi = SubscriptionApi.NSLCM
    #: the normalised SOL005 filter of the other APIs (``nubo.model.subscription_filters``)
    criteria: dict[str, Any] = Field(default_factory=dict)
    #: how nubo authenticates to the callback, sealed (``nubo.notify.sealing``); never shown
    credentials: str = Field(default="", repr=False)

    @property
    def href(self) -> str:
        return f"{self.api.href}/{self.id}"

    def same_as(self, other: Subscription) -> bool:
        """SOL005's duplicate: the same API, callback URI and filter."""
        return (
            self.api == other.api
            and self.callback_uri == other.callback_uri
            and self.filter == other.filter
            and self.criteria == other.criteria
        )

    def matches(self, event: Mapping[str, Any]) -> bool:
        """Whether a notification (an ``EventBus`` event) is for this subscription."""
        if self.api is SubscriptionApi.NSLCM:
            # the other APIs' notifications (NSD, VNF package) are not the NS LCM API's
            kind = event.get("notificationType")
            return kind in _NSLCM_TYPES and self.filter.matches(event)
        return filter_matches(self.api, self.criteria, event)

    def sol005(self) -> dict[str, Any]:
        """The SOL005 rendering (``LccnSubscription``, ``NsdmSubscription`` ...);
        ``createdAt`` is nubo's."""
        flt = self.filter.sol005() if self.api is SubscriptionApi.NSLCM else self.criteria
        return {
            "id": self.id,
            "filter": flt,
            "callbackUri": self.callback_uri,
            "createdAt": self.created_at.isoformat().replace("+00:00", "Z"),
            "_links": {"self": {"href": self.href}},
        }


class SubscriptionRequest(Protocol):
    """What every API's subscription request has."""

    @property
    def callback_uri(self) -> str: ...
    @property
    def authentication(self) -> dict[str, Any] | None: ...
    @property
    def filter(self) -> BaseModel | None: ...


def new_subscription(
    request: SubscriptionRequest,
    project_id: str,
    api: SubscriptionApi = SubscriptionApi.NSLCM,
    seal: Callable[[CallbackAuth], str] | None = None,
) -> Subscription:
    """A subscription of ``project_id`` on ``api`` from a client's request; ``BadRequest``
    names the value in error. Its ``authentication`` is validated and sealed by ``seal``
    (``NotSupported`` without one)."""
    credentials = ""
    if request.authentication is not None:
        auth = callback_auth(request.authentication)
        if seal is None:
            raise NotSupported(
                "authentication of notifications is not configured on this server: send "
                "the request without 'authentication'",
                field="authentication",
            )
        credentials = seal(auth)
    check_callback_uri(request.callback_uri)
    if api is not SubscriptionApi.NSLCM:
        return Subscription(
            project_id=project_id,
            callback_uri=request.callback_uri,
            api=api,
            criteria=normalised_filter(api, request.filter),
            credentials=credentials,
        )
    lccn = request.filter
    if lccn is not None and not isinstance(lccn, LifecycleChangeNotificationsFilter):
        raise TypeError(
            f"an NS LCM subscription takes a LifecycleChangeNotificationsFilter, not {lccn!r}"
        )
    return Subscription(
        project_id=project_id,
        callback_uri=request.callback_uri,
        filter=subscription_filter(lccn),
        credentials=credentials,
    )


def check_callback_uri(uri: str) -> None:
    """An absolute http or https URL with a host, or ``BadRequest`` saying why not."""
    problem = _callback_uri_problem(uri)
    if problem:
        raise BadRequest(f"callbackUri {uri!r} is refused: {problem}", field="callbackUri")


class CallbackHosts:
    """Which hosts callbacks may name: host names, IP addresses and networks (CIDR).

    Empty allows any host. Names match as written (case-insensitive), never
    by resolving them, so an operator who wants to keep notifications inside
    a network lists that network and its callers use addresses.
    """

    def __init__(self, spec: str = "") -> None:
        self.spec = spec.strip()
        self.names: set[str] = set()
        self.networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        for item in (part.strip() for part in self.spec.split(",")):
            if not item:
                continue
            try:
                self.networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                self.names.add(item.lower().rstrip("."))

    def allows(self, host: str) -> bool:
        if not self.names and not self.networks:
            return True
        try:
            address = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return host.lower().rstrip(".") in self.names
        return any(address in network for network in self.networks)

    def check(self, uri: str) -> None:
        """``BadRequest`` when the URI's host is not allowed."""
        host = urlsplit(uri).hostname or ""
        if not self.allows(host):
            raise BadRequest(
                f"callbackUri {uri!r} is refused: host {host!r} is not among the hosts "
                f"this orchestrator notifies ({self.spec}; NUBO_NOTIFICATION_ALLOWED_HOSTS)",
                field="callbackUri",
            )


def _callback_uri_problem(uri: str) -> str:
    if len(uri) > MAX_URI_LENGTH:
        return f"it is longer than {MAX_URI_LENGTH} characters"
    try:
        parts = urlsplit(uri)
        port = parts.port  # raises on a malformed port
    except ValueError as exc:
        return f"it is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return "it must be an absolute http:// or https:// URL"
    if not parts.hostname:
        return "it names no host"
    if port == 0:
        return "port 0 cannot be reached"
    return ""


E = TypeVar("E", bound=StrEnum)


def subscription_filter(request: LifecycleChangeNotificationsFilter | None) -> SubscriptionFilter:
    """Validate and normalise a client's filter."""
    if request is None:
        return SubscriptionFilter()
    ns_ids = (
        request.ns_instance_subscription_filter or NsInstanceSubscriptionFilter()
    ).ns_instance_ids
    for ns_id in ns_ids or ():
        if not ns_id.strip():
            raise BadRequest(
                "filter.nsInstanceSubscriptionFilter.nsInstanceIds holds an empty id",
                field="filter.nsInstanceSubscriptionFilter.nsInstanceIds",
            )
    types = _enum_values(NotificationType, request.notification_types, "notificationTypes")
    operations = _known(request.operation_types, OPERATION_TYPES, "operationTypes")
    states = _enum_values(OpState, request.operation_states, "operationStates")
    if (
        (operations or states)
        and types
        and NotificationType.NS_LCM_OPERATION_OCCURRENCE not in types
    ):
        raise BadRequest(
            "filter.operationTypes and filter.operationStates apply to "
            "NsLcmOperationOccurrenceNotification only, which filter.notificationTypes excludes",
            field="filter.notificationTypes",
        )
    return SubscriptionFilter(
        ns_instance_ids=tuple(sorted(set(ns_ids or ()))),
        notification_types=types,
        operation_types=operations,
        operation_states=states,
    )


def _known(values: Iterable[str] | None, allowed: tuple[str, ...], name: str) -> tuple[str, ...]:
    for value in values or ():
        if value not in allowed:
            raise BadRequest(
                f"unknown value {value!r} in filter.{name}; allowed: {', '.join(allowed)}",
                field=f"filter.{name}",
            )
    return tuple(sorted(set(values or ())))


def _enum_values(enum: type[E], values: Iterable[str] | None, name: str) -> tuple[E, ...]:
    allowed = tuple(member.value for member in enum)
    return tuple(enum(value) for value in _known(values, allowed, name))
