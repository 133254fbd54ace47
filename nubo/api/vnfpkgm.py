"""VNF package management shaped after ETSI GS NFV-SOL 005 (``/vnfpkgm/v1/vnf_packages``).

Create a package (CREATED), upload its SOL004 CSAR (``PUT .../package_content``,
``application/zip``) to onboard it, read it back (the archive, the VNFD, one
artifact), enable or disable it, delete it. Packages render as SOL005
VnfPkgInfo; refusals are problem documents naming every problem found.
"""

from __future__ import annotations

import mimetypes
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from nubo.api.conditions import check_if_match, content_response, etag_of
from nubo.api.listing import Listing, ListQueryParams
from nubo.api.problems import PROBLEM_JSON
from nubo.api.sol005 import read_body
from nubo.api.tenancy import RequestScope
from nubo.catalogue.fetch import PackageFetcher
from nubo.catalogue.packages import UnsupportedContent, VnfPackageCatalogue
from nubo.model.errors import BadRequest, Conflict, NuboError
from nubo.model.packages import OnboardingState, OperationalState, UsageState, VnfPackage
from nubo.model.tenancy import Scope

PREFIX = "/vnfpkgm/v1"

router = APIRouter(prefix=PREFIX, tags=["SOL005 VNF package management"])

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"description": "problem details", "content": {PROBLEM_JSON: {}}}
    for code in (400, 404, 409, 415, 422)
}
_ZIP_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
    }
}
_ZIP_TYPES = {"", "application/zip", "application/x-zip-compressed", "application/octet-stream"}
#: Open Baton VNF packages are tars, gzipped or not
_TAR_TYPES = {"application/x-tar", "application/gzip", "application/x-gzip", "application/x-gtar"}


class PackagesDisabled(NuboError):
    code = "VNF_PACKAGES_DISABLED"
    status = 503
    title = "VNF package management is not available"


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class SoftwareImageInformation(_Camel):
    """SOL005 §9.5.3.2: one software image of a package.

    A container image named by reference is not a file in the package: it has
    no checksum nubo could compute (``algorithm`` ``NONE``), no size nubo
    knows (0) and, unless the VNFD says, no minimum disk or memory (0).
    """

    id: str
    name: str
    provider: str
    version: str
    checksum: dict[str, str]
    container_format: str
    disk_format: str
    created_at: datetime
    min_disk: int
    min_ram: int
    size: int
    image_path: str
    user_metadata: dict[str, Any] | None = None

    @classmethod
    def of(cls, image: dict[str, Any], package: VnfPackage) -> SoftwareImageInformation:
        checksum = image.get("checksum")
        if isinstance(checksum, str):
            checksum = {"algorithm": "SHA-256", "hash": checksum}
        return cls(
            id=str(image.get("id", "")),
            name=str(image.get("name", "")),
            provider=str(image.get("provider") or package.vnf_provider),
            version=str(image.get("version", "")),
            checksum=checksum if isinstance(checksum, dict) else {"algorithm": "NONE", "hash": ""},
            container_format=str(image.get("containerFormat") or "DOCKER"),
            disk_format=str(image.get("diskFormat") or "RAW"),
            created_at=package.created_at,
            min_disk=int(image.get("minDisk") or 0),
            min_ram=int(image.get("minRam") or 0),
            size=int(image.get("size") or 0),
            image_path=str(image.get("imagePath") or image.get("name", "")),
            user_metadata=image.get("userMetadata"),
        )


class VnfPkgInfo(_Camel):
    """A VNF package as SOL005 names its fields; VNFD fields only once it is onboarded."""

    id: str
    vnfd_id: str | None = None
    vnf_provider: str | None = None
    vnf_product_name: str | None = None
    vnf_software_version: str | None = None
    vnfd_version: str | None = None
    checksum: dict[str, str] | None = None
    software_images: list[SoftwareImageInformation] | None = None
    additional_artifacts: list[dict[str, Any]] | None = None
    onboarding_state: OnboardingState
    operational_state: OperationalState
    usage_state: UsageState
    user_defined_data: dict[str, Any] = Field(default_factory=dict)
    #: nubo's: why the last fetch of the content from a URI failed (the package stays CREATED)
    nubo_onboarding_failure: dict[str, Any] | None = None
    links: dict[str, dict[str, str]] = Field(alias="_links")

    @classmethod
    def of(cls, package: VnfPackage, users: dict[str, list[str]]) -> VnfPkgInfo:
        href = f"{PREFIX}/vnf_packages/{package.id}"
        onboarded = package.onboarding_state == OnboardingState.ONBOARDED
        view = cls(
            id=package.id,
            onboarding_state=package.onboarding_state,
            operational_state=package.operational_state,
            usage_state=UsageState.IN_USE if package.id in users else UsageState.NOT_IN_USE,
            user_defined_data=package.user_defined_data,
            nubo_onboarding_failure=package.onboarding_failure,
            _links={
                "self": {"href": href},
                "vnfd": {"href": f"{href}/vnfd"},
                "packageContent": {"href": f"{href}/package_content"},
            },
        )
        if onboarded:
            view = view.model_copy(
                update={
                    "vnfd_id": package.vnfd_id,
                    "vnf_provider": package.vnf_provider,
                    "vnf_product_name": package.vnf_product_name,
                    "vnf_software_version": package.vnf_software_version,
                    "vnfd_version": package.vnfd_version,
                    "checksum": {"algorithm": "SHA-256", "hash": package.checksum or ""},
                    "software_images": [
                        SoftwareImageInformation.of(image, package)
                        for image in package.software_images or []
                    ],
                    "additional_artifacts": package.additional_artifacts,
                }
            )
        return view


class CreateVnfPkgInfoRequest(_Camel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    user_defined_data: dict[str, Any] | None = None


class VnfPkgInfoModifications(_Camel):
    """What PATCH may change: the operational state and the user's own data."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    operational_state: OperationalState | None = None
    user_defined_data: dict[str, Any] | None = None


def packages_of(request: Request) -> VnfPackageCatalogue:
    packages: Any = getattr(request.app.state.services, "packages", None)
    if not isinstance(packages, VnfPackageCatalogue):
        raise PackagesDisabled("this orchestrator runs without a VNF package catalogue")
    return packages


async def _view(packages: VnfPackageCatalogue, package: VnfPackage, scope: Scope) -> VnfPkgInfo:
    return VnfPkgInfo.of(package, await packages.users(scope))


_VIEW: dict[str, Any] = {
    "response_model": VnfPkgInfo,
    "response_model_by_alias": True,
    "response_model_exclude_none": True,
    "responses": _PROBLEMS,
}


@router.post("/vnf_packages", status_code=201, **_VIEW)
async def create_vnf_package(
    request: Request,
    scope: RequestScope,
    response: Response,
    body: Annotated[CreateVnfPkgInfoRequest | None, Body()] = None,
) -> VnfPkgInfo:
    packages = packages_of(request)
    package = await packages.create(body.user_defined_data if body else None, scope)
    response.headers["Location"] = f"{PREFIX}/vnf_packages/{package.id}"
    return await _view(packages, package, scope)


#: SOL005 §9.4.2.3.2: what a list of packages leaves out unless asked for
VNF_PKG_INFOS = Listing(
    VnfPkgInfo,
    default_exclusions=("softwareImages", "additionalArtifacts", "userDefinedData", "checksum"),
)


@router.get("/vnf_packages", response_model=list[VnfPkgInfo], responses=_PROBLEMS)
async def list_vnf_packages(
    request: Request, scope: RequestScope, query: ListQueryParams
) -> JSONResponse:
    packages = packages_of(request)
    users = await packages.users(scope)
    views = [
        VnfPkgInfo.of(p, users).model_dump(by_alias=True, mode="json", exclude_none=True)
        for p in await packages.list(scope)
    ]
    return VNF_PKG_INFOS.answer(request, query, views)


def _document(view: VnfPkgInfo) -> dict[str, Any]:
    return view.model_dump(by_alias=True, mode="json", exclude_none=True)


@router.get("/vnf_packages/{package_id}", **_VIEW)
async def get_vnf_package(
    request: Request, scope: RequestScope, response: Response, package_id: str
) -> VnfPkgInfo:
    """The package, with its ``ETag`` (for ``If-Match`` on a ``PATCH``)."""
    packages = packages_of(request)
    view = await _view(packages, await packages.get(package_id, scope), scope)
    response.headers["ETag"] = etag_of(_document(view))
    return view


@router.put(
    "/vnf_packages/{package_id}/package_content",
    status_code=204,
    response_class=Response,
    openapi_extra=_ZIP_BODY,
    responses=_PROBLEMS,
)
async def upload_vnf_package_content(
    request: Request, scope: RequestScope, package_id: str
) -> Response:
    """Onboard the package's CSAR; a refused package stays CREATED with nothing stored.

    Onboarding is done when the answer comes (SOL005's synchronous mode): 204
    without a body; the VnfPkgInfo, now ONBOARDED, is read with a GET.
    """
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in _ZIP_TYPES | _TAR_TYPES:
        raise UnsupportedContent(
            f"a VNF package is uploaded as application/zip (a SOL004 CSAR, or a zipped Open "
            f"Baton package) or application/x-tar (an Open Baton package), not {media!r}"
        )
    packages = packages_of(request)
    await packages.get(package_id, scope)  # 404 before reading a large body for nothing
    data = await read_body(request)
    if not data:
        raise BadRequest("the request body must be the package's CSAR (a zip archive)")
    await packages.upload(package_id, data, scope)
    return Response(status_code=204)


class UploadVnfPkgFromUriRequest(_Camel):
    """SOL005 ``UploadVnfPkgFromUriRequest``: where to fetch the package from."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)

    address_information: str
    user_name: str | None = None
    password: str | None = Field(None, repr=False)


class PackageFetchDisabled(NuboError):
    code = "PACKAGE_FETCH_DISABLED"
    status = 503
    title = "VNF package fetching is not running"


@router.post(
    "/vnf_packages/{package_id}/package_content/upload_from_uri",
    status_code=202,
    response_class=Response,
    responses=_PROBLEMS,
)
async def upload_vnf_package_from_uri(
    request: Request,
    scope: RequestScope,
    package_id: str,
    body: Annotated[UploadVnfPkgFromUriRequest, Body()],
) -> Response:
    """Fetch the package's CSAR from a URI of an allowed host, then onboard it as an upload.

    202 once the URI is accepted; the package becomes ONBOARDED when its content
    is onboarded, or stays CREATED with ``nuboOnboardingFailure`` saying why not.
    """
    fetcher: Any = getattr(request.app.state.services, "fetcher", None)
    if not isinstance(fetcher, PackageFetcher):
        raise PackageFetchDisabled("this orchestrator runs without fetching VNF packages")
    await fetcher.start(package_id, body.address_information, body.user_name, body.password, scope)
    return Response(status_code=202)


@router.get(
    "/vnf_packages/{package_id}/package_content",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}, **_PROBLEMS},
)
async def get_vnf_package_content(
    request: Request, scope: RequestScope, package_id: str
) -> Response:
    """The CSAR as uploaded; a ``Range`` of it is answered 206."""
    archive = await packages_of(request).content(package_id, scope)
    return content_response(request, archive, "application/zip")


@router.get(
    "/vnf_packages/{package_id}/vnfd",
    response_class=PlainTextResponse,
    responses={200: {"content": {"text/plain": {}}}, **_PROBLEMS},
)
async def get_vnfd(request: Request, scope: RequestScope, package_id: str) -> PlainTextResponse:
    return PlainTextResponse(await packages_of(request).vnfd(package_id, scope))


@router.get(
    "/vnf_packages/{package_id}/artifacts/{artifact_path:path}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}, **_PROBLEMS},
)
async def get_artifact(
    request: Request, scope: RequestScope, package_id: str, artifact_path: str
) -> Response:
    """One file of the package; a ``Range`` of it is answered 206."""
    content = await packages_of(request).artifact(package_id, artifact_path, scope)
    media, _ = mimetypes.guess_type(artifact_path)
    return content_response(request, content, media or "application/octet-stream")


@router.patch(
    "/vnf_packages/{package_id}",
    response_model=VnfPkgInfoModifications,
    response_model_by_alias=True,
    response_model_exclude_none=True,
    responses=_PROBLEMS,
)
async def modify_vnf_package(
    request: Request,
    scope: RequestScope,
    package_id: str,
    response: Response,
    body: Annotated[VnfPkgInfoModifications, Body()],
) -> VnfPkgInfoModifications:
    """Enable or disable the package and/or merge-patch its userDefinedData.

    ``If-Match`` that names another than the current ``ETag``: 412. Setting the
    operational state it already has: 409 (SOL005 §9.4.3.3.4).
    """
    if body.operational_state is None and body.user_defined_data is None:
        raise BadRequest("give operationalState and/or userDefinedData to change")
    packages = packages_of(request)
    current = await packages.get(package_id, scope)
    check_if_match(
        request, etag_of(_document(await _view(packages, current, scope))), "the package"
    )
    if body.operational_state is not None and body.operational_state == current.operational_state:
        raise Conflict(
            f"VNF package {package_id} is {current.operational_state.value} already: "
            "operationalState changes nothing",
            field="operationalState",
        )
    changed = await packages.modify(
        package_id, body.operational_state, body.user_defined_data, scope
    )
    response.headers["ETag"] = etag_of(_document(await _view(packages, changed, scope)))
    return body


@router.delete("/vnf_packages/{package_id}", status_code=204, responses=_PROBLEMS)
async def delete_vnf_package(request: Request, scope: RequestScope, package_id: str) -> Response:
    await packages_of(request).delete(package_id, scope)
    return Response(status_code=204)
