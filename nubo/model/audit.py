"""AuditEvent: one mutating call of the API, as the audit trail keeps it.

Who called (a user, an API client, or nobody with a valid token), in which
project, what (method, the route's template and the path), what it gave
(status, and the resource a creation made), and when. Nothing of the request
or response body is kept: no password, token or secret value can reach the
trail. The token route names the user or client that asked (``actor``) even
when the answer is a refusal, so failed logins are in the trail too.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class ActorKind(StrEnum):
    USER = "user"
    CLIENT = "client"
    #: no valid token: refused calls, and token requests (``actor`` is who asked)
    ANONYMOUS = "anonymous"


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"  # 1xx-3xx
    REFUSED = "refused"  # 4xx: the caller's request or rights
    FAILED = "failed"  # 5xx, or no answer at all


def outcome_of(status: int) -> Outcome:
    if status >= 500 or status == 0:
        return Outcome.FAILED
    return Outcome.REFUSED if status >= 400 else Outcome.SUCCEEDED


class AuditEvent(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int = 0
    #: seconds since the epoch, when the answer was complete
    time: float
    actor: str = Field(description="the user's or client's name; who asked, for a token")
    actor_id: str = ""
    actor_kind: ActorKind
    #: the caller's project (its token's); None without a token
    project_id: str | None = None
    method: str
    #: the route as the OpenAPI document writes it; the path when none matched
    route: str
    path: str
    status: int
    outcome: Outcome
    #: what a creation made (its Location), else empty
    resource: str = ""
    address: str = ""
    duration_ms: float = 0.0
    replica: str = ""
