"""Resource use of Docker containers: kernel counters or one-shot stats, as ``ServerStats``.

A container of an engine on this host is read from the kernel's counters
(``nubo.vim.docker.cgroups``: microseconds, where the stats API takes about a
second a call); a first reading is taken when nubo starts it (``prime``), so
the first sample already has a CPU value. Containers of a remote engine, or
whose counters cannot be found, are asked through the stats API.

Why one-shot with our own previous reading: ``stats(stream=False)`` makes the
engine wait for two collection cycles (about a second, more under load) so it
can fill ``precpu_stats``; with ``one_shot=True`` it answers with the next
collection only and leaves ``precpu_stats`` empty. So the driver keeps the
previous raw CPU reading per container and computes the CPU rate between two
of its own readings. The first reading of a container has no CPU value
(``cpu_percent`` None): inventing one (0, or a second blocking reading) would
either lie or cost a second per new container. When the engine does fill
``precpu_stats`` (older engines, or a reading ``stream=False`` returned), that
is used instead.

Stats calls get their own small thread pool: the engine answers them only at
its next collection tick, so they would otherwise occupy the shared default
executor that every other Docker call needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import docker.errors
import requests.exceptions

from nubo.model.errors import Conflict, NotFound, VimError
from nubo.vim.docker.cgroups import CgroupReader, ContainerFiles, Counters
from nubo.vim.docker.engine import DockerEngine
from nubo.vim.docker.payloads import wrap_error
from nubo.vim.port import LABEL_MANAGED, LABEL_SERVER, ServerStats

#: docker-py's connection pool size: more concurrent stats calls would only queue there
STATS_WORKERS = 10
NANO = 1e9


@dataclass(frozen=True)
class CpuReading:
    """Cumulative CPU counters of one container at one collection."""

    #: nanoseconds of CPU the container used since it started
    container_ns: int
    #: nanoseconds of CPU the host used (all cores) since boot; 0 when unknown
    system_ns: int
    online_cpus: int
    #: seconds since the epoch of the engine's reading
    time: float


def _reading(cpu: dict[str, Any], read: str) -> CpuReading | None:
    usage = (cpu.get("cpu_usage") or {}).get("total_usage") or 0
    system = cpu.get("system_cpu_usage") or 0
    if not usage or not system:
        return None
    cpus = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or ())
    return CpuReading(int(usage), int(system), int(cpus or 1), _epoch(read))


def _epoch(stamp: str) -> float:
    """Seconds since the epoch of an engine time stamp (RFC 3339, nanoseconds)."""
    if not stamp or stamp.startswith("0001-"):
        return 0.0
    head, _, frac = stamp.rstrip("Z").partition(".")
    seconds = datetime.fromisoformat(head + "+00:00").timestamp()
    return seconds + (float("0." + frac[:9]) if frac else 0.0)


def cpu_percent(before: CpuReading, after: CpuReading, share: float) -> float | None:
    """CPU used between two readings, percent of ``share`` cores, clamped to 0..100."""
    used = after.container_ns - before.container_ns
    if after.system_ns and before.system_ns and after.system_ns > before.system_ns:
        # the host counter sums every core: per core it is the elapsed time
        elapsed_ns = (after.system_ns - before.system_ns) / max(after.online_cpus, 1)
    else:
        elapsed_ns = (after.time - before.time) * NANO
    if elapsed_ns <= 0 or used < 0:
        return None  # same collection twice, or the container restarted
    return max(0.0, min(100.0, 100.0 * used / elapsed_ns / share))


def memory_used(memory: dict[str, Any]) -> int:
    """Memory in use without the page cache (cgroup v1 ``cache``, v2 ``inactive_file``)."""
    usage = int(memory.get("usage") or 0)
    stats = memory.get("stats") or {}
    cache = stats.get("total_cache", stats.get("cache", stats.get("inactive_file", 0)))
    return max(0, usage - int(cache or 0))


def network_totals(networks: dict[str, Any] | None) -> tuple[int, int]:
    """Bytes received and sent, summed over every interface of the container."""
    rx = sum(int(n.get("rx_bytes") or 0) for n in (networks or {}).values())
    tx = sum(int(n.get("tx_bytes") or 0) for n in (networks or {}).values())
    return rx, tx


def cpu_share(host_config: dict[str, Any]) -> float:
    """Cores the container may use: its limit (``NanoCpus``, ``CpuQuota``), else one."""
    nano = host_config.get("NanoCpus") or 0
    if nano > 0:
        return float(nano) / NANO
    quota, period = host_config.get("CpuQuota") or 0, host_config.get("CpuPeriod") or 100_000
    if quota > 0:
        return float(quota) / float(period)
    return 1.0


@dataclass(frozen=True)
class _Container:
    """What the stats of one server need to know of its container."""

    id: str
    #: cores it may use (limits do not change once created)
    share: float
    #: its kernel counters; None: ask the stats API
    files: ContainerFiles | None


class DockerStats:
    """Stats of the containers of nubo servers, with the per-container CPU history."""

    def __init__(self, engine: DockerEngine, cgroups: CgroupReader | None = None) -> None:
        self._engine = engine
        self._executor = ThreadPoolExecutor(STATS_WORKERS, thread_name_prefix="nubo-docker-stats")
        reader = cgroups if cgroups is not None else CgroupReader()
        self._cgroups = reader if reader.usable else None
        self._containers: dict[str, _Container] = {}
        #: container id -> its previous reading (API, or kernel counters)
        self._previous: dict[str, CpuReading] = {}
        self._counted: dict[str, Counters] = {}

    async def server_stats(self, server_id: str, container_id: str = "") -> ServerStats:
        """Stats of a running server; ``container_id`` when the driver already knows it."""
        container = await self._container(server_id, container_id)
        if container.files is not None:
            try:
                return self._counted_stats(server_id, container)
            except (OSError, ValueError):
                # gone, or restarted (another init process): look at it again
                self.forget(server_id)
                container = await self._container(server_id, container_id)
                if container.files is not None:
                    with contextlib.suppress(OSError, ValueError):
                        return self._counted_stats(server_id, container)
        payload = await self._stats(server_id, container.id)
        return self._stats_of(server_id, container.id, container.share, payload)

    def counted(self, server_id: str, container_id: str = "") -> ServerStats | None:
        """The stats of a server whose container's counters are known, read now; None
        when they are not (not seen yet, remote, or gone: ask ``server_stats``)."""
        known = self._containers.get(server_id)
        if known is None or known.files is None or (container_id and known.id != container_id):
            return None
        try:
            return self._counted_stats(server_id, known)
        except (OSError, ValueError):
            return None

    def prime(self, server_id: str, container_id: str, inspected: dict[str, Any]) -> None:
        """Note a container just started (its inspection): a first reading, so the
        first sample after it has a CPU rate."""
        self.forget(server_id)
        container = self._note(server_id, container_id, inspected)
        if container.files is not None:
            with contextlib.suppress(OSError, ValueError):
                self._counted_stats(server_id, container)

    def forget(self, server_id: str) -> None:
        entry = self._containers.pop(server_id, None)
        if entry is not None:
            self._previous.pop(entry.id, None)
            self._counted.pop(entry.id, None)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _container(self, server_id: str, container_id: str) -> _Container:
        known = self._containers.get(server_id)
        if known is not None and (not container_id or known.id == container_id):
            return known
        if not container_id:
            filters = {"label": [f"{LABEL_MANAGED}=true", f"{LABEL_SERVER}={server_id}"]}
            found = await self._engine.call(
                "list containers", "containers", all=True, quiet=True, filters=filters
            )
            if not found:
                raise NotFound(f"server {server_id} not found on the Docker VIM")
            container_id = found[0]["Id"]
        payload = await self._engine.call_or_none(
            "inspect container", "inspect_container", container_id
        )
        if payload is None:
            raise NotFound(f"server {server_id} not found on the Docker VIM")
        if not (payload.get("State") or {}).get("Running"):
            raise Conflict(f"server {server_id} is not running: no stats")
        self.forget(server_id)
        return self._note(server_id, container_id, payload)

    def _note(self, server_id: str, container_id: str, inspected: dict[str, Any]) -> _Container:
        pid = int((inspected.get("State") or {}).get("Pid") or 0)
        files = self._cgroups.locate(container_id, pid) if self._cgroups is not None else None
        entry = _Container(container_id, cpu_share(inspected.get("HostConfig") or {}), files)
        self._containers[server_id] = entry
        return entry

    def _counted_stats(self, server_id: str, container: _Container) -> ServerStats:
        assert self._cgroups is not None and container.files is not None
        now = self._cgroups.read(container.files)
        before = self._counted.get(container.id)
        self._counted[container.id] = now
        percent = None
        if before is not None:
            percent = cpu_percent(
                CpuReading(before.cpu_ns, 0, 1, before.time),
                CpuReading(now.cpu_ns, 0, 1, now.time),
                container.share,
            )
        return ServerStats(
            server_id=server_id,
            time=now.time,
            cpu_percent=percent,
            memory_bytes=now.memory_bytes,
            memory_limit_bytes=now.memory_limit_bytes,
            rx_bytes=now.rx_bytes,
            tx_bytes=now.tx_bytes,
        )

    async def _stats(self, server_id: str, container: str) -> dict[str, Any]:
        api = await self._engine.api()
        call = functools.partial(api.stats, container, stream=False, one_shot=True)
        what = f"stats of server {server_id}"
        try:
            payload: dict[str, Any] = await asyncio.get_running_loop().run_in_executor(
                self._executor, call
            )
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            error = wrap_error(exc, what)
            if error.extra.get("status_code") == 404:
                self.forget(server_id)
                raise NotFound(f"server {server_id} not found on the Docker VIM") from exc
            raise error from exc
        if not payload.get("read") or str(payload["read"]).startswith("0001-"):
            # the engine answers a stopped container with an empty reading
            self.forget(server_id)
            raise Conflict(f"server {server_id} is not running: no stats")
        return payload

    def _stats_of(
        self, server_id: str, container: str, share: float, payload: dict[str, Any]
    ) -> ServerStats:
        read = str(payload.get("read", ""))
        now = _reading(payload.get("cpu_stats") or {}, read)
        before = _reading(payload.get("precpu_stats") or {}, str(payload.get("preread", "")))
        if before is None:
            before = self._previous.get(container)
        percent = cpu_percent(before, now, share) if before and now else None
        if now is not None:
            self._previous[container] = now
        memory = payload.get("memory_stats") or {}
        rx, tx = network_totals(payload.get("networks"))
        if not memory and not now:
            raise VimError(f"stats of server {server_id}: the engine returned no readings")
        return ServerStats(
            server_id=server_id,
            time=_epoch(read),
            cpu_percent=percent,
            memory_bytes=memory_used(memory),
            memory_limit_bytes=int(memory.get("limit") or 0),
            rx_bytes=rx,
            tx_bytes=tx,
        )
