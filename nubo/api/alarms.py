"""Alarm routes shaped after ETSI GS NFV-SOL 005 NFV-FM (``/nsfm/v1/alarms``).

List (filter by ``active`` and ``nsInstanceId``), read, and acknowledge with
``PATCH {"ackState": "ACKNOWLEDGED"}``. Alarms render with SOL005 field names;
nubo's NS/VNF/VNFC ids ride along as ``nsInstanceId``, ``vnfInstanceId`` and
``vnfcInstanceId`` (``nubo.model.alarms.AlarmView``, which notifications share).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from nubo.api.conditions import check_if_match, etag_of
from nubo.api.listing import Listing, ListQueryParams
from nubo.api.tenancy import RequestScope
from nubo.fault.alarms import AlarmService
from nubo.model.alarms import AckState, Alarm, AlarmView, is_ns_alarm
from nubo.model.errors import Conflict, NotFound, NuboError
from nubo.model.tenancy import Scope

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
    # SOL005's alarms are NS alarms; a VIM's is on /api/v1/vims/{id}/alarms
    alarms = [alarm for alarm in alarms if is_ns_alarm(alarm)]
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
    view = AlarmView.of(await _ns_alarm(alarm_service(request), alarm_id, scope))
    response.headers["ETag"] = _etag(view)
    return view


async def _ns_alarm(service: AlarmService, alarm_id: str, scope: Scope) -> Alarm:
    alarm = await service.get(alarm_id, scope)
    if not is_ns_alarm(alarm):
        raise NotFound(
            f"alarm {alarm_id} is about VIM {alarm.vim_id or alarm.managed_object_id}, not an "
            "NS instance: NS fault management has NS alarms only; read it on "
            f"/api/v1/vims/{alarm.vim_id or alarm.managed_object_id}/alarms",
            alarm_id=alarm_id,
        )
    return alarm


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
    current = await _ns_alarm(service, alarm_id, scope)
    check_if_match(request, _etag(AlarmView.of(current)), "the alarm")
    if current.ack_state == AckState.ACKNOWLEDGED:
        raise Conflict(
            f"alarm {alarm_id} is ACKNOWLEDGED already: ackState changes nothing",
            field="ackState",
        )
    acknowledged = await service.acknowledge(alarm_id, scope)
    response.headers["ETag"] = _etag(AlarmView.of(acknowledged))
    return body


#: nubo's own route for what SOL005 has no place for: the alarms of a VIM itself
vim_alarms_router = APIRouter(prefix="/api/v1", tags=["vims"])


class VimAlarmView(BaseModel):
    """An alarm about a VIM (it does not answer), not about an NS instance."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    id: str
    vim_id: str
    probable_cause: str
    perceived_severity: str
    ack_state: str
    alarm_raised_time: datetime
    alarm_changed_time: datetime
    alarm_cleared_time: datetime | None = None
    fault_details: list[str]

    @classmethod
    def of(cls, alarm: Alarm) -> VimAlarmView:
        return cls(
            id=alarm.id,
            vim_id=alarm.vim_id or alarm.managed_object_id,
            probable_cause=alarm.probable_cause.value,
            perceived_severity=alarm.perceived_severity.value,
            ack_state=alarm.ack_state.value,
            alarm_raised_time=alarm.alarm_raised_time,
            alarm_changed_time=alarm.alarm_changed_time,
            alarm_cleared_time=alarm.alarm_cleared_time,
            fault_details=list(alarm.fault_details),
        )


@vim_alarms_router.get(
    "/vims/{vim_id}/alarms",
    response_model=list[VimAlarmView],
    response_model_by_alias=True,
    response_model_exclude_none=True,
)
async def list_vim_alarms(request: Request, scope: RequestScope, vim_id: str) -> list[VimAlarmView]:
    """The alarms of the VIM itself, newest first (those of its NS instances are on
    ``/nsfm/v1/alarms``)."""
    vims: Any = request.app.state.services.vims
    vim = await vims.get(vim_id, scope)  # another project's: 404
    alarms = await alarm_service(request).list(scope=scope)
    return [
        VimAlarmView.of(a)
        for a in alarms
        if not is_ns_alarm(a) and (a.vim_id or a.managed_object_id) == vim.id
    ]
