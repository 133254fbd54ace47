"""One Docker Engine connection, with every SDK call wrapped into nubo's VimError family.

The Docker driver and its network manager share a connection and the same
error boundary, so the plumbing lives here rather than in either of them.
The low-level ``APIClient`` is used on purpose: the high-level SDK objects
re-inspect after every create, which costs a round-trip per call. Blocking
SDK calls run in a worker thread.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import docker
import docker.errors
import requests.exceptions

from nubo.model.errors import ImageNotFound, VimError
from nubo.vim.docker.payloads import wrap_error

T = TypeVar("T")

DEFAULT_ENDPOINT = "unix:///var/run/docker.sock"
#: threads for engine calls (docker-py's connection pool holds 10 connections)
ENGINE_WORKERS = 10
#: how long close() waits for calls already running in the engine
CLOSE_TIMEOUT = 30.0

log = logging.getLogger("nubo.vim")


async def gather_all(*calls: Awaitable[Any]) -> list[Any]:
    """Run calls concurrently; on the first error cancel the rest and raise that error.

    Unlike ``asyncio.gather``, no sibling is left running after a failure.
    """

    async def wrap(call: Awaitable[Any]) -> Any:
        return await call

    try:
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(wrap(call)) for call in calls]
    except* Exception as errors:
        raise errors.exceptions[0] from None
    return [task.result() for task in tasks]


class DockerEngine:
    """A lazily opened Docker Engine client at ``endpoint`` (default the local socket)."""

    def __init__(self, endpoint: str, api_timeout: float) -> None:
        self._endpoint = endpoint or DEFAULT_ENDPOINT
        self._api_timeout = api_timeout
        self._client: Any = None
        self._client_lock = asyncio.Lock()
        # our own threads, so that close() can wait for calls already handed to
        # the engine: a cancelled caller does not stop its thread, and a
        # container created after shutdown would be left behind unrecorded
        self._executor = ThreadPoolExecutor(ENGINE_WORKERS, thread_name_prefix="nubo-docker")

    async def api(self) -> Any:
        """The low-level ``APIClient``, connecting on first use."""
        if self._client is None:
            async with self._client_lock:
                if self._client is None:
                    self._client = await self.run(
                        "connect",
                        docker.DockerClient,
                        base_url=self._endpoint,
                        version="auto",
                        timeout=self._api_timeout,
                    )
        return self._client.api

    async def run(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a blocking SDK call in a thread; ``_image`` names the image for errors."""
        image = str(kwargs.pop("_image", ""))
        try:
            call = functools.partial(fn, *args, **kwargs)
            return await asyncio.get_running_loop().run_in_executor(self._executor, call)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            raise wrap_error(exc, what, image) from exc

    async def call(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call an ``APIClient`` method by name; ``what`` describes it in errors."""
        api = await self.api()
        return await self.run(what, getattr(api, method), *args, **kwargs)

    async def call_or_none(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        """Like ``call`` but a 404 answers None (things already gone are fine)."""
        try:
            return await self.call(what, method, *args, **kwargs)
        except VimError as exc:
            if isinstance(exc, ImageNotFound) or exc.extra.get("status_code") == 404:
                return None
            raise

    async def close(self) -> None:
        """Wait (bounded) for calls still running in the engine's threads, then disconnect."""
        executor = self._executor
        finished = asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
        try:
            await asyncio.wait_for(finished, CLOSE_TIMEOUT)
        except TimeoutError:
            log.warning("docker.close_timeout seconds=%s", CLOSE_TIMEOUT)
        self._executor = ThreadPoolExecutor(ENGINE_WORKERS, thread_name_prefix="nubo-docker")
        if self._client is not None:
            client, self._client = self._client, None
            await asyncio.to_thread(client.close)
