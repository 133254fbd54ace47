"""nubo's error hierarchy.

Every error has a stable machine-readable ``code``, an HTTP ``status`` and a
``title``; the API renders them as RFC 9457 problem details and a failed LCM
operation occurrence stores the same rendering, so users see one shape of
error everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass(frozen=True)
class FieldProblem:
    """One problem found in an input document, located by its JSON path."""

    path: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class NuboError(Exception):
    """Base of every error nubo raises on purpose."""

    code: ClassVar[str] = "NUBO_ERROR"
    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal error"
    #: temporary errors may succeed when retried later
    temporary: ClassVar[bool] = False

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra: dict[str, Any] = extra

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """The RFC 9457 problem-details rendering of this error."""
        problem: dict[str, Any] = {
            "type": f"https://nubo.dev/problems/{self.code.lower().replace('_', '-')}",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
        }
        if instance:
            problem["instance"] = instance
        problem.update(self.extra)
        if self.__cause__ is not None and "cause" not in problem:
            problem["cause"] = _truncate(f"{type(self.__cause__).__name__}: {self.__cause__}")
        return problem

    def response_headers(self) -> dict[str, str]:
        """HTTP headers the answer carrying this error needs (``WWW-Authenticate`` ...)."""
        return {}


def _truncate(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


class NotFound(NuboError):
    code = "NOT_FOUND"
    status = 404
    title = "Not found"


class Conflict(NuboError):
    code = "CONFLICT"
    status = 409
    title = "Conflict"


class Busy(Conflict):
    """The NS is held by another operation (on this or another replica); retry later."""

    code = "BUSY"
    title = "Network service busy"
    temporary = True


class StaleRecord(Conflict):
    """A record changed since it was read: the write named a version that is gone."""

    code = "STALE_RECORD"
    title = "Record changed concurrently"
    temporary = True


class IllegalTransition(Conflict):
    code = "ILLEGAL_STATE"
    title = "Operation not allowed in the current state"


class BadRequest(NuboError):
    code = "BAD_REQUEST"
    status = 400
    title = "Bad request"


class CallbackTestFailed(NuboError):
    """The callback URI did not answer the endpoint test (GET) with 204 No Content."""

    code = "CALLBACK_TEST_FAILED"
    status = 422
    title = "The notification endpoint test failed"


class NotSupported(NuboError):
    """A part of a SOL005 request that nubo does not implement."""

    code = "NOT_SUPPORTED"
    status = 422
    title = "Not supported"


class PayloadTooLarge(NuboError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413
    title = "Payload too large"


class Forbidden(NuboError):
    code = "FORBIDDEN"
    status = 403
    title = "Forbidden"


class InvalidDescriptor(NuboError):
    """A descriptor that cannot be onboarded; ``problems`` lists every reason."""

    code = "INVALID_DESCRIPTOR"
    status = 422
    title = "Invalid descriptor"

    def __init__(self, problems: list[FieldProblem], detail: str | None = None) -> None:
        self.problems = list(problems)
        summary = detail or "; ".join(f"{p.path}: {p.message}" for p in self.problems[:5])
        if len(self.problems) > 5:
            summary += f"; and {len(self.problems) - 5} more"
        super().__init__(summary, errors=[p.as_dict() for p in self.problems])


class InvalidDatabaseUrl(NuboError):
    """A database URL nubo cannot use (not a URL, or neither SQLite nor PostgreSQL)."""

    code = "INVALID_DATABASE_URL"
    status = 500
    title = "Invalid database URL"


class DatabaseUnavailable(NuboError):
    """The database did not answer (server down, wrong host, port or credentials)."""

    code = "DATABASE_UNAVAILABLE"
    status = 503
    title = "Database unavailable"
    temporary = True


class VimError(NuboError):
    """The VIM refused or failed a request; the SDK error is chained as cause."""

    code = "VIM_ERROR"
    status = 502
    title = "VIM error"


class LifecycleScriptFailed(NuboError):
    """A VNF package's lifecycle script ended with a non-zero exit code in its VNFC."""

    code = "LIFECYCLE_SCRIPT_FAILED"
    status = 422
    title = "Lifecycle script failed"


class VimUnreachable(VimError):
    code = "VIM_UNREACHABLE"
    status = 503
    title = "VIM unreachable"
    temporary = True


class VimTimeout(VimError):
    code = "VIM_TIMEOUT"
    status = 504
    title = "VIM operation timed out"
    temporary = True


class ImageNotFound(VimError):
    code = "IMAGE_NOT_FOUND"
    status = 422
    title = "Image not found on the VIM"


class QuotaExceeded(VimError):
    code = "QUOTA_EXCEEDED"
    status = 409
    title = "VIM resources exhausted"


@dataclass
class ErrorInfo:
    """A serialisable snapshot of an error, stored on LCM operation occurrences."""

    problem: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, exc: BaseException) -> ErrorInfo:
        if isinstance(exc, NuboError):
            return cls(exc.to_problem())
        return cls(
            {
                "title": "Internal error",
                "status": 500,
                "code": "INTERNAL",
                "detail": _truncate(f"{type(exc).__name__}: {exc}"),
            }
        )


class Unauthorized(NuboError):
    """No valid bearer token: missing, malformed, expired, revoked (RFC 6750 ``invalid_token``)."""

    code = "UNAUTHORIZED"
    status = 401
    title = "Authentication required"

    def response_headers(self) -> dict[str, str]:
        if self.extra.get("error"):
            return {"WWW-Authenticate": f'Bearer error="{self.extra["error"]}"'}
        return {"WWW-Authenticate": "Bearer"}


class InvalidGrant(NuboError):
    """The token endpoint refused the credentials or the grant (RFC 6749 §5.2)."""

    code = "INVALID_GRANT"
    status = 400
    title = "Invalid grant"


class InvalidClient(NuboError):
    """The token endpoint refused an API client's id or secret (RFC 6749 §5.2)."""

    code = "INVALID_CLIENT"
    status = 401
    title = "Invalid client"

    def response_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Basic realm="nubo"'}


class TooManyRequests(NuboError):
    """Too many requests of one kind from one caller; ``retry_after`` says when to retry."""

    code = "TOO_MANY_REQUESTS"
    status = 429
    title = "Too many requests"
    temporary = True

    def __init__(self, detail: str, retry_after: int, **extra: Any) -> None:
        super().__init__(detail, retryAfter=retry_after, **extra)
        self.retry_after = retry_after

    def response_headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}
