"""SOL013 version negotiation for the SOL005 APIs: the ``Version`` header and ``api_versions``.

A SOL005 client names the API version it speaks in a ``Version`` request
header and reads the version the answer follows from the ``Version`` response
header (GS NFV-SOL 013 §4.6). Without the header a request is malformed (400);
with a version nubo does not serve it cannot be answered as asked (406). Both
answers are problem documents that list the versions served, so a client can
correct itself without reading the GS. ``api_versions`` (SOL013 §9.3) answers
without a ``Version`` header: it is how a client learns what to send.

The check is one ASGI middleware rather than a dependency per route so that
every answer under the SOL005 prefixes carries the header, problem documents
raised anywhere (404 of an unknown path, 422 of a bad body) included.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nubo.api.problems import problem_response
from nubo.api.versions import SOL005_APIS, Sol005Api, api_of


def _negotiation_problem(api: Sol005Api, requested: str | None, path: str) -> dict[str, object]:
    served = ", ".join(api.versions)
    if requested is None:
        status, code, title = 400, "VERSION_MISSING", "Version header missing"
        detail = (
            f"a request to the {api.name} API must name the API version it speaks in a "
            f"'Version' header (GS NFV-SOL 013 §4.6); this API serves {served}"
        )
    else:
        status, code, title = 406, "VERSION_NOT_SUPPORTED", "API version not supported"
        detail = (
            f"the {api.name} API does not serve version {requested!r}; it serves {served} "
            f"(see {api.prefix}/api_versions)"
        )
    return {
        "type": f"https://nubo.dev/problems/{code.lower().replace('_', '-')}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": path,
        "supportedVersions": list(api.versions),
    }


class VersionNegotiation:
    """ASGI middleware: check the request's ``Version``, put ``Version`` on every answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        api = api_of(scope["path"]) if scope["type"] == "http" else None
        if api is None:
            await self.app(scope, receive, send)
            return
        header = api.current.encode()

        async def send_with_version(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k != b"version"]
                message = {**message, "headers": [*headers, (b"version", header)]}
            await send(message)

        if not _is_api_versions(api, scope["path"]):
            requested = _header(scope, b"version")
            if requested not in api.versions:
                problem = _negotiation_problem(api, requested, scope["path"])
                await problem_response(problem)(scope, receive, send_with_version)
                return
        await self.app(scope, receive, send_with_version)


def _is_api_versions(api: Sol005Api, path: str) -> bool:
    return path.rstrip("/") in (f"/{api.name}/api_versions", f"{api.prefix}/api_versions")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            text: str = value.decode("latin-1").strip()
            return text
    return None


# -- api_versions ----------------------------------------------------------------------


class ApiVersion(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    version: str
    is_deprecated: bool = False


class ApiVersionInformation(BaseModel):
    """SOL013 §9.3.3: the URI prefix of an API's major version and the versions it serves."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    uri_prefix: str
    api_versions: list[ApiVersion] = Field(min_length=1)

    @classmethod
    def of(cls, api: Sol005Api) -> ApiVersionInformation:
        return cls(
            uri_prefix=api.prefix,
            api_versions=[ApiVersion(version=v) for v in api.versions],
        )


router = APIRouter(tags=["SOL005 API versions"])


def _add_api_versions_routes(api: Sol005Api) -> None:
    async def api_versions() -> ApiVersionInformation:
        return ApiVersionInformation.of(api)

    for path in (f"/{api.name}/api_versions", f"{api.prefix}/api_versions"):
        router.add_api_route(
            path,
            api_versions,
            methods=["GET"],
            response_model=ApiVersionInformation,
            response_model_by_alias=True,
            name=f"{api.name}_api_versions{'' if path.count('/') == 2 else '_major'}",
            summary=f"Versions of the {api.name} API",
        )


for _api in SOL005_APIS:
    _add_api_versions_routes(_api)
