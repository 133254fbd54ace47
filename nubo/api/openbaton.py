"""Open Baton Pm-Or routes (NUBOMEDIA D2.4.3 Table 4) plus listing routes.

Long operations answer 202 Accepted with ``Location`` pointing at the LCM
operation occurrence; the body of a deploy is the new NSR, as Open Baton does.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request, Response
from pydantic import BaseModel, Field

from nubo.api.problems import PROBLEM_JSON
from nubo.api.redaction import redacted, redacted_nsd
from nubo.api.sol005 import read_body
from nubo.api.tenancy import RequestScope
from nubo.catalogue.nsd import NsdCatalogue
from nubo.model.catalogue import NsdEntry, VimRegistration
from nubo.model.errors import BadRequest, FieldProblem, InvalidDescriptor
from nubo.model.records import LcmOpOcc, NetworkServiceRecord
from nubo.nfvo.service import NsService
from nubo.nfvo.vims import VimService

router = APIRouter(prefix="/api/v1")

#: the largest JSON request body (a descriptor) read
MAX_JSON = 8 * 1024 * 1024

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"description": "problem details", "content": {PROBLEM_JSON: {}}}
    for code in (400, 404, 409, 422)
}
_ANY_JSON: dict[str, Any] = {
    "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}}
}
_OPTIONAL_JSON: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}


def _ns(request: Request) -> NsService:
    ns: NsService = request.app.state.services.ns
    return ns


def _catalogue(request: Request) -> NsdCatalogue:
    catalogue: NsdCatalogue = request.app.state.services.catalogue
    return catalogue


def _vims(request: Request) -> VimService:
    vims: VimService = request.app.state.services.vims
    return vims


async def _json_body(request: Request, required: bool) -> dict[str, Any] | None:
    raw = await read_body(request, MAX_JSON)
    if not raw.strip():
        if required:
            raise BadRequest("a JSON request body is required")
        return None
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidDescriptor([FieldProblem("$", f"malformed JSON: {exc}")]) from None
    if not isinstance(body, dict):
        raise InvalidDescriptor([FieldProblem("$", "the body must be a JSON object")])
    return body


def _accepted(response: Response, op: LcmOpOcc) -> None:
    response.status_code = 202
    response.headers["Location"] = f"/api/v1/lcm-operations/{op.id}"


class NsdSummary(BaseModel):
    id: str
    name: str
    vendor: str
    version: str
    format: str
    enabled: bool


def _summary(entry: NsdEntry) -> NsdSummary:
    return NsdSummary(**entry.model_dump(include=set(NsdSummary.model_fields)))


# -- NS descriptors ---------------------------------------------------------------


@router.post(
    "/ns-descriptors",
    status_code=201,
    response_model=NsdEntry,
    tags=["ns-descriptors"],
    responses=_PROBLEMS,
    openapi_extra=_ANY_JSON,
)
async def onboard_nsd(request: Request, scope: RequestScope, response: Response) -> NsdEntry:
    body = await _json_body(request, required=True)
    entry = await _catalogue(request).onboard(body or {}, scope)
    response.headers["Location"] = f"/api/v1/ns-descriptors/{entry.id}"
    return redacted_nsd(entry)


@router.get("/ns-descriptors", response_model=list[NsdSummary], tags=["ns-descriptors"])
async def list_nsds(request: Request, scope: RequestScope) -> list[NsdSummary]:
    return [_summary(e) for e in await _catalogue(request).list(scope)]


@router.get(
    "/ns-descriptors/{nsd_id}",
    response_model=NsdEntry,
    tags=["ns-descriptors"],
    responses=_PROBLEMS,
)
async def get_nsd(nsd_id: str, request: Request, scope: RequestScope) -> NsdEntry:
    return redacted_nsd(await _catalogue(request).get(nsd_id, scope))


@router.delete(
    "/ns-descriptors/{nsd_id}", status_code=204, tags=["ns-descriptors"], responses=_PROBLEMS
)
async def delete_nsd(nsd_id: str, request: Request, scope: RequestScope) -> Response:
    await _catalogue(request).delete(nsd_id, scope=scope)
    return Response(status_code=204)


# -- NS records -------------------------------------------------------------------


class DeployRequest(BaseModel):
    name: str | None = Field(default=None, description="name of the new NS (default: the NSD's)")
    vim: str | None = Field(default=None, description="VIM name or id (default: the default VIM)")


@router.post(
    "/ns-records/{nsd_id}",
    status_code=202,
    response_model=NetworkServiceRecord,
    tags=["ns-records"],
    responses=_PROBLEMS,
    openapi_extra=_OPTIONAL_JSON,
)
async def deploy_nsr(
    nsd_id: str,
    request: Request,
    scope: RequestScope,
    response: Response,
    idempotency_key: Annotated[
        str | None,
        Header(
            max_length=255,
            description="a retry with the same key returns the first answer instead of "
            "deploying twice",
        ),
    ] = None,
) -> NetworkServiceRecord:
    body = await _json_body(request, required=False) or {}
    options = DeployRequest.model_validate(body)
    nsr, op = await _ns(request).instantiate(
        nsd_id,
        name=options.name,
        vim=options.vim,
        idempotency_key=idempotency_key,
        scope=scope,
    )
    _accepted(response, op)
    return redacted(nsr)


@router.get("/ns-records", response_model=list[NetworkServiceRecord], tags=["ns-records"])
async def list_nsrs(
    request: Request, scope: RequestScope, all: bool = False
) -> list[NetworkServiceRecord]:
    return [redacted(nsr) for nsr in await _ns(request).list(include_terminated=all, scope=scope)]


@router.get(
    "/ns-records/{nsr_id}",
    response_model=NetworkServiceRecord,
    tags=["ns-records"],
    responses=_PROBLEMS,
)
async def get_nsr(nsr_id: str, request: Request, scope: RequestScope) -> NetworkServiceRecord:
    return redacted(await _ns(request).get(nsr_id, scope))


@router.delete(
    "/ns-records/{nsr_id}",
    status_code=202,
    response_model=LcmOpOcc,
    tags=["ns-records"],
    responses=_PROBLEMS,
)
async def terminate_nsr(
    nsr_id: str, request: Request, scope: RequestScope, response: Response
) -> LcmOpOcc:
    op = await _ns(request).terminate(nsr_id, scope=scope)
    _accepted(response, op)
    return op


_VNFCS = "/ns-records/{nsr_id}/vnfrecords/{vnfr_id}/vduunits/{vdu_id}/vnfcinstances"


@router.post(
    _VNFCS,
    status_code=202,
    response_model=LcmOpOcc,
    tags=["ns-records"],
    responses=_PROBLEMS,
    openapi_extra=_OPTIONAL_JSON,
)
async def scale_out(
    nsr_id: str,
    vnfr_id: str,
    vdu_id: str,
    request: Request,
    scope: RequestScope,
    response: Response,
) -> LcmOpOcc:
    body = await _json_body(request, required=False)
    op = await _ns(request).scale_out(nsr_id, vnfr_id, vdu_id, body, scope=scope)
    _accepted(response, op)
    return op


@router.delete(
    _VNFCS, status_code=202, response_model=LcmOpOcc, tags=["ns-records"], responses=_PROBLEMS
)
async def scale_in_any(
    nsr_id: str,
    vnfr_id: str,
    vdu_id: str,
    request: Request,
    scope: RequestScope,
    response: Response,
) -> LcmOpOcc:
    op = await _ns(request).scale_in(nsr_id, vnfr_id, vdu_id, scope=scope)
    _accepted(response, op)
    return op


@router.delete(
    _VNFCS + "/{vnfc_id}",
    status_code=202,
    response_model=LcmOpOcc,
    tags=["ns-records"],
    responses=_PROBLEMS,
)
async def scale_in(
    nsr_id: str,
    vnfr_id: str,
    vdu_id: str,
    vnfc_id: str,
    request: Request,
    scope: RequestScope,
    response: Response,
) -> LcmOpOcc:
    op = await _ns(request).scale_in(nsr_id, vnfr_id, vdu_id, vnfc_id, scope=scope)
    _accepted(response, op)
    return op


@router.post(
    _VNFCS + "/{vnfc_id}/start",
    status_code=202,
    response_model=LcmOpOcc,
    tags=["ns-records"],
    responses=_PROBLEMS,
)
async def start_vnfc(
    nsr_id: str,
    vnfr_id: str,
    vdu_id: str,
    vnfc_id: str,
    request: Request,
    scope: RequestScope,
    response: Response,
) -> LcmOpOcc:
    op = await _ns(request).start_vnfc(nsr_id, vnfr_id, vdu_id, vnfc_id, scope)
    _accepted(response, op)
    return op


@router.post(
    _VNFCS + "/{vnfc_id}/stop",
    status_code=202,
    response_model=LcmOpOcc,
    tags=["ns-records"],
    responses=_PROBLEMS,
)
async def stop_vnfc(
    nsr_id: str,
    vnfr_id: str,
    vdu_id: str,
    vnfc_id: str,
    request: Request,
    scope: RequestScope,
    response: Response,
) -> LcmOpOcc:
    op = await _ns(request).stop_vnfc(nsr_id, vnfr_id, vdu_id, vnfc_id, scope)
    _accepted(response, op)
    return op


# -- LCM operation occurrences ----------------------------------------------------


@router.get(
    "/ns-records/{nsr_id}/lcm-operations",
    response_model=list[LcmOpOcc],
    tags=["lcm-operations"],
    responses=_PROBLEMS,
)
async def list_nsr_operations(nsr_id: str, request: Request, scope: RequestScope) -> list[LcmOpOcc]:
    await _ns(request).get(nsr_id, scope)
    return await _ns(request).operations(nsr_id, scope)


@router.get("/lcm-operations", response_model=list[LcmOpOcc], tags=["lcm-operations"])
async def list_operations(request: Request, scope: RequestScope) -> list[LcmOpOcc]:
    return await _ns(request).operations(scope=scope)


@router.get(
    "/lcm-operations/{op_id}",
    response_model=LcmOpOcc,
    tags=["lcm-operations"],
    responses=_PROBLEMS,
)
async def get_operation(op_id: str, request: Request, scope: RequestScope) -> LcmOpOcc:
    return await _ns(request).operation(op_id, scope)


# -- VIMs -------------------------------------------------------------------------


class VimRequest(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    type: str = Field(min_length=1)
    endpoint: str = ""
    subnet_pool: str | None = None
    is_default: bool = False


@router.get("/vims", response_model=list[VimRegistration], tags=["vims"])
async def list_vims(request: Request, scope: RequestScope) -> list[VimRegistration]:
    return await _vims(request).list(scope)


@router.post(
    "/vims", status_code=201, response_model=VimRegistration, tags=["vims"], responses=_PROBLEMS
)
async def register_vim(body: VimRequest, request: Request, scope: RequestScope) -> VimRegistration:
    return await _vims(request).register(
        body.name,
        body.type,
        body.endpoint,
        subnet_pool=body.subnet_pool,
        is_default=body.is_default,
        project_id=scope.project_id,
    )


@router.get("/vims/{vim_id}", response_model=VimRegistration, tags=["vims"], responses=_PROBLEMS)
async def get_vim(vim_id: str, request: Request, scope: RequestScope) -> VimRegistration:
    return await _vims(request).get(vim_id, scope)
