"""RFC 9457 problem details: the one place errors become HTTP responses."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from nubo.model.errors import NuboError

log = logging.getLogger("nubo.api")

PROBLEM_JSON = "application/problem+json"

_HTTP_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "UNPROCESSABLE",
    429: "TOO_MANY_REQUESTS",
}


def problem_response(problem: dict[str, Any]) -> JSONResponse:
    return JSONResponse(problem, status_code=int(problem["status"]), media_type=PROBLEM_JSON)


def error_response(exc: NuboError, instance: str) -> JSONResponse:
    """The problem document of a nubo error, with the headers it needs (``Retry-After`` ...)."""
    response = problem_response(exc.to_problem(instance=instance))
    response.headers.update(exc.response_headers())
    return response


def install_problem_handlers(app: FastAPI) -> None:
    async def nubo_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, NuboError)
        return error_response(exc, request.url.path)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {
                "path": "$." + ".".join(str(p) for p in err.get("loc", ()) if p != "body"),
                "message": str(err.get("msg", "")),
            }
            for err in exc.errors()
        ]
        detail = "; ".join(f"{e['path']}: {e['message']}" for e in errors[:5])
        return problem_response(
            {
                "type": "https://nubo.dev/problems/bad-request",
                "title": "Bad request",
                "status": 400,
                "detail": detail or "the request is not valid",
                "code": "BAD_REQUEST",
                "instance": request.url.path,
                "errors": errors,
            }
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        code = _HTTP_CODES.get(exc.status_code, "HTTP_ERROR")
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"no resource at {request.url.path}"
        return problem_response(
            {
                "type": f"https://nubo.dev/problems/{code.lower().replace('_', '-')}",
                "title": detail if exc.status_code != 404 else "Not found",
                "status": exc.status_code,
                "detail": detail,
                "code": code,
                "instance": request.url.path,
            }
        )

    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        # the exception's text may carry anything (a secret, a token, a record): it goes to
        # the log under an id, and the caller gets only the id to quote
        error_id = uuid.uuid4().hex
        log.error(
            "api.unexpected error_id=%s method=%s path=%s",
            error_id,
            request.method,
            request.url.path,
            exc_info=exc,
        )
        return problem_response(
            {
                "type": "https://nubo.dev/problems/internal",
                "title": "Internal error",
                "status": 500,
                "detail": f"an internal error occurred; the server's log has it as {error_id}",
                "code": "INTERNAL",
                "instance": request.url.path,
                "errorId": error_id,
            }
        )

    app.add_exception_handler(NuboError, nubo_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
