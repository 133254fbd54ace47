"""Alarm routes shaped after ETSI GS NFV-SOL 005 NFV-FM (``/nsfm/v1/alarms``).

List (filter by ``active`` and ``nsInstanceId``), read, and acknowledge with
``PATCH {"ackState": "ACKNOWLEDGED"}``. Alarms render with SOL005 field names;
nubo's NS/VNF/VNFC ids ride along as ``nsInstanceId``, ``vnfInstanceId`` and
``vnfcInstanceId`` (``nubo.model.alarms.AlarmView``, which notifications share).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from nubo.api.conditions import check_if_match, etag_of
from nubo.api.listing import Listing, ListQueryParams
from nubo.api.tenancy import RequestScope
from nubo.fault.alarms import AlarmService
from nubo.model.alarms import AckState, AlarmView
from nubo.model.errors import Conflict, NuboError

PREFIX = "/nsfm/v1"

router = APIRouter(prefix=PREFIX, tags=["fault management"])


class FaultManagementDisabled(NuboError):
    code = "FAULT_MANAGEMENT_DISABLED"
    status = 503
    title = "Fault management is not running"


class AlarmModifications(BaseModel):
    """The one change SOL005 allows on an alarm: acknowledging it."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    ack_state: Literal["ACKNOWLEDGED"] = Field(alias="ackState")


def alarm_service(request: Request) -> AlarmService:
    service: Any = getattr(request.app.state.services, "alarms", None)
    if not isinstance(service, AlarmService):
        raise FaultManagementDisabled("this orchestrator runs without fault management")
    return service


ALARMS = Listing(AlarmView)


@router.get("/alarms", response_model=list[AlarmView], response_model_by_alias=True)
async def list_alarms(
    request: Request,
    scope: RequestScope,
    query: ListQueryParams,
    active: Annotated[bool | None, Query(description="true: only active alarms")] = None,
    ns_instance_id: Annotated[
        str | None, Query(alias="nsInstanceId", description="as filter=(eq,nsInstanceId,...)")
    ] = None,
) -> JSONResponse:
    alarms = await alarm_service(request).list(
        active_only=bool(active), nsr_id=ns_instance_id, scope=scope
    )
    if active is False:
        alarms = [alarm for alarm in alarms if not alarm.active]
    views = [
        AlarmView.of(alarm).model_dump(by_alias=True, mode="json", exclude_none=True)
        for alarm in alarms
    ]
    return ALARMS.answer(request, query, views)


@router.get(
    "/alarms/{alarm_id}",
    response_model=AlarmView,
    response_model_by_alias=True,
    response_model_exclude_none=True,
)
async def get_alarm(
    request: Request, scope: RequestScope, response: Response, alarm_id: str
) -> AlarmView:
    """The alarm, with its ``ETag`` (for ``If-Match`` on a ``PATCH``)."""
    view = AlarmView.of(await alarm_service(request).get(alarm_id, scope))
    response.headers["ETag"] = _etag(view)
    return view


def _etag(view: AlarmView) -> str:
    return etag_of(view.model_dump(by_alias=True, mode="json", exclude_none=True))


@router.patch("/alarms/{alarm_id}", response_model=AlarmModifications, response_model_by_alias=True)
async def acknowledge_alarm(
    request: Request,
    scope: RequestScope,
    alarm_id: str,
    response: Response,
    body: Annotated[AlarmModifications, Body()],
) -> AlarmModifications:
    """Acknowledge the alarm. ``If-Match`` that names another than the current ``ETag``:
    412; an alarm acknowledged already: 409 (SOL005 §8.4.3.3.4)."""
    service = alarm_service(request)
    current = await service.get(alarm_id, scope)
    check_if_match(request, _etag(AlarmView.of(current)), "the alarm")
    if current.ack_state == AckState.ACKNOWLEDGED:
        raise Conflict(
            f"alarm {alarm_id} is ACKNOWLEDGED already: ackState changes nothing",
            field="ackState",
        )
    acknowledged = await service.acknowledge(alarm_id, scope)
    response.headers["ETag"] = _etag(AlarmView.of(acknowledged))
    return body
