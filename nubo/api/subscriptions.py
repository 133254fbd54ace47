"""SOL005 subscription routes: webhooks for notifications, one set per API.

``/nslcm/v1/subscriptions`` (``LccnSubscription``), ``/nsd/v1/subscriptions``
(``NsdmSubscription``), ``/vnfpkgm/v1/subscriptions`` (``PkgmSubscription``)
and ``/nsfm/v1/subscriptions`` (``FmSubscription``) are the same routes made
by ``subscription_router`` over one service; each API has its own request
body and filter (``nubo.model.subscription_filters``), and a subscription is
seen only on the API it was created on.

``POST`` tests the callback (GET, 204 expected) and answers 201 with
``Location``, or 303 See Other pointing at the subscription that already has
the same callback URI and filter. The filter is SOL005's
``LifecycleChangeNotificationsFilter``; nubo also accepts its fault and KPI
notification types in it (see ``nubo.model.subscriptions``). A subscription
renders as an ``LccnSubscription`` plus nubo's ``createdAt`` and
``nuboDelivery`` (what the answering replica did with its notifications since
it started: delivered, failed attempts, dropped, the last error; and how many
wait in the outbox: queued).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from nubo.api.listing import Listing, ListQueryParams
from nubo.api.problems import PROBLEM_JSON
from nubo.api.tenancy import RequestScope
from nubo.model.errors import NuboError
from nubo.model.subscription_filters import (
    FmSubscriptionFilter,
    FmSubscriptionRequest,
    NsdmSubscriptionFilter,
    NsdmSubscriptionRequest,
    PkgmSubscriptionFilter,
    PkgmSubscriptionRequest,
    SubscriptionApi,
)
from nubo.model.subscriptions import (
    LccnSubscriptionRequest,
    LifecycleChangeNotificationsFilter,
    Subscription,
)
from nubo.notify.subscriptions import Subscriptions

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"description": "problem details", "content": {PROBLEM_JSON: {}}}
    for code in (400, 404, 422, 503)
}


class SubscriptionsDisabled(NuboError):
    code = "SUBSCRIPTIONS_DISABLED"
    status = 503
    title = "Notifications are not running"


class DeliveryView(BaseModel):
    """nubo's extension: this replica's delivery counters since it started, and the queue."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    delivered: int
    failed_attempts: int
    dropped: int
    queued: int
    last_error: str | None = None
    last_delivered_at: str | None = None


class _SubscriptionView(BaseModel):
    """What every API's subscription renders, with nubo's ``createdAt`` and ``nuboDelivery``."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    id: str
    callback_uri: str
    created_at: str
    links: dict[str, dict[str, str]] = Field(alias="_links")
    nubo_delivery: DeliveryView


class LccnSubscription(_SubscriptionView):
    """A subscription to NS lifecycle (and nubo's fault and KPI) notifications."""

    filter: LifecycleChangeNotificationsFilter


class NsdmSubscription(_SubscriptionView):
    """A subscription to NSD management notifications."""

    filter: NsdmSubscriptionFilter


class PkgmSubscription(_SubscriptionView):
    """A subscription to VNF package management notifications."""

    filter: PkgmSubscriptionFilter


class FmSubscription(_SubscriptionView):
    """A subscription to NS fault management notifications."""

    filter: FmSubscriptionFilter


def _service(request: Request) -> Subscriptions:
    service: Any = getattr(request.app.state.services, "subscriptions", None)
    if not isinstance(service, Subscriptions):
        raise SubscriptionsDisabled("this orchestrator runs without notifications")
    return service


async def _views(service: Subscriptions, subscriptions: list[Subscription]) -> list[dict[str, Any]]:
    counters = await service.counters(s.id for s in subscriptions)
    views = []
    for subscription in subscriptions:
        document = subscription.sol005()
        document["nuboDelivery"] = counters[subscription.id].as_dict()
        views.append(document)
    return views


async def _view(service: Subscriptions, subscription: Subscription) -> dict[str, Any]:
    (document,) = await _views(service, [subscription])
    return document


def subscription_router(
    api: SubscriptionApi, request_model: type[BaseModel], view_model: type[_SubscriptionView]
) -> APIRouter:
    """POST, GET (list and one) and DELETE of ``/{api}/v1/subscriptions``."""
    router = APIRouter(prefix=f"/{api.value}/v1", tags=["SOL005 subscriptions"])
    view: dict[str, Any] = {
        "response_model": view_model,
        "response_model_by_alias": True,
        "response_model_exclude_none": True,
    }
    listing = Listing(view_model)

    async def create_subscription(
        request: Request, scope: RequestScope, response: Response, body: Any
    ) -> Any:
        """Subscribe a callback URI to the notifications its filter lets through."""
        service = _service(request)
        subscription, created = await service.create(body, scope, api)
        if not created:
            return Response(status_code=303, headers={"Location": subscription.href})
        response.headers["Location"] = subscription.href
        return await _view(service, subscription)

    # the body's model is this API's; FastAPI reads it from the annotation
    create_subscription.__annotations__["body"] = request_model

    async def list_subscriptions(
        request: Request,
        scope: RequestScope,
        query: ListQueryParams,
        callback_uri: Annotated[
            str | None, Query(alias="callbackUri", description="as filter=(eq,callbackUri,...)")
        ] = None,
    ) -> JSONResponse:
        """Every subscription, oldest first; only those of one callback with ``callbackUri``."""
        service = _service(request)
        views = await _views(service, await service.list(callback_uri, scope, api))
        return listing.answer(request, query, views)

    async def get_subscription(request: Request, scope: RequestScope, subscription_id: str) -> Any:
        service = _service(request)
        return await _view(service, await service.get(subscription_id, scope, api))

    async def delete_subscription(
        request: Request, scope: RequestScope, subscription_id: str
    ) -> Response:
        """Unsubscribe: no notification is sent to it afterwards."""
        await _service(request).delete(subscription_id, scope, api)
        return Response(status_code=204)

    name = api.value
    router.add_api_route(
        "/subscriptions",
        create_subscription,
        methods=["POST"],
        status_code=201,
        responses={303: {"description": "the same subscription exists: see Location"}, **_PROBLEMS},
        name=f"create_{name}_subscription",
        **view,
    )
    router.add_api_route(
        "/subscriptions",
        list_subscriptions,
        methods=["GET"],
        response_model=list[view_model],  # type: ignore[valid-type]
        responses=_PROBLEMS,
        name=f"list_{name}_subscriptions",
    )
    router.add_api_route(
        "/subscriptions/{subscription_id}",
        get_subscription,
        methods=["GET"],
        responses=_PROBLEMS,
        name=f"get_{name}_subscription",
        **view,
    )
    router.add_api_route(
        "/subscriptions/{subscription_id}",
        delete_subscription,
        methods=["DELETE"],
        status_code=204,
        response_class=Response,
        responses=_PROBLEMS,
        name=f"delete_{name}_subscription",
    )
    return router


#: the subscription routes of every SOL005 API nubo serves
ROUTERS = (
    subscription_router(SubscriptionApi.NSLCM, LccnSubscriptionRequest, LccnSubscription),
    subscription_router(SubscriptionApi.NSD, NsdmSubscriptionRequest, NsdmSubscription),
    subscription_router(SubscriptionApi.VNFPKGM, PkgmSubscriptionRequest, PkgmSubscription),
    subscription_router(SubscriptionApi.NSFM, FmSubscriptionRequest, FmSubscription),
)
