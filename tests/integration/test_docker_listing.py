"""The Docker driver's server listing against a real engine: what it answers, and its cost.

A listing is one list call at rest; an inspect is asked only for what the
list cannot tell (see ``nubo.vim.docker.listing``). The cost is counted as
HTTP requests the driver's own engine connection sends.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from nubo.testing.requests import RequestCounter
from nubo.vim.docker import DockerVimDriver
from nubo.vim.docker.events import EventReader
from nubo.vim.port import LABEL_MANAGED, LABEL_SERVER, Server, ServerEvent, ServerStatus

pytestmark = pytest.mark.docker

IMAGE = "nubo/sipp-base:latest"


@pytest.fixture
async def requests_sent(docker_driver: DockerVimDriver) -> RequestCounter:
    return RequestCounter(await docker_driver._engine.api())


def _run(client: Any, ns_labels: dict[str, str], command: list[str], **extra: Any) -> Any:
    """A container labelled as a server nubo manages (and removed by ``ns_labels``)."""
    labels = {**ns_labels, LABEL_MANAGED: "true", LABEL_SERVER: str(uuid.uuid4())}
    return client.containers.run(
        IMAGE,
        command,
        name=f"nubo-test-ls-{uuid.uuid4().hex[:8]}",
        detach=True,
        labels=labels,
        **extra,
    )


async def _until(what: Callable[[], Awaitable[bool]], timeout: float, why: str) -> None:
    deadline = time.monotonic() + timeout
    while not await what():
        if time.monotonic() > deadline:
            raise AssertionError(f"{why}: not within {timeout} s")
        await asyncio.sleep(0.05)


def _by_id(servers: list[Server]) -> dict[str, Server]:
    return {s.ext_id: s for s in servers}


async def test_a_listing_at_rest_is_one_request_and_an_end_costs_one_inspect(
    docker_driver: DockerVimDriver,
    ns_labels: dict[str, str],
    docker_client: Any,
    requests_sent: RequestCounter,
) -> None:
    boxes = [
        await asyncio.to_thread(_run, docker_client, ns_labels, ["sleep", "600"]) for _ in range(4)
    ]
    # a new driver (as after an orchestrator restart) asks each container once for its metadata
    listed, sent = await requests_sent.of(docker_driver.list_servers(ns_labels))
    assert sent == 1 + len(boxes)
    assert {s.status for s in listed} == {ServerStatus.RUNNING} and len(listed) == len(boxes)
    listed, sent = await requests_sent.of(docker_driver.list_servers(ns_labels))
    assert sent == 1 and len(listed) == len(boxes)
    server_id = boxes[0].labels[LABEL_SERVER]
    got, sent = await requests_sent.of(docker_driver.get_server(server_id))
    assert sent == 1 and got.ext_id == boxes[0].id and got.status is ServerStatus.RUNNING

    await asyncio.to_thread(boxes[0].kill)
    await asyncio.to_thread(boxes[0].wait, timeout=10)

    async def listed_failed() -> bool:
        servers = _by_id(await docker_driver.list_servers(ns_labels))
        return servers[boxes[0].id].status is ServerStatus.FAILED

    await _until(listed_failed, 5, "the killed container is not listed FAILED")
    listed, sent = await requests_sent.of(docker_driver.list_servers(ns_labels))
    killed = _by_id(listed)[boxes[0].id]
    assert sent == 1  # how it ended was asked once, and is kept
    assert killed.status is ServerStatus.FAILED and killed.detail == "exit code 137"

    # started again behind nubo's back, then removed: each listing tells it at once
    await asyncio.to_thread(boxes[0].start)
    await _until(
        lambda: _status_is(docker_driver, ns_labels, boxes[0].id, ServerStatus.RUNNING),
        5,
        "the restarted container is not listed RUNNING",
    )
    await asyncio.to_thread(boxes[1].remove, force=True)
    listed, sent = await requests_sent.of(docker_driver.list_servers(ns_labels))
    assert sent == 1 and boxes[1].id not in _by_id(listed) and len(listed) == len(boxes) - 1


async def _status_is(
    driver: DockerVimDriver, labels: dict[str, str], container_id: str, status: ServerStatus
) -> bool:
    server = _by_id(await driver.list_servers(labels)).get(container_id)
    return server is not None and server.status is status


async def test_an_oom_killed_container_is_listed_as_such(
    docker_driver: DockerVimDriver, ns_labels: dict[str, str], docker_client: Any
) -> None:
    box = await asyncio.to_thread(
        _run,
        docker_client,
        ns_labels,
        ["-c", "head -c 300000000 /dev/zero | tail"],
        entrypoint=["sh"],
        mem_limit="8m",
        memswap_limit="8m",
    )
    await asyncio.to_thread(box.wait, timeout=30)
    # nobody follows events here: the engine's list may say running a little longer
    await _until(
        lambda: _status_is(docker_driver, ns_labels, box.id, ServerStatus.FAILED),
        5,
        "the OOM killed container is not listed FAILED",
    )
    [server] = await docker_driver.list_servers(ns_labels)
    assert "OOM killed" in server.detail, server.detail


@contextlib.asynccontextmanager
async def _following(driver: DockerVimDriver) -> AsyncIterator[asyncio.Queue[ServerEvent]]:
    """The driver's events, on a queue, from a subscription the engine has accepted."""
    queue: asyncio.Queue[ServerEvent] = asyncio.Queue()

    async def consume() -> None:
        async with contextlib.aclosing(driver.events()) as events:
            async for event in events:
                queue.put_nowait(event)

    task = asyncio.create_task(consume())
    try:

        async def subscribed() -> bool:
            readers = [t for t in threading.enumerate() if isinstance(t, EventReader)]
            return len(readers) == 1 and readers[0].subscribed

        await _until(subscribed, 5, "the engine did not accept the subscription")
        yield queue
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_listing_right_after_an_event_agrees_with_the_event(
    docker_driver: DockerVimDriver, ns_labels: dict[str, str], docker_client: Any
) -> None:
    """Engine 20.10's list still says running when ``die`` arrives; the listing must not."""
    async with _following(docker_driver) as events:
        for _ in range(3):
            box = await asyncio.to_thread(_run, docker_client, ns_labels, ["sleep", "600"])
            server_id = box.labels[LABEL_SERVER]
            # listed once while it runs, as at rest: the driver knows all the list cannot tell
            assert (await docker_driver.get_server(server_id)).status is ServerStatus.RUNNING
            # not awaited: the kill call answers only once the engine is done with the exit
            killing = asyncio.create_task(asyncio.to_thread(box.kill))
            try:
                while True:
                    event = await asyncio.wait_for(events.get(), 10)
                    if event.server_id == server_id and event.status is ServerStatus.FAILED:
                        break
                # as the fault watcher does on each event: look at the servers at once
                listed = _by_id(await docker_driver.list_servers(ns_labels))
            finally:
                await killing
            assert listed[box.id].status is ServerStatus.FAILED, listed[box.id]
            assert (await docker_driver.get_server(server_id)).status is ServerStatus.FAILED
