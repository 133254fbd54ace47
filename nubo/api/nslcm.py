"""NS instances shaped after ETSI GS NFV-SOL 005 NS lifecycle management (``/nslcm/v1``).

An NS instance is created NOT_INSTANTIATED from an onboarded, enabled NSD,
then instantiated, scaled, healed and terminated by tasks that answer 202
with the Location of their LCM operation occurrence (``nslcm_ops``). Unlike
the Open Baton routes, an operation started here that fails is not rolled
back at once: it waits in FAILED_TEMP for a ``retry``, ``rollback`` or
``fail`` task. The NS records are the same ones the Open Baton routes show.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from nubo.api.listing import Listing, ListQueryParams
from nubo.api.nslcm_views import NsInstanceView, VnfOrigins, node_types_of
from nubo.api.sol005 import NSLCM, PROBLEMS, Sol005Model, accepted, instances_of, ns_of
from nubo.api.tenancy import RequestScope
from nubo.catalogue.nsd import NsdCatalogue
from nubo.catalogue.packages import VnfPackageCatalogue
from nubo.model.errors import BadRequest, Conflict, NotFound
from nubo.model.packages import OnboardingState
from nubo.model.records import NetworkServiceRecord, VduRecord, VnfRecord
from nubo.model.states import NsStatus, VnfcState
from nubo.model.tenancy import Scope

ONBOARDED = OnboardingState.ONBOARDED

router = APIRouter(prefix=NSLCM, tags=["SOL005 NS lifecycle"])


async def _origins(request: Request, scope: Scope, nsd_info_id: str | None = None) -> VnfOrigins:
    """What the views need from the catalogues: NSDs' own ids, their packages, the packages.

    For one NS instance only its own NSD is read (a terminated instance may outlive it).
    """
    catalogue: NsdCatalogue = request.app.state.services.catalogue
    if nsd_info_id is None:
        entries = await catalogue.list(scope)
    else:
        try:
            entries = [await catalogue.get(nsd_info_id, scope)]
        except NotFound:
            entries = []
    packages: Any = getattr(request.app.state.services, "packages", None)
    listed = await packages.list(scope) if isinstance(packages, VnfPackageCatalogue) else []
    return VnfOrigins(
        packages=listed,
        nsd_ids={e.id: str(e.info.get("nsdId") or e.id) for e in entries},
        package_ids={e.id: [str(i) for i in e.info.get("vnfPkgIds") or []] for e in entries},
        node_types={e.id: node_types_of(e.body) for e in entries},
    )


async def _nsd_info_for(request: Request, scope: Scope, nsd_id: str) -> str:
    """The NsdInfo id of the NSD a create request names.

    SOL005 ``nsdId`` is the descriptor's own identifier (NsdInfo.nsdId). Several
    NsdInfos may carry one nsdId (the same NSD uploaded twice): the enabled one is
    taken, and if more than one is enabled the request is ambiguous (409). A value
    that is no NSD's nsdId but an NsdInfo id is still accepted, as nubo read it
    before, so scripts written against earlier releases keep working; nsdId wins
    where a value is both.
    """
    catalogue: NsdCatalogue = request.app.state.services.catalogue
    onboarded = [e for e in await catalogue.list(scope) if e.onboarding_state == ONBOARDED]
    named = [e for e in onboarded if str(e.info.get("nsdId") or e.id) == nsd_id]
    enabled = [e for e in named if e.enabled]
    if len(enabled) > 1:
        infos = ", ".join(e.id for e in enabled)
        raise Conflict(
            f"{len(enabled)} enabled NSDs have nsdId {nsd_id!r} (NsdInfo {infos}); "
            "disable all but one, or send the NsdInfo id as nsdId",
            field="nsdId",
        )
    if enabled or named:
        return (enabled or named)[0].id
    if any(e.id == nsd_id for e in onboarded):
        return nsd_id
    raise NotFound(f"no onboarded NSD has nsdId {nsd_id!r}", field="nsdId")


def _dump(view: NsInstanceView) -> dict[str, Any]:
    return view.model_dump(by_alias=True, mode="json", exclude_none=True)


async def _view(request: Request, scope: Scope, nsr: NetworkServiceRecord) -> dict[str, Any]:
    origins = await _origins(request, scope, nsr.descriptor_reference)
    return _dump(NsInstanceView.of(nsr, origins))


# -- requests --------------------------------------------------------------------


class CreateNsRequest(Sol005Model):
    nsd_id: str = Field(
        min_length=1,
        description="the NSD's own identifier (NsdInfo.nsdId) of an onboarded, enabled NSD; "
        "an NsdInfo id is accepted too",
    )
    ns_name: str = Field(min_length=1, max_length=255)
    ns_description: str = ""


class InstantiateNsRequest(Sol005Model):
    ns_flavour_id: str = Field(min_length=1)
    additional_params_for_ns: dict[str, Any] = Field(
        default_factory=dict, description='nubo reads "vimId": the VIM to deploy on'
    )


class ScaleByStepData(Sol005Model):
    aspect_id: str = ""
    number_of_steps: int = Field(default=1, ge=1)


class ScaleVnfData(Sol005Model):
    vnf_instance_id: str = Field(min_length=1)
    scale_vnf_type: Literal["SCALE_OUT", "SCALE_IN"]
    scale_by_step_data: ScaleByStepData = Field(default_factory=ScaleByStepData)


class ScaleNsRequest(Sol005Model):
    scale_type: Literal["SCALE_VNF"]
    scale_vnf_data: list[ScaleVnfData] = Field(min_length=1, max_length=1)


class HealVnfData(Sol005Model):
    vnf_instance_id: str = Field(min_length=1)
    cause: str = ""
    additional_params: dict[str, Any] = Field(
        default_factory=dict, description='nubo reads "vnfcInstanceId": the VNFC to heal'
    )


class HealNsRequest(Sol005Model):
    heal_vnf_data: list[HealVnfData] = Field(min_length=1, max_length=1)


# -- routes ----------------------------------------------------------------------


@router.post("/ns_instances", status_code=201, response_model=None, responses=PROBLEMS)
async def create_ns_instance(
    body: CreateNsRequest, request: Request, scope: RequestScope, response: Response
) -> dict[str, Any]:
    nsd_info_id = await _nsd_info_for(request, scope, body.nsd_id)
    nsr = await instances_of(request).create_instance(
        nsd_info_id, body.ns_name, body.ns_description, scope
    )
    response.headers["Location"] = f"{NSLCM}/ns_instances/{nsr.id}"
    return await _view(request, scope, nsr)


#: SOL005 §6.4.2.3.2: what a list of NS instances leaves out unless asked for
NS_INSTANCES = Listing(
    NsInstanceView,
    default_exclusions=(
        "vnfInstance",
        "pnfInfo",
        "virtualLinkInfo",
        "vnffgInfo",
        "sapInfo",
        "nsScaleStatus",
        "additionalAffinityOrAntiAffinityRule",
    ),
)


@router.get("/ns_instances", response_model=list[NsInstanceView], responses=PROBLEMS)
async def list_ns_instances(
    request: Request, scope: RequestScope, query: ListQueryParams
) -> JSONResponse:
    nsrs = await ns_of(request).list(include_terminated=True, scope=scope)
    origins = await _origins(request, scope)
    views = [_dump(NsInstanceView.of(nsr, origins)) for nsr in nsrs]
    return NS_INSTANCES.answer(request, query, views)


@router.get("/ns_instances/{ns_instance_id}", response_model=None, responses=PROBLEMS)
async def get_ns_instance(
    ns_instance_id: str, request: Request, scope: RequestScope
) -> dict[str, Any]:
    return await _view(request, scope, await ns_of(request).get(ns_instance_id, scope))


@router.delete(
    "/ns_instances/{ns_instance_id}", status_code=204, response_class=Response, responses=PROBLEMS
)
async def delete_ns_instance(
    ns_instance_id: str, request: Request, scope: RequestScope
) -> Response:
    await instances_of(request).delete_instance(ns_instance_id, scope)
    return Response(status_code=204)


@router.post(
    "/ns_instances/{ns_instance_id}/instantiate",
    status_code=202,
    response_class=Response,
    responses=PROBLEMS,
)
async def instantiate_ns(
    ns_instance_id: str, body: InstantiateNsRequest, request: Request, scope: RequestScope
) -> Response:
    vim = body.additional_params_for_ns.get("vimId")
    if vim is not None and (not isinstance(vim, str) or not vim):
        raise BadRequest("vimId must be a VIM name or id", field="additionalParamsForNs.vimId")
    op = await instances_of(request).instantiate_instance(
        ns_instance_id, vim=vim, flavour=body.ns_flavour_id, scope=scope
    )
    return accepted(op)


@router.post(
    "/ns_instances/{ns_instance_id}/scale",
    status_code=202,
    response_class=Response,
    responses=PROBLEMS,
)
async def scale_ns(
    ns_instance_id: str, body: ScaleNsRequest, request: Request, scope: RequestScope
) -> Response:
    ns = ns_of(request)
    data = body.scale_vnf_data[0]
    if data.scale_by_step_data.number_of_steps != 1:
        raise BadRequest(
            "nubo scales one step (one VNFC) per operation; send numberOfSteps 1",
            field="scaleVnfData[0].scaleByStepData.numberOfSteps",
        )
    nsr = await ns.get(ns_instance_id, scope)
    vnfr = _vnfr_of(nsr, data.vnf_instance_id, "scaleVnfData[0].vnfInstanceId")
    vdu = _vdu_for_aspect(vnfr, data.scale_by_step_data.aspect_id)
    if data.scale_vnf_type == "SCALE_OUT":
        op = await ns.scale_out(nsr.id, vnfr.id, vdu.id, hold_on_failure=True, scope=scope)
    else:
        op = await ns.scale_in(nsr.id, vnfr.id, vdu.id, hold_on_failure=True, scope=scope)
    return accepted(op)


@router.post(
    "/ns_instances/{ns_instance_id}/heal",
    status_code=202,
    response_class=Response,
    responses=PROBLEMS,
)
async def heal_ns(
    ns_instance_id: str, body: HealNsRequest, request: Request, scope: RequestScope
) -> Response:
    ns = ns_of(request)
    data = body.heal_vnf_data[0]
    nsr = await ns.get(ns_instance_id, scope)
    vnfr = _vnfr_of(nsr, data.vnf_instance_id, "healVnfData[0].vnfInstanceId")
    wanted = data.additional_params.get("vnfcInstanceId")
    vnfcs = vnfr.vnfcs()
    if wanted is not None:
        chosen = next((c for c in vnfcs if c.id == wanted or c.hostname == wanted), None)
        if chosen is None:
            raise NotFound(
                f"VNF instance {vnfr.id} has no VNFC {wanted!r}",
                field="healVnfData[0].additionalParams.vnfcInstanceId",
            )
    else:
        chosen = next((c for c in vnfcs if c.state != VnfcState.RUNNING), None)
        if chosen is None:
            raise Conflict(
                f"every VNFC of VNF instance {vnfr.name} is RUNNING; name one in "
                "additionalParams.vnfcInstanceId to heal it anyway",
                field="healVnfData[0].additionalParams.vnfcInstanceId",
            )
    op = await ns.heal(nsr.id, chosen.id, cause=data.cause, hold_on_failure=True, scope=scope)
    return accepted(op)


@router.post(
    "/ns_instances/{ns_instance_id}/terminate",
    status_code=202,
    response_class=Response,
    responses=PROBLEMS,
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": {"type": "object"}}},
        }
    },
)
async def terminate_ns(ns_instance_id: str, request: Request, scope: RequestScope) -> Response:
    # the service refuses a NOT_INSTANTIATED (or terminated) instance with 409
    op = await ns_of(request).terminate(ns_instance_id, hold_on_failure=True, scope=scope)
    return accepted(op)


def _vnfr_of(nsr: NetworkServiceRecord, vnf_instance_id: str, field: str) -> VnfRecord:
    if nsr.status == NsStatus.NOT_INSTANTIATED:
        raise Conflict(f"NS instance {nsr.id} is NOT_INSTANTIATED", current_state=nsr.status.value)
    for vnfr in nsr.vnfr:
        if vnf_instance_id in (vnfr.id, vnfr.name):
            return vnfr
    known = ", ".join(f"{v.id} ({v.name})" for v in nsr.vnfr)
    raise NotFound(
        f"NS instance {nsr.id} has no VNF instance {vnf_instance_id!r}; it has {known}",
        field=field,
    )


def _vdu_for_aspect(vnfr: VnfRecord, aspect_id: str) -> VduRecord:
    """The VDU a scaling aspect scales: named by id or name, else the VNF's only VDU."""
    for vdu in vnfr.vdu:
        if aspect_id in (vdu.id, vdu.name):
            return vdu
    if len(vnfr.vdu) == 1:
        return vnfr.vdu[0]
    raise BadRequest(
        f"aspect {aspect_id!r} names no VDU of VNF {vnfr.name}; "
        f"use one of {', '.join(vdu.name for vdu in vnfr.vdu)}",
        field="scaleVnfData[0].scaleByStepData.aspectId",
    )
