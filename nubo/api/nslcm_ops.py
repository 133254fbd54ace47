"""LCM operation occurrences, SOL005-shaped (``/nslcm/v1/ns_lcm_op_occs``).

Every operation nubo runs is an occurrence here, whichever interface started
it. The tasks follow SOL005: ``retry``, ``rollback`` and ``fail`` act on an
occurrence in FAILED_TEMP; ``cancel`` stops a PROCESSING or ROLLING_BACK one,
which then waits in FAILED_TEMP. An occurrence's ``_links`` name only the
tasks its state allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from nubo.api.listing import Listing, ListQueryParams
from nubo.api.sol005 import (
    NSLCM,
    PROBLEMS,
    Sol005Model,
    accepted,
    instances_of,
    link,
    ns_of,
    op_location,
)
from nubo.api.tenancy import RequestScope
from nubo.model.errors import NotFound
from nubo.model.records import LcmOpOcc, ScriptRun, StepRecord
from nubo.model.states import SOL005_OPERATION, LcmOperationType, OpState
from nubo.model.tenancy import Scope

router = APIRouter(prefix=NSLCM, tags=["SOL005 NS lifecycle"])

#: the tasks each state allows (SOL005 NS LCM: operation occurrence state machine)
_TASKS: dict[OpState, tuple[str, ...]] = {
    OpState.PROCESSING: ("cancel",),
    OpState.ROLLING_BACK: ("cancel",),
    OpState.FAILED_TEMP: ("retry", "rollback", "fail"),
}


class NsLcmOpOccView(Sol005Model):
    id: str
    operation_state: OpState
    state_entered_time: datetime
    ns_instance_id: str
    lcm_operation_type: str
    nubo_operation: str = Field(description="nubo's finer operation name (SCALE_OUT, ...)")
    start_time: datetime
    is_automatic_invocation: bool
    operation_params: dict[str, Any] = Field(
        description="the operation's request, as SOL005 types it (InstantiateNsRequest, ...)"
    )
    nubo_params: dict[str, Any] = Field(description="what nubo recorded to run the operation")
    is_cancel_pending: bool = False
    error: dict[str, Any] | None = None
    steps: list[StepRecord]
    nubo_scripts: list[ScriptRun] = Field(
        default_factory=list,
        description="the lifecycle scripts the operation ran in VNFCs, with their output's tail",
    )
    links: dict[str, dict[str, str]] = Field(alias="_links")

    @classmethod
    def of(cls, op: LcmOpOcc, vnf_of: Mapping[str, str] | None = None) -> NsLcmOpOccView:
        """The view of ``op``; ``vnf_of`` maps VNFC ids to their VNF instances' ids."""
        base = op_location(op)
        links = {"self": link(base), "nsInstance": link(f"{NSLCM}/ns_instances/{op.nsr_id}")}
        for task in _TASKS.get(op.state, ()):
            links[task] = link(f"{base}/{task}")
        return cls(
            id=op.id,
            operation_state=op.state,
            state_entered_time=op.state_entered_time,
            ns_instance_id=op.nsr_id,
            lcm_operation_type=SOL005_OPERATION[op.operation],
            nubo_operation=op.operation.value,
            start_time=op.start_time,
            is_automatic_invocation=op.automatic,
            operation_params=operation_params(op, vnf_of or {}),
            nubo_params=dict(op.params),
            error=dict(op.error) if op.error else None,
            steps=op.steps,
            nubo_scripts=op.scripts,
            _links=links,
        )


def operation_params(op: LcmOpOcc, vnf_of: Mapping[str, str]) -> dict[str, Any]:
    """The request of the operation, rebuilt from what nubo recorded to run it.

    The operations started through the Open Baton routes or by nubo itself
    (healing, auto-scaling) had no SOL005 request: they get the one that asks
    for the same.
    """
    params = op.params
    kind = op.operation
    if kind == LcmOperationType.INSTANTIATE:
        vim = params.get("vimId")
        return {"nsFlavourId": str(params.get("nsFlavourId") or "default")} | (
            {"additionalParamsForNs": {"vimId": vim}} if vim else {}
        )
    if kind in (LcmOperationType.SCALE_OUT, LcmOperationType.SCALE_IN):
        step = {"aspectId": str(params.get("vduId", "")), "numberOfSteps": 1}
        data = {
            "vnfInstanceId": str(params.get("vnfrId", "")),
            "scaleVnfType": kind.value,
            "scaleByStepData": step,
        }
        return {"scaleType": "SCALE_VNF", "scaleVnfData": [data]}
    if kind == LcmOperationType.HEAL:
        heal: dict[str, Any] = {
            "additionalParams": {"vnfcInstanceId": params.get("vnfcInstanceId")}
        }
        vnf = params.get("vnfrId") or vnf_of.get(str(params.get("vnfcInstanceId")))
        if vnf:
            heal["vnfInstanceId"] = vnf
        if params.get("cause"):
            heal["cause"] = params["cause"]
        return {"healVnfData": [heal]}
    if kind in (LcmOperationType.START_VNFC, LcmOperationType.STOP_VNFC):
        state = "STARTED" if kind == LcmOperationType.START_VNFC else "STOPPED"
        change = {"vnfInstanceId": str(params.get("vnfrId", "")), "changeStateTo": state}
        return {"updateType": "OPERATE_VNF", "operateVnfData": [change]}
    return {}


def _view(op: LcmOpOcc, vnf_of: Mapping[str, str] | None = None) -> dict[str, Any]:
    view = NsLcmOpOccView.of(op, vnf_of)
    return view.model_dump(by_alias=True, mode="json", exclude_none=True)


async def _healed_vnfs(request: Request, scope: Scope, ops: Iterable[LcmOpOcc]) -> dict[str, str]:
    """VNFC id -> VNF instance id for the heals among ``ops``, whose record names the VNFC only.

    A HealNsRequest names the VNF instance; the NS records say which VNF a VNFC is
    of (a VNFC replaced since, or an NS deleted, leaves the VNF out).
    """
    nsr_ids = {op.nsr_id for op in ops if op.operation == LcmOperationType.HEAL}
    found: dict[str, str] = {}
    for nsr_id in nsr_ids:
        try:
            nsr = await ns_of(request).get(nsr_id, scope)
        except NotFound:
            continue
        found.update({c.id: vnfr.id for vnfr in nsr.vnfr for c in vnfr.vnfcs()})
    return found


class CancelModeRequest(Sol005Model):
    cancel_mode: Literal["GRACEFUL", "FORCEFUL"] = "GRACEFUL"


#: SOL005 §6.4.9.3.2: what a list of occurrences leaves out unless asked for
OP_OCCS = Listing(
    NsLcmOpOccView,
    default_exclusions=("operationParams", "error", "resourceChanges", "changedVnfInfo"),
)


@router.get("/ns_lcm_op_occs", response_model=list[NsLcmOpOccView], responses=PROBLEMS)
async def list_op_occs(
    request: Request,
    scope: RequestScope,
    query: ListQueryParams,
    ns_instance_id: Annotated[
        str | None, Query(alias="nsInstanceId", description="as filter=(eq,nsInstanceId,...)")
    ] = None,
    operation_state: Annotated[
        OpState | None,
        Query(alias="operationState", description="as filter=(eq,operationState,...)"),
    ] = None,
) -> JSONResponse:
    ops = await ns_of(request).operations(ns_instance_id, scope)
    chosen = [op for op in ops if operation_state is None or op.state == operation_state]
    vnf_of = await _healed_vnfs(request, scope, chosen)
    views = [_view(op, vnf_of) for op in chosen]
    return OP_OCCS.answer(request, query, views)


@router.get("/ns_lcm_op_occs/{op_id}", response_model=None, responses=PROBLEMS)
async def get_op_occ(op_id: str, request: Request, scope: RequestScope) -> dict[str, Any]:
    op = await ns_of(request).operation(op_id, scope)
    return _view(op, await _healed_vnfs(request, scope, [op]))


@router.post(
    "/ns_lcm_op_occs/{op_id}/retry", status_code=202, response_class=Response, responses=PROBLEMS
)
async def retry_op_occ(op_id: str, request: Request, scope: RequestScope) -> Response:
    return accepted(await instances_of(request).retry(op_id, scope))


@router.post(
    "/ns_lcm_op_occs/{op_id}/rollback", status_code=202, response_class=Response, responses=PROBLEMS
)
async def rollback_op_occ(op_id: str, request: Request, scope: RequestScope) -> Response:
    return accepted(await instances_of(request).rollback(op_id, scope))


@router.post("/ns_lcm_op_occs/{op_id}/fail", response_model=None, responses=PROBLEMS)
async def fail_op_occ(op_id: str, request: Request, scope: RequestScope) -> dict[str, Any]:
    op = await instances_of(request).fail(op_id, scope)
    return _view(op, await _healed_vnfs(request, scope, [op]))


@router.post(
    "/ns_lcm_op_occs/{op_id}/cancel", status_code=202, response_class=Response, responses=PROBLEMS
)
async def cancel_op_occ(
    op_id: str, request: Request, scope: RequestScope, body: CancelModeRequest | None = None
) -> Response:
    # GRACEFUL and FORCEFUL act alike: the running step is interrupted at its next
    # await, and the occurrence waits in FAILED_TEMP for a rollback or a retry
    return accepted(await instances_of(request).cancel(op_id, scope))
