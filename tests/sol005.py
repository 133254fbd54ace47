"""In-process HTTP clients of nubo's API as a SOL005 client talks to it.

Every client here names the SOL005 API version it speaks (the ``Version``
header SOL013 §4.6 requires), so the tests exercise the API the way a
standard client does; a test of the negotiation itself sends its own headers.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

#: the version every SOL005 API of nubo serves (``nubo.api.versions``)
SOL005_VERSION = "1.2.0"


@contextlib.asynccontextmanager
async def asgi_client(api: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of an ASGI app, in process (no socket), speaking SOL005's version."""
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(
        transport=transport, base_url="http://nubo", headers={"Version": SOL005_VERSION}
    ) as client:
        yield client
