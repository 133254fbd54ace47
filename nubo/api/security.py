"""Authentication on every request, and the one check of the permission table.

Authentication is an ASGI middleware: before routing, a request to anything
but the public paths must carry a valid bearer token (RFC 6750), else it is
answered 401 with ``WWW-Authenticate: Bearer`` -- whatever its path or body,
so an anonymous caller learns nothing of which routes or records exist.
Authorisation is one dependency of the whole application: it looks the
matched operation up in ``PERMISSIONS`` and answers 403 when the caller's
role does not reach it. Routes read the caller with ``Depends(caller)``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.routing import APIRoute
from starlette.types import ASGIApp, Receive, Scope, Send

from nubo.api.permissions import PERMISSIONS, PUBLIC, allowed, public_paths
from nubo.api.problems import error_response
from nubo.auth.tokens import TokenService
from nubo.model.errors import Forbidden, Unauthorized
from nubo.model.identity import Principal

log = logging.getLogger("nubo.api")

#: where the middleware leaves the caller in the ASGI scope
PRINCIPAL_KEY = "nubo.principal"


class Authentication:
    """ASGI middleware: a valid bearer token or 401, before any route is looked at."""

    def __init__(self, app: ASGIApp, tokens: Callable[[], TokenService]) -> None:
        self.app = app
        self._tokens = tokens
        self._public = public_paths()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self._public:
            await self.app(scope, receive, send)
            return
        try:
            token = bearer_token(scope)
            scope[PRINCIPAL_KEY] = await self._tokens().verify(token)
        except Unauthorized as exc:
            await error_response(exc, scope["path"])(scope, receive, send)
            return
        await self.app(scope, receive, send)


def bearer_token(scope: Scope) -> str:
    """The token of the ``Authorization: Bearer`` header; ``Unauthorized`` without one."""
    for key, value in scope.get("headers", []):
        if key == b"authorization":
            text: str = value.decode("latin-1")
            scheme, _, token = text.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise Unauthorized(
                    "the Authorization header must be 'Bearer <token>'", error="invalid_request"
                )
            return token.strip()
    raise Unauthorized("a bearer token is required: get one from POST /oauth/token (nubo login)")


async def authorize(request: Request) -> None:
    """The permission table's decision for the matched operation (a dependency of every route)."""
    route = request.scope.get("route")
    path = template(route.path) if isinstance(route, APIRoute) else request.url.path
    access = PERMISSIONS.get((request.method, path))
    principal = request.scope.get(PRINCIPAL_KEY)
    if access is None:
        log.error("api.no_permission method=%s route=%s", request.method, path)
        raise Forbidden(f"no permission is defined for {request.method} {path}")
    if allowed(access, principal, dict(request.path_params)):
        return
    if principal is None:
        raise Unauthorized("a bearer token is required")
    raise Forbidden(
        f"{request.method} {path} needs {access.value}; the caller is "
        f"{principal.role.value} in its project",
        needed=access.value,
        role=principal.role.value,
    )


def template(path: str) -> str:
    """A route's path as the OpenAPI document writes it (``{p:path}`` is ``{p}``)."""
    return _CONVERTER.sub(r"{\1}", path)


_CONVERTER = re.compile(r"\{(\w+):\w+\}")


def caller(request: Request) -> Principal:
    """The authenticated caller of a request (the middleware put it there)."""
    principal = request.scope.get(PRINCIPAL_KEY)
    if not isinstance(principal, Principal):
        raise Unauthorized("a bearer token is required")
    return principal


def check_permissions(routes: Iterable[APIRoute]) -> None:
    """Refuse to build an API with a route the table does not cover, or the other way."""
    served = {(m, template(route.path)) for route in routes for m in route.methods or ()}
    missing = sorted(served - PERMISSIONS.keys())
    unused = sorted(PERMISSIONS.keys() - served)
    if missing or unused:
        raise RuntimeError(
            f"the permission table and the routes differ: no entry for {missing}; "
            f"no route for {unused}"
        )


def document_permissions(app: FastAPI) -> None:
    """Publish the table in the OpenAPI document: security and ``x-nubo-access`` per operation."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        _annotate(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


_PROBLEM = {"application/problem+json": {"schema": {"type": "object"}}}


def _annotate(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(
        {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            "oauth2": {
                "type": "oauth2",
                "flows": {
                    "password": {"tokenUrl": "/oauth/token", "scopes": {}},
                    "clientCredentials": {"tokenUrl": "/oauth/token", "scopes": {}},
                },
            },
        }
    )
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            access = PERMISSIONS.get((method.upper(), path))
            if access is None:
                continue
            operation["x-nubo-access"] = access.value
            responses = operation.setdefault("responses", {})
            if access is PUBLIC:
                operation["security"] = []
                continue
            operation["security"] = [{"bearer": []}, {"oauth2": []}]
            responses.setdefault(
                "401", {"description": "No valid bearer token", "content": _PROBLEM}
            )
            responses.setdefault(
                "403", {"description": f"The caller is not {access.value}", "content": _PROBLEM}
            )
