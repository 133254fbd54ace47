"""What a VIM's calls cost: Docker's, measured, and the fake VIM's replay of them.

``measure_docker`` times nubo's own ``DockerVimDriver`` on the real engine for the
calls one instantiate and terminate of the SIPp NS make (and the two the
background loops make: ``list_servers``, ``server_stats``), a few repetitions,
everything labelled and removed by label. The medians become the per-call
delays of the fake VIM that ``load.py`` runs nubo on.

``measure_baseline`` is the same-run baseline: an in-process nubo on a fake VIM
with those delays (background loops off, so only the workflow calls it) deploys
and terminates the NS a few times; every VIM call is timed, and the baseline of
one deploy is the time during which at least one VIM call was in flight (the
union of the call intervals: calls the workflow makes in sequence add up, the
servers of one start wave overlap, as the workflow runs them). It also reports
which calls one deploy makes.
"""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors

from nubo.app import build
from nubo.model.states import OpState
from nubo.settings import Settings
from nubo.vim.docker import DockerVimDriver
from nubo.vim.fake import FakeVimDriver
from nubo.vim.port import LABEL_NS, NetworkSpec, ServerSpec, VimConfig
from nubo.vim.registry import DriverRegistry

BENCH_LABEL = "io.nubo.bench"
BENCH_VALUE = "load-vimcost"
IMAGE = "nubo/sipp-server:latest"
#: a pool of its own, away from nubo's default one that other orchestrators use
COST_POOL = "10.251.0.0/16"
#: the calls timed on Docker, in the order one instantiate + terminate makes them
DOCKER_CALLS = (
    "has_image",
    "create_network",
    "list_networks",
    "create_server",
    "set_metadata",
    "start_server",
    "list_servers",
    "get_server",
    "server_stats",
    "info",
    "delete_server",
    "delete_network",
)


@dataclass
class CallTimes:
    """Seconds per call type."""

    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, call: str, seconds: float) -> None:
        self.samples.setdefault(call, []).append(seconds)

    def medians(self) -> dict[str, float]:
        return {call: statistics.median(s) for call, s in self.samples.items()}


async def _timed(times: CallTimes, call: str, aw: Awaitable[Any]) -> Any:
    started = time.perf_counter()
    result = await aw
    times.add(call, time.perf_counter() - started)
    return result


async def _docker_once(driver: DockerVimDriver, times: CallTimes) -> None:
    tag = uuid.uuid4().hex[:8]
    labels = {LABEL_NS: f"bench-vimcost-{tag}", BENCH_LABEL: BENCH_VALUE}
    await _timed(times, "has_image", driver.has_image(IMAGE))
    net = await _timed(
        times, "create_network", driver.create_network(NetworkSpec(f"bench-{tag}", labels))
    )
    await _timed(times, "list_networks", driver.list_networks(labels))
    servers = []
    for i in range(2):
        spec = ServerSpec(f"bench-{tag}-{i}", IMAGE, {"private": net.id}, labels, hostname=f"s{i}")
        servers.append(await _timed(times, "create_server", driver.create_server(spec)))
    for server in servers:
        await _timed(times, "set_metadata", driver.set_metadata(server.id, {"BENCH": "1"}))
    for server in servers:
        await _timed(times, "start_server", driver.start_server(server.id, 60))
    await _timed(times, "list_servers", driver.list_servers(labels))
    await _timed(times, "get_server", driver.get_server(servers[0].id))
    await driver.server_stats(servers[0].id)  # a first reading (the first may cost more)
    await _timed(times, "server_stats", driver.server_stats(servers[0].id))
    await _timed(times, "info", driver.info())
    for server in servers:
        await _timed(times, "delete_server", driver.delete_server(server.id))
    await _timed(times, "delete_network", driver.delete_network(net.id))


def remove_labelled() -> list[str]:
    """Force-remove whatever this module created (by its label); the names found."""
    client = docker.from_env()
    found = []
    try:
        flt = {"label": f"{BENCH_LABEL}={BENCH_VALUE}"}
        for box in client.containers.list(all=True, filters=flt):
            found.append(box.name)
            with contextlib.suppress(docker.errors.NotFound):
                box.remove(force=True)
        for net in client.networks.list(filters=flt):
            found.append(net.name)
            with contextlib.suppress(docker.errors.NotFound):
                net.remove()
    finally:
        client.close()
    return found


async def measure_docker(repetitions: int) -> CallTimes:
    """Time nubo's Docker driver on the real engine; cleans up by label even on failure."""
    config = VimConfig(id="bench-vimcost", name="bench-vimcost", type="docker")
    config = VimConfig(**{**config.__dict__, "subnet_pool": COST_POOL})
    driver = DockerVimDriver(config)
    times = CallTimes()
    try:
        await _docker_once(driver, CallTimes())  # warm-up: connections, image cache
        for _ in range(repetitions):
            await _docker_once(driver, times)
    finally:
        await driver.close()
        remove_labelled()
    return times


def fake_endpoint(delays: dict[str, float]) -> str:
    """The endpoint of a fake VIM that adds ``delays`` (seconds per call type)."""
    query = urllib.parse.urlencode({f"delay.{c}": f"{s:.6f}" for c, s in sorted(delays.items())})
    return f"fake:?{query}"


# -- the baseline: the fake VIM's own time inside one deploy ---------------------------------
Interval = tuple[str, float, float]


class TracingFakeVim(FakeVimDriver):
    """The fake VIM, timing each of its calls into the class-level ``trace``."""

    trace: list[Interval] = []

    def __getattribute__(self, name: str) -> Any:
        attr = super().__getattribute__(name)
        if name in DOCKER_CALLS or name in ("stop_server", "quota", "list_images"):
            return _traced(name, attr)
        return attr


def _traced(name: str, method: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def call(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return await method(*args, **kwargs)
        finally:
            TracingFakeVim.trace.append((name, started, time.perf_counter()))

    return call


def busy_time(intervals: list[Interval]) -> float:
    """Seconds during which at least one call was in flight."""
    total, end = 0.0, float("-inf")
    for _, start, stop in sorted(intervals, key=lambda i: i[1]):
        if start > end:
            total += stop - start
            end = stop
        elif stop > end:
            total += stop - end
            end = stop
    return total


@dataclass
class Baseline:
    """The fake VIM's own time per deploy and per terminate, and the calls they make."""

    deploy: list[float]
    terminate: list[float]
    deploy_calls: Counter[str]
    terminate_calls: Counter[str]
    deploy_sum: float  # the delays of the calls one deploy makes, added up (no overlap)


async def measure_baseline(nsd: bytes, delays: dict[str, float], runs: int) -> Baseline:
    """Deploy and terminate the NS ``runs`` times in-process; time the fake VIM's calls."""
    registry = DriverRegistry()
    registry.register("fake", TracingFakeVim)
    deploys: list[float] = []
    terms: list[float] = []
    calls: tuple[Counter[str], Counter[str]] = (Counter(), Counter())
    with tempfile.TemporaryDirectory(prefix="nubo-load-baseline-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            default_vim_type="fake",
            default_vim_endpoint=fake_endpoint(delays),
            fault_management=False,
            monitoring=False,
            autoscaling=False,
            log_level="WARNING",
        )
        app = build(settings, registry=registry)
        await app.start()
        try:
            entry = await app.catalogue.onboard(nsd)
            for i in range(runs + 1):  # the first run warms up and is not counted
                TracingFakeVim.trace.clear()
                nsr, op = await app.ns.instantiate(entry.id, name=f"baseline-{i}")
                done = await app.runner.wait(op.id, timeout=120)
                if done.state != OpState.COMPLETED:
                    raise SystemExit(f"baseline deploy failed: {done.error}")
                deploy_trace = list(TracingFakeVim.trace)
                TracingFakeVim.trace.clear()
                term = await app.ns.terminate(nsr.id)
                await app.runner.wait(term.id, timeout=120)
                term_trace = list(TracingFakeVim.trace)
                if i == 0:
                    calls = (
                        Counter(c for c, *_ in deploy_trace),
                        Counter(c for c, *_ in term_trace),
                    )
                    continue
                deploys.append(busy_time(deploy_trace))
                terms.append(busy_time(term_trace))
        finally:
            await app.stop()
    summed = sum(delays.get(c, 0.0) * n for c, n in calls[0].items())
    return Baseline(deploys, terms, calls[0], calls[1], summed)
