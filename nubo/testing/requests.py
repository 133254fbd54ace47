"""Counting the requests a Docker SDK client sends: what a listing or a call costs."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any


class RequestCounter:
    """Counts the HTTP requests a docker-py ``APIClient`` (a requests session) sends."""

    def __init__(self, api: Any) -> None:
        self.count = 0
        api.hooks["response"].append(self._seen)

    def _seen(self, response: Any, *args: Any, **kwargs: Any) -> Any:
        self.count += 1
        return response

    async def of(self, call: Awaitable[Any]) -> tuple[Any, int]:
        """The result of ``call`` and the number of requests it sent."""
        before = self.count
        result = await call
        return result, self.count - before
