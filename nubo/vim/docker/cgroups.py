"""Counters of local containers read from the kernel: cgroup v1 or v2, network bytes.

Why: the engine's stats API answers a one-shot request at its next
collection, about a second later, so a sampler asking every container waits
a second per call (32 calls in flight cover 32 containers a second). The
kernel keeps the same counters in files: a container's CPU time and memory
in its cgroup, its network bytes in its network namespace
(``/proc/<pid>/net/dev``). Reading them costs microseconds.

Which files belong to a container comes from ``/proc/<pid>/cgroup`` of its
init process (any cgroup driver: ``/docker/<id>``, ``docker-<id>.scope``),
resolved against this host's cgroup mounts. That the process is the
container is checked by its cgroup path naming the container id: an engine
on another host (whose pids mean nothing here) or a pid reused since is
refused, and its caller falls back to the stats API.

The figures match the API's: memory in use without the page cache (v1
``total_cache``, v2 ``inactive_file``), the limit, or the host's memory when
the container has none, and bytes summed over every interface but loopback.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

#: a cgroup v1 memory limit at or above this means "no limit" (the kernel's page-rounded max)
_NO_LIMIT = 1 << 62


@dataclass(frozen=True)
class Counters:
    """One reading of a container's counters."""

    #: nanoseconds of CPU the container used since it started
    cpu_ns: int
    memory_bytes: int
    memory_limit_bytes: int
    rx_bytes: int
    tx_bytes: int
    #: seconds since the epoch of the reading
    time: float


@dataclass(frozen=True)
class ContainerFiles:
    """Where one container's counters are."""

    container_id: str
    pid: int
    #: cgroup v2: the container's group directory; v1: None
    unified: Path | None = None
    #: cgroup v1: the cpuacct and memory group directories
    cpuacct: Path | None = None
    memory: Path | None = None


class CgroupReader:
    """Finds and reads the counters of containers on this host."""

    def __init__(self, proc: Path = Path("/proc"), host_memory: int | None = None) -> None:
        self.proc = proc
        #: controller ("cpuacct", "memory"; "" for v2) -> (mount root, mount point)
        self._mounts = _cgroup_mounts(proc / "self" / "mountinfo")
        self._host_memory = host_memory if host_memory is not None else _host_memory(proc)

    @property
    def usable(self) -> bool:
        """Whether this host has the cgroup mounts to read at all."""
        return bool(self._mounts)

    def locate(self, container_id: str, pid: int) -> ContainerFiles | None:
        """The files of the container whose init process is ``pid``; None when that
        process is not the container on this host (or the groups cannot be found)."""
        if pid <= 0 or not container_id or not self._mounts:
            return None
        try:
            lines = (self.proc / str(pid) / "cgroup").read_text().splitlines()
        except OSError:
            return None
        v1: dict[str, str] = {}
        unified = ""
        for line in lines:
            _, _, rest = line.partition(":")
            controllers, _, path = rest.partition(":")
            if controllers == "":
                unified = path
            for controller in controllers.split(","):
                v1[controller] = path
        if "cpuacct" in v1 and "memory" in v1 and "cpuacct" in self._mounts:
            paths = [v1["cpuacct"], v1["memory"]]
            if not all(container_id in path for path in paths):
                return None
            return ContainerFiles(
                container_id,
                pid,
                cpuacct=self._resolve("cpuacct", v1["cpuacct"]),
                memory=self._resolve("memory", v1["memory"]),
            )
        if unified and "" in self._mounts and container_id in unified:
            return ContainerFiles(container_id, pid, unified=self._resolve("", unified))
        return None

    def read(self, files: ContainerFiles) -> Counters:
        """The container's counters now; ``OSError`` when it is gone (or restarted:
        its init process is no longer the one located)."""
        at = time.time()
        if files.unified is not None:
            group = str(files.unified)
            cpu_ns = _field(_read(group + "/cpu.stat"), b"usage_usec") * 1000
            usage = int(_read(group + "/memory.current"))
            cache = _field(_read(group + "/memory.stat"), b"inactive_file", 0)
            limit_text = _read(group + "/memory.max").strip()
            limit = self._host_memory if limit_text == b"max" else int(limit_text)
        else:
            assert files.cpuacct is not None and files.memory is not None
            memory = str(files.memory)
            cpu_ns = int(_read(str(files.cpuacct) + "/cpuacct.usage"))
            usage = int(_read(memory + "/memory.usage_in_bytes"))
            cache = _field(_read(memory + "/memory.stat"), b"total_cache", 0)
            limit = int(_read(memory + "/memory.limit_in_bytes"))
            if limit >= _NO_LIMIT:
                limit = self._host_memory
        rx, tx = self._network(files)
        return Counters(cpu_ns, max(0, usage - cache), min(limit, self._host_memory), rx, tx, at)

    def _network(self, files: ContainerFiles) -> tuple[int, int]:
        # the pid's cgroup still naming the container: the process did not end and
        # its number was not given to another (whose namespace we would read)
        process = f"{self.proc}/{files.pid}"
        if files.container_id.encode() not in _read(process + "/cgroup"):
            raise FileNotFoundError(f"process {files.pid} is no longer the container's")
        rx = tx = 0
        for line in _read(process + "/net/dev").splitlines()[2:]:
            name, _, figures = line.partition(b":")
            if name.strip() == b"lo":
                continue
            values = figures.split()
            rx, tx = rx + int(values[0]), tx + int(values[8])
        return rx, tx

    def _resolve(self, controller: str, path: str) -> Path:
        root, mount = self._mounts[controller]
        relative = os.path.relpath(path, root) if root != "/" else path.lstrip("/")
        return mount / relative if relative != "." else mount


def _cgroup_mounts(mountinfo: Path) -> dict[str, tuple[str, Path]]:
    """controller -> (root of the mount within the hierarchy, mount point); "" for v2."""
    found: dict[str, tuple[str, Path]] = {}
    try:
        lines = mountinfo.read_text().splitlines()
    except OSError:
        return found
    for line in lines:
        head, _, tail = line.partition(" - ")
        fields, extra = head.split(), tail.split()
        if len(fields) < 5 or len(extra) < 3:
            continue
        root, point, fstype = fields[3], Path(fields[4]), extra[0]
        if fstype == "cgroup2":
            found.setdefault("", (root, point))
        elif fstype == "cgroup":
            for option in extra[2].split(","):
                if option in ("cpuacct", "memory"):
                    found.setdefault(option, (root, point))
    return found


def _host_memory(proc: Path) -> int:
    try:
        for line in (proc / "meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 1 << 62


def _read(path: str) -> bytes:
    """A small kernel file at once (no file object: these are read thousands of times)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 1 << 16)
    finally:
        os.close(fd)


def _field(text: bytes, name: bytes, default: int | None = None) -> int:
    """The value of ``name`` in a flat-keyed file (``key value`` per line)."""
    at = text.find(name + b" ")
    while at > 0 and text[at - 1 : at] != b"\n":  # "total_cache" is not "cache"
        at = text.find(name + b" ", at + 1)
    if at < 0:
        if default is None:
            raise OSError(f"no {name.decode()} in the counters")
        return default
    end = text.find(b"\n", at)
    return int(text[at + len(name) + 1 : end if end >= 0 else None])
