"""The audit trail of the API: a middleware that records every mutating call, and
``GET /api/v1/audit`` for administrators.

The middleware is the outermost one, so a call refused before any route (no
token: 401) is recorded too. It reads the caller from the ASGI scope, where
authentication left it, the status and the ``Location`` of the answer as it
is sent, and records the call once the answer is complete: the client never
waits for the trail. No body is read or kept. The token route names who asked
(``claim``), so failed logins are in the trail with the name they tried.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from nubo.api.metrics import parse_time
from nubo.api.security import PRINCIPAL_KEY, caller, template
from nubo.api.tenancy import RequestScope
from nubo.auth import Auth
from nubo.auth.audit import AuditTrail
from nubo.model.audit import ActorKind, AuditEvent, Outcome, outcome_of
from nubo.model.identity import Principal
from nubo.store.port import AuditQuery

#: the methods whose calls are recorded
AUDITED = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: where a route leaves the name of who asked, when no token tells it
CLAIMANT_KEY = "nubo.audit.claimant"


def claim(request: Request, name: str | None) -> None:
    """Name who a token request is for (the username or client id it gives)."""
    if name:
        request.scope[CLAIMANT_KEY] = name[:255]


class AuditRecorder:
    """ASGI middleware: each mutating call, once answered, goes to the trail."""

    def __init__(self, app: ASGIApp, trail: Callable[[], AuditTrail], replica: str = "") -> None:
        self.app = app
        self._trail = trail
        self.replica = replica

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in AUDITED:
            await self.app(scope, receive, send)
            return
        started, wall = time.monotonic(), time.time()
        answer: dict[str, object] = {"status": 0, "location": ""}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                for key, value in message.get("headers", []):
                    if key.lower() == b"location":
                        answer["location"] = value.decode("latin-1")
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            answer["status"] = answer["status"] or 500  # the server's error handler answers
            raise
        finally:
            status = answer["status"]
            assert isinstance(status, int)
            event = event_of(scope, status, str(answer["location"]), wall, started)
            await self._trail().record(event.model_copy(update={"replica": self.replica}))


def event_of(scope: Scope, status: int, location: str, wall: float, started: float) -> AuditEvent:
    principal = scope.get(PRINCIPAL_KEY)
    route = scope.get("route")
    path: str = scope["path"]
    client = scope.get("client")
    if isinstance(principal, Principal):
        actor, actor_id, project = principal.name, principal.subject, principal.project_id
        kind = ActorKind.CLIENT if principal.client else ActorKind.USER
    else:
        actor, actor_id, project = str(scope.get(CLAIMANT_KEY, "")), "", None
        kind = ActorKind.ANONYMOUS
    return AuditEvent(
        time=wall,
        actor=actor,
        actor_id=actor_id,
        actor_kind=kind,
        project_id=project,
        method=scope["method"],
        route=template(route.path) if isinstance(route, APIRoute) else path,
        path=path,
        status=status,
        outcome=outcome_of(status),
        resource=location,
        address=client[0] if client else "",
        duration_ms=round(1000 * (time.monotonic() - started), 3),
    )


# -- the listing ----------------------------------------------------------------------

router = APIRouter(tags=["audit"])

_TIME = "seconds since the epoch, an ISO 8601 time, or a duration back such as 1h"


class AuditEventView(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    id: int
    time: float
    actor: str
    actor_id: str
    actor_kind: ActorKind
    project_id: str | None
    method: str
    route: str
    path: str
    status: int
    outcome: Outcome
    resource: str
    address: str
    duration_ms: float
    replica: str


@router.get(
    "/api/v1/audit",
    response_model=list[AuditEventView],
    response_model_by_alias=True,
)
async def list_audit(
    request: Request,
    scope: RequestScope,
    _principal: Annotated[Principal, Depends(caller)],
    since: Annotated[str | None, Query(description=_TIME)] = None,
    until: Annotated[str | None, Query(description=_TIME)] = None,
    actor: Annotated[str | None, Query(max_length=255)] = None,
    method: Annotated[
        str | None, Query(pattern="^(POST|PUT|PATCH|DELETE|post|put|patch|delete)$")
    ] = None,
    outcome: Outcome | None = None,
    path: Annotated[
        str | None, Query(description="paths starting with this", max_length=2048)
    ] = None,
    before: Annotated[
        int | None, Query(alias="beforeId", ge=1, le=2**63 - 1, description="older than this id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditEventView]:
    """The project's mutating calls, newest first (``allProjects=true``: every project's,
    and the calls made without a valid token; system administrators only)."""
    now = time.time()
    query = AuditQuery(
        since=parse_time(since, now, "since"),
        until=parse_time(until, now, "until"),
        actor=actor,
        method=method,
        outcome=outcome,
        path_prefix=path,
        before_id=before,
        limit=limit,
    )
    auth: Auth = request.app.state.services.auth
    events = await auth.audit.list(query, scope)
    return [AuditEventView.model_validate(event.model_dump()) for event in events]
