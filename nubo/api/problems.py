"""RFC 9457 problem details: the one place errors become HTTP responses."""

from __future__ import annotations

import logging
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
}


def problem_response(problem: dict[str, Any]) -> JSONResponse:
    return JSONResponse(problem, status_code=int(problem["status"]), media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    async def nubo_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, NuboError)
        return problem_response(exc.to_problem(instance=request.url.path))

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
        log.exception("api.unexpected path=%s", request.url.path)
        return problem_response(
            {
                "type": "https://nubo.dev/problems/internal",
                "title": "Internal error",
                "status": 500,
                "detail": f"{type(exc).__name__}: {str(exc)[:300]}",
                "code": "INTERNAL",
                "instance": request.url.path,
            }
        )

    app.add_exception_handler(NuboError, nubo_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
