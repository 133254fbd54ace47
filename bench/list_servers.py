"""Cost of one server listing on the Docker driver at N running containers.

The fault watcher lists every managed server of a VIM once a second, so what
one ``list_servers`` costs is a standing cost of every running service. This
starts N small containers (``sleep`` in ``nubo/sipp-base``) labelled as servers
nubo manages, then counts the Docker API requests and the wall time of
``list_servers`` and ``get_server``, next to a baseline measured in the same
run: the same containers seen with plain SDK calls as one list and one inspect
per container (what the driver once did).
Everything it creates carries one NS label and is removed by it, also on
failure.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import docker
from harness import remove_by_label

from nubo.testing.requests import RequestCounter
from nubo.vim.docker import DockerVimDriver
from nubo.vim.port import LABEL_MANAGED, LABEL_NS, LABEL_SERVER, VimConfig

IMAGE = "nubo/sipp-base:latest"


async def measure(
    counter: RequestCounter, call: Callable[[], Awaitable[Any]], runs: int
) -> tuple[float, float]:
    """Median wall time (ms) and requests per call of ``call`` over ``runs`` calls."""
    times = []
    before = counter.count
    for _ in range(runs):
        started = time.perf_counter()
        await call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), (counter.count - before) / runs


def start_servers(client: docker.DockerClient, labels: dict[str, str], n: int) -> list[str]:
    """N containers running ``sleep`` with the labels of servers nubo manages; their server ids."""
    ids = [str(uuid.uuid4()) for _ in range(n)]

    def run(server_id: str) -> None:
        client.containers.run(
            IMAGE,
            ["sleep", "600"],
            name=f"nubo-bench-{server_id[:8]}",
            detach=True,
            labels={**labels, LABEL_MANAGED: "true", LABEL_SERVER: server_id},
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(run, ids))
    return ids


async def main(n: int, runs: int) -> None:
    client = docker.from_env()
    ns_id = f"bench-{uuid.uuid4().hex[:8]}"
    labels = {LABEL_NS: ns_id}
    config = VimConfig(id="bench", name="bench", type="docker", subnet_pool="10.139.0.0/16")
    driver = DockerVimDriver(config)
    try:
        ids = await asyncio.to_thread(start_servers, client, labels, n)
        counter = RequestCounter(await driver._engine.api())  # the driver's own connection
        wanted = {LABEL_MANAGED: "true", LABEL_NS: ns_id}

        async def via_driver() -> None:
            servers = await driver.list_servers(wanted)
            assert len(servers) == n, len(servers)

        async def via_sdk() -> None:
            filters = {"label": [f"{k}={v}" for k, v in wanted.items()]}
            listed = await asyncio.to_thread(client.api.containers, all=True, filters=filters)
            await asyncio.gather(
                *(asyncio.to_thread(client.api.inspect_container, c["Id"]) for c in listed)
            )

        sdk_counter = RequestCounter(client.api)
        cold_ms, cold_calls = await measure(counter, via_driver, 1)  # a driver's first listing
        list_ms, list_calls = await measure(counter, via_driver, runs)
        get_ms, get_calls = await measure(counter, lambda: driver.get_server(ids[0]), runs)
        base_ms, base_calls = await measure(sdk_counter, via_sdk, runs)
        print(f"running servers: {n}, runs: {runs}")
        print(f"first list_servers of a new driver: {cold_calls:.0f} requests, {cold_ms:.1f} ms")
        print(f"list_servers: {list_calls:.1f} requests, median {list_ms:.1f} ms")
        print(f"get_server:   {get_calls:.1f} requests, median {get_ms:.1f} ms")
        print(
            f"baseline (list + inspect each, plain SDK): {base_calls:.1f} requests, "
            f"median {base_ms:.1f} ms"
        )
        print(
            f"ratio list_servers / baseline: requests {list_calls / base_calls:.2f}, "
            f"time {list_ms / base_ms:.2f}"
        )
    finally:
        await driver.close()
        await asyncio.to_thread(remove_by_label, client, ns_id)
        client.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=30)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.servers, args.runs))
