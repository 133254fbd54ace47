"""In-process HTTP clients of nubo's API as a SOL005 client talks to it.

Every client here names the SOL005 API version it speaks (the ``Version``
header SOL013 §4.6 requires), so the tests exercise the API the way a
standard client does; a test of the negotiation itself sends its own headers.
Every SOL005 answer these clients receive is checked against ETSI's JSON
Schemas (``tests.sol005_schemas``): a test whose request got an answer that
violates its schema fails with the violations.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from tests.sol005_schemas import check_response

#: the version every SOL005 API of nubo serves (``nubo.api.versions``)
SOL005_VERSION = "1.2.0"


class CheckedTransport(httpx.ASGITransport):
    """An in-process transport that checks each SOL005 answer against its schema."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await super().handle_async_request(request)
        body = await answer.aread()
        status, headers, params = answer.status_code, answer.headers, dict(request.url.params)
        check_response(request.method, request.url.path, status, headers, body, params)
        return httpx.Response(
            answer.status_code, headers=answer.headers, content=body, request=request
        )


@contextlib.asynccontextmanager
async def asgi_client(
    api: Any, *, version: str | None = SOL005_VERSION, token: str | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of an ASGI app, in process (no socket), speaking SOL005's version.

    With ``token`` every request carries it as its bearer token.
    """
    headers = {"Version": version} if version is not None else {}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(
        transport=CheckedTransport(app=api), base_url="http://nubo", headers=headers
    ) as client:
        yield client
