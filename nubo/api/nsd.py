"""NSD management shaped after ETSI GS NFV-SOL 005 (``/nsd/v1/ns_descriptors``).

Create an NSD (CREATED), upload its content (``PUT .../nsd_content``: SOL001
YAML, an NSD CSAR, or Open Baton JSON) to onboard it, read it back, enable or
disable it, delete it. NSDs render as SOL005 NsdInfo; the ones onboarded
through the Open Baton routes are listed too (ONBOARDED, ENABLED unless
disabled here). Refusals are problem documents naming every problem found.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from nubo.api.conditions import check_if_match, content_response, etag_of
from nubo.api.listing import Listing, ListQueryParams
from nubo.api.problems import PROBLEM_JSON
from nubo.api.sol005 import read_body
from nubo.api.tenancy import RequestScope
from nubo.catalogue.nsd import NsdCatalogue
from nubo.model.catalogue import DescriptorWarning, NsdEntry
from nubo.model.errors import BadRequest, Conflict
from nubo.model.packages import OnboardingState, OperationalState, UsageState
from nubo.model.tenancy import Scope

PREFIX = "/nsd/v1"

router = APIRouter(prefix=PREFIX, tags=["SOL005 NSD management"])

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"description": "problem details", "content": {PROBLEM_JSON: {}}}
    for code in (400, 404, 409, 415, 422)
}
_CONTENT_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "text/plain": {"schema": {"type": "string"}},
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
            "application/json": {"schema": {"type": "object"}},
        },
    }
}


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class NsdInfo(_Camel):
    """An NSD as SOL005 names its fields; descriptor fields only once it is onboarded."""

    id: str
    nsd_id: str | None = None
    nsd_name: str | None = None
    nsd_version: str | None = None
    nsd_designer: str | None = None
    nsd_invariant_id: str | None = None
    vnf_pkg_ids: list[str] = Field(default_factory=list)
    nsd_onboarding_state: OnboardingState
    nsd_operational_state: OperationalState
    nsd_usage_state: UsageState
    user_defined_data: dict[str, Any] = Field(default_factory=dict)
    #: nubo's extension: what the descriptor carries that nubo does not use, by path
    nubo_warnings: list[DescriptorWarning] = Field(default_factory=list)
    links: dict[str, dict[str, str]] = Field(alias="_links")

    @classmethod
    def of(cls, entry: NsdEntry, instances: dict[str, list[str]]) -> NsdInfo:
        href = f"{PREFIX}/ns_descriptors/{entry.id}"
        info = entry.info
        view = cls(
            id=entry.id,
            vnf_pkg_ids=[str(i) for i in info.get("vnfPkgIds") or []],
            nsd_onboarding_state=OnboardingState(entry.onboarding_state),
            nsd_operational_state=(
                OperationalState.ENABLED if entry.enabled else OperationalState.DISABLED
            ),
            nsd_usage_state=UsageState.IN_USE if entry.id in instances else UsageState.NOT_IN_USE,
            user_defined_data=info.get("userDefinedData") or {},
            nubo_warnings=entry.warnings,
            _links={"self": {"href": href}, "nsd_content": {"href": f"{href}/nsd_content"}},
        )
        if entry.onboarding_state != OnboardingState.ONBOARDED:
            return view
        nsd_id = str(info.get("nsdId") or entry.id)
        return view.model_copy(
            update={
                "nsd_id": nsd_id,
                "nsd_name": entry.name,
                "nsd_version": entry.version,
                "nsd_designer": entry.vendor,
                "nsd_invariant_id": str(info.get("nsdInvariantId") or nsd_id),
            }
        )


class CreateNsdInfoRequest(_Camel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    user_defined_data: dict[str, Any] | None = None


class NsdInfoModifications(_Camel):
    """What PATCH may change: the operational state and the user's own data."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    nsd_operational_state: OperationalState | None = None
    user_defined_data: dict[str, Any] | None = None


def _catalogue(request: Request) -> NsdCatalogue:
    catalogue: NsdCatalogue = request.app.state.services.catalogue
    return catalogue


_VIEW: dict[str, Any] = {
    "response_model": NsdInfo,
    "response_model_by_alias": True,
    "response_model_exclude_none": True,
    "responses": _PROBLEMS,
}


@router.post("/ns_descriptors", status_code=201, **_VIEW)
async def create_nsd(
    request: Request,
    scope: RequestScope,
    response: Response,
    body: Annotated[CreateNsdInfoRequest | None, Body()] = None,
) -> NsdInfo:
    catalogue = _catalogue(request)
    entry = await catalogue.create(body.user_defined_data if body else None, scope)
    response.headers["Location"] = f"{PREFIX}/ns_descriptors/{entry.id}"
    return NsdInfo.of(entry, {})


#: SOL005 §5.4.2.3.2: what a list of NSDs leaves out unless asked for
NSD_INFOS = Listing(NsdInfo, default_exclusions=("userDefinedData",))


@router.get("/ns_descriptors", response_model=list[NsdInfo], responses=_PROBLEMS)
async def list_nsds(request: Request, scope: RequestScope, query: ListQueryParams) -> JSONResponse:
    catalogue = _catalogue(request)
    instances = await catalogue.instances(scope)
    views = [
        NsdInfo.of(entry, instances).model_dump(by_alias=True, mode="json", exclude_none=True)
        for entry in await catalogue.list(scope)
    ]
    return NSD_INFOS.answer(request, query, views)


async def _info(catalogue: NsdCatalogue, nsd_id: str, scope: Scope) -> NsdInfo:
    entry = await catalogue.get(nsd_id, scope)
    users = await catalogue.users(nsd_id)
    return NsdInfo.of(entry, {nsd_id: users} if users else {})


def _etag(info: NsdInfo) -> str:
    return etag_of(info.model_dump(by_alias=True, mode="json", exclude_none=True))


@router.get("/ns_descriptors/{nsd_id}", **_VIEW)
async def get_nsd(
    request: Request, scope: RequestScope, response: Response, nsd_id: str
) -> NsdInfo:
    """The NsdInfo, with its ``ETag`` (for ``If-Match`` on a ``PATCH``)."""
    info = await _info(_catalogue(request), nsd_id, scope)
    response.headers["ETag"] = _etag(info)
    return info


@router.put(
    "/ns_descriptors/{nsd_id}/nsd_content",
    status_code=204,
    response_class=Response,
    openapi_extra=_CONTENT_BODY,
    responses=_PROBLEMS,
)
async def upload_nsd_content(request: Request, scope: RequestScope, nsd_id: str) -> Response:
    """Onboard the NSD's content; a refused NSD stays CREATED with nothing stored.

    Onboarding is done when the answer comes, so it is SOL005's synchronous
    mode: 204 without a body (read the NsdInfo, now ONBOARDED, with a GET).
    """
    catalogue = _catalogue(request)
    await catalogue.get(nsd_id, scope)  # 404 before reading a large body for nothing
    data = await read_body(request)
    if not data.strip():
        raise BadRequest("the request body must be the NSD (SOL001 YAML, a CSAR or JSON)")
    await catalogue.upload(nsd_id, data, request.headers.get("content-type"), scope)
    return Response(status_code=204)


@router.get(
    "/ns_descriptors/{nsd_id}/nsd_content",
    response_class=Response,
    responses={
        200: {"content": {"application/yaml": {}, "application/zip": {}, "application/json": {}}},
        **_PROBLEMS,
    },
)
async def get_nsd_content(request: Request, scope: RequestScope, nsd_id: str) -> Response:
    """What was uploaded; a ``Range`` of it is answered 206."""
    content, media_type = await _catalogue(request).content(nsd_id, scope)
    return content_response(request, content, media_type)


@router.patch(
    "/ns_descriptors/{nsd_id}",
    response_model=NsdInfoModifications,
    response_model_by_alias=True,
    response_model_exclude_none=True,
    responses=_PROBLEMS,
)
async def modify_nsd(
    request: Request,
    scope: RequestScope,
    nsd_id: str,
    response: Response,
    body: Annotated[NsdInfoModifications, Body()],
) -> NsdInfoModifications:
    """Enable or disable the NSD and/or merge-patch its userDefinedData.

    ``If-Match`` that names another than the current ``ETag``: 412. Setting the
    operational state it already has: 409 (SOL005 §5.4.3.3.4).
    """
    if body.nsd_operational_state is None and body.user_defined_data is None:
        raise BadRequest("give nsdOperationalState and/or userDefinedData to change")
    catalogue = _catalogue(request)
    current = await _info(catalogue, nsd_id, scope)
    check_if_match(request, _etag(current), "the NSD")
    if body.nsd_operational_state is not None and (
        body.nsd_operational_state == current.nsd_operational_state
    ):
        raise Conflict(
            f"NSD {nsd_id} is {current.nsd_operational_state.value} already: "
            "nsdOperationalState changes nothing",
            field="nsdOperationalState",
        )
    await catalogue.modify(nsd_id, body.nsd_operational_state, body.user_defined_data, scope)
    response.headers["ETag"] = _etag(await _info(catalogue, nsd_id, scope))
    return body


@router.delete("/ns_descriptors/{nsd_id}", status_code=204, responses=_PROBLEMS)
async def delete_nsd(request: Request, scope: RequestScope, nsd_id: str) -> Response:
    """Delete a DISABLED NSD that no NS instance uses (409 naming them otherwise)."""
    await _catalogue(request).delete(nsd_id, require_disabled=True, scope=scope)
    return Response(status_code=204)
