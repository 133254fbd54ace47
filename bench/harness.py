"""What every benchmark run needs: bounded polling, terminating through nubo, and
clean-up by the NS label."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

import docker
import docker.errors

from nubo.app import Nubo
from nubo.model.errors import Conflict, NotFound
from nubo.vim.port import LABEL_NS

T = TypeVar("T")


async def poll(probe: Callable[[], Awaitable[T | None]], timeout: float, every: float) -> T | None:
    """Call ``probe`` every ``every`` seconds until it answers non-None, at most ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        got = await probe()
        if got is not None or time.monotonic() >= deadline:
            return got
        await asyncio.sleep(every)


async def terminate_all(app: Nubo, ns_ids: list[str], report: bool = False) -> None:
    """Terminate the NSs through nubo, retrying (bounded) while an operation holds one."""
    for nsr_id in ns_ids:
        for _ in range(30):
            try:
                op = await app.ns.terminate(nsr_id)
            except Conflict:
                await asyncio.sleep(1)
                continue
            except NotFound:
                break
            done = await app.runner.wait(op.id, timeout=60)
            if report:
                print(f"terminated NS {nsr_id}: {done.state.value}", flush=True)
            break


def remove_by_label(client: docker.DockerClient, nsr_id: str) -> list[str]:
    """Force-remove what still carries the NS's label; the names of what was found."""
    label = f"{LABEL_NS}={nsr_id}"
    found = []
    for box in client.containers.list(all=True, filters={"label": label}):
        found.append(f"container {box.name}")
        with contextlib.suppress(docker.errors.NotFound):
            box.remove(force=True)
    for net in client.networks.list(filters={"label": label}):
        found.append(f"network {net.name}")
        with contextlib.suppress(docker.errors.NotFound):
            net.remove()
    return found


def sweep_leftovers(nsr_ids: list[str]) -> None:
    """After a run: remove, and report, whatever its NSs left behind on Docker."""
    client = docker.from_env()
    try:
        for nsr_id in nsr_ids:
            left = remove_by_label(client, nsr_id)
            if left:
                print(f"WARNING: removed by label after terminate: {left}")
    finally:
        client.close()
