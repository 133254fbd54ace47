"""An in-memory VIM with the Pop semantics of the Docker driver, for tests and benchmarks.

Addresses come from real subnet allocation and servers walk the same states
as on Docker, instantly (or after an artificial ``delay``). Knobs let tests
inject faults: images or server names that fail to start, an unreachable VIM,
servers that crash later. It is never the only proof a feature works.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncGenerator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import ClassVar

from nubo.model.errors import (
    Conflict,
    ImageNotFound,
    NotFound,
    NuboError,
    VimError,
    VimUnreachable,
)
from nubo.vim.batch import each_bounded
from nubo.vim.fake.knobs import DELAY_PREFIX, knobs
from nubo.vim.port import (
    LABEL_MANAGED,
    LABEL_NS,
    LABEL_SERVER,
    ExecResult,
    Flavour,
    Image,
    Network,
    NetworkSpec,
    Quota,
    Server,
    ServerEvent,
    ServerSpec,
    ServerStats,
    ServerStatus,
    VimConfig,
    VimInfo,
)
from nubo.vim.registry import DriverRegistry
from nubo.vim.subnets import (
    allocate_subnet,
    check_address,
    count_free_subnets,
    gateway_of,
    next_free_address,
)

DEFAULT_IMAGES = frozenset(
    {"nubo/sipp-base:latest", "nubo/sipp-server:latest", "nubo/sipp-client:latest"}
)
_FINAL = (ServerStatus.EXITED, ServerStatus.FAILED)
#: the memory limit a fake server reports unless a test sets another
DEFAULT_MEMORY_LIMIT = 1 << 30


def _csv(text: str) -> set[str]:
    return {item.strip() for item in text.split(",") if item.strip()}


@dataclass
class FakeContainer:
    """A started server's stand-in for a Docker container."""

    id: str
    environment: dict[str, str]
    exit_code: int | None = None
    #: what ``put_files`` wrote, by absolute path
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass(frozen=True)
class FakeExec:
    """One command ``exec_in_server`` was asked to run, with the environment it would get."""

    server_name: str
    command: tuple[str, ...]
    #: the container's environment with the exec's own variables over it
    environment: dict[str, str]
    #: the files the server held when it ran (a script reads them)
    files: dict[str, bytes]


#: decides how a command run by the fake VIM ends (a test's stand-in for the script)
ExecHandler = Callable[[FakeExec], ExecResult]


@dataclass
class FakeLoad:
    """What ``server_stats`` reports for one server; tests change it with ``set_load``."""

    cpu_percent: float | None = 0.0
    memory_bytes: int = 0
    memory_limit_bytes: int = DEFAULT_MEMORY_LIMIT
    rx_bytes: int = 0
    tx_bytes: int = 0
    #: seconds ``server_stats`` of this server takes (a slow container)
    delay: float = 0.0


@dataclass
class _Entry:
    server: Server
    networks: dict[str, str]
    container: FakeContainer | None = None
    history: list[ServerStatus] = field(default_factory=list)
    load: FakeLoad = field(default_factory=FakeLoad)


class FakeVimDriver:
    """In-memory VimDriver (VIM type ``fake``).

    Knobs (attributes, or ``config.extra`` keys of the same name as comma
    separated text, or query parameters of an endpoint ``fake:?key=value&...``):
    ``images`` known images (None: any image exists), ``fail_start_for`` server
    names or images whose start fails, ``unreachable`` makes every call raise
    ``VimUnreachable``, ``delay`` seconds added to each call, ``delay.<call>``
    seconds added to one call type instead (``delay.start_server=0.3``);
    ``start_delays`` (attribute only) slows the start of single servers.
    At run time ``crash``, ``vanish`` and ``break_event_streams`` inject faults,
    ``engine_crash`` and ``engine_restart`` play an engine's restart policy;
    every server state change is published to the ``events()`` subscribers.
    """

    vim_type: ClassVar[str] = "fake"

    def __init__(self, config: VimConfig | None = None) -> None:
        self.config = config or VimConfig(id="fake", name="fake", type="fake")
        extra = knobs(self.config)
        self.images: set[str] | None = (
            _csv(extra["images"]) if "images" in extra else set(DEFAULT_IMAGES)
        )
        if extra.get("images") == "*":
            self.images = None
        self.fail_start_for: set[str] = _csv(extra.get("fail_start_for", ""))
        self.unreachable: bool = extra.get("unreachable", "") in ("1", "true", "yes")
        self.delay: float = float(extra.get("delay", "0"))
        #: seconds added to one call type (``delay.create_server``), instead of ``delay``
        self.delays: dict[str, float] = {
            key.removeprefix(DELAY_PREFIX): float(value)
            for key, value in extra.items()
            if key.startswith(DELAY_PREFIX)
        }
        #: subnets held by networks that are not ours (as Docker's default bridge)
        self.foreign_subnets: list[str] = ["172.17.0.0/16"]
        self.networks: dict[str, Network] = {}
        self._servers: dict[str, _Entry] = {}
        #: server ids by their NS label, as an engine indexes its label filters
        self._by_ns: dict[str, set[str]] = {}
        self._lock = asyncio.Lock()
        #: number of VIM calls made, for benchmarks and tests
        self.calls = 0
        #: seconds one server's start takes, by server name or image (a slow VNF)
        self.start_delays: dict[str, float] = {}
        #: (monotonic time, server name, "start" | "running"): the order starts happened in
        self.timeline: list[tuple[float, str, str]] = []
        #: every command ``exec_in_server`` ran, in order
        self.execs: list[FakeExec] = []
        #: how a command ends; None: every command succeeds with no output
        self.exec_handler: ExecHandler | None = None
        #: restarts the engine stand-in makes by itself per start (see ``engine_crash``)
        self.restart_retries: int = int(extra.get("restart_retries", "3"))
        #: one queue per ``events()`` subscriber; None in a queue breaks that stream
        self._subscribers: set[asyncio.Queue[ServerEvent | None]] = set()

    # -- fault injection --------------------------------------------------------------
    def crash(self, server_id: str, exit_code: int = 1) -> None:
        """Make a RUNNING server end on its own, as a crashing container would."""
        entry = self._entry(server_id)
        if entry.container is not None:
            entry.container.exit_code = exit_code
        status = ServerStatus.EXITED if exit_code == 0 else ServerStatus.FAILED
        self._set(entry, status, f"exit code {exit_code}" if exit_code else "")

    def engine_crash(self, server_id: str, exit_code: int = 137) -> bool:
        """Make a RUNNING server's process die as under a Docker restart policy.

        While the engine has restarts left (``restart_retries`` since the last
        start through the driver) the server becomes STOPPING and
        ``restarting`` with a ``die`` event (status FAILED), and
        ``engine_restart`` finishes the restart; otherwise it just crashes.
        Returns whether the engine restarts it.
        """
        entry = self._entry(server_id)
        if exit_code == 0 or entry.server.restart_count >= self.restart_retries:
            self.crash(server_id, exit_code)
            return False
        if entry.container is not None:
            entry.container.exit_code = exit_code
        detail = f"exit code {exit_code}"
        entry.server = replace(
            entry.server,
            status=ServerStatus.STOPPING,
            detail=f"{detail}, the engine restarts it",
            restarting=True,
            restart_count=entry.server.restart_count + 1,
        )
        entry.history.append(ServerStatus.STOPPING)
        self._publish(entry.server, ServerStatus.FAILED, detail)  # Docker's ``die``
        return True

    def engine_restart(self, server_id: str) -> None:
        """The engine's restart of a server ``engine_crash`` left restarting: ``start``."""
        entry = self._entry(server_id)
        if not entry.server.restarting:
            raise Conflict(f"server {server_id} is not restarting")
        if entry.container is not None:
            entry.container.exit_code = None
        entry.server = replace(entry.server, restarting=False)
        self._set(entry, ServerStatus.RUNNING, "started")

    def vanish(self, server_id: str) -> None:
        """Remove a server behind the orchestrator's back."""
        entry = self._forget_server(server_id)
        if entry is not None:
            self._publish(entry.server, None, "removed")

    def break_event_streams(self) -> None:
        """End every ``events()`` stream with ``VimUnreachable``, as a restarting engine would."""
        for queue in self._subscribers:
            queue.put_nowait(None)

    @property
    def event_subscribers(self) -> int:
        return len(self._subscribers)

    def set_load(self, server_id: str, **fields: float | None) -> FakeLoad:
        """Set what ``server_stats`` reports for a server: fields of ``FakeLoad``."""
        load = self._entry(server_id).load
        for name, value in fields.items():
            if name not in FakeLoad.__dataclass_fields__:
                raise TypeError(f"FakeLoad has no field {name}")
            setattr(load, name, value)
        return load

    def container_of(self, server_id: str) -> FakeContainer | None:
        return self._entry(server_id).container

    def history(self, server_id: str) -> list[ServerStatus]:
        return list(self._entry(server_id).history)

    # -- plumbing ---------------------------------------------------------------------
    async def _enter(self, call: str) -> None:
        self.calls += 1
        if self.unreachable:
            raise VimUnreachable(f"fake VIM {self.config.name} is unreachable")
        delay = self.delays.get(call, self.delay)
        if delay > 0:
            await asyncio.sleep(delay)

    def _entry(self, server_id: str) -> _Entry:
        entry = self._servers.get(server_id)
        if entry is None:
            raise NotFound(f"server {server_id} not found on fake VIM {self.config.name}")
        return entry

    def _set(self, entry: _Entry, status: ServerStatus, detail: str = "") -> None:
        entry.server = replace(entry.server, status=status, detail=detail)
        if status is ServerStatus.RUNNING:
            entry.server = replace(entry.server, started_at=time.time())
        entry.history.append(status)
        self._publish(entry.server, status, detail)

    def _publish(self, server: Server, status: ServerStatus | None, detail: str) -> None:
        event = ServerEvent(
            server.id, status, dict(server.labels), time.time(), detail, server.restart_count
        )
        for queue in self._subscribers:
            queue.put_nowait(event)

    def _used(self, network_id: str, exclude: str = "") -> set[str]:
        used: set[str] = set()
        for entry in self._servers.values():
            if entry.server.id == exclude:
                continue
            if entry.server.status in _FINAL and entry.container is None:
                continue  # never ran: its reservation ended with it
            # a stopped container keeps its address, so that it can start again in place
            for link, net in entry.networks.items():
                if net == network_id:
                    used.add(entry.server.addresses[link])
        return used

    # -- catalogue --------------------------------------------------------------------
    async def info(self) -> VimInfo:
        await self._enter("info")
        return VimInfo(
            type=self.vim_type,
            version="fake-1",
            servers=len(self._servers),
            networks=len(self.networks),
        )

    async def list_images(self) -> list[Image]:
        await self._enter("list_images")
        return [Image(id=f"sha256:{name}", names=(name,)) for name in sorted(self.images or ())]

    async def has_image(self, name: str) -> bool:
        await self._enter("has_image")
        return self.images is None or name in self.images

    async def list_flavours(self) -> list[Flavour]:
        await self._enter("list_flavours")
        return [Flavour(key="docker.container")]

    async def quota(self) -> Quota:
        await self._enter("quota")
        used = self.foreign_subnets + [n.cidr for n in self.networks.values()]
        free = count_free_subnets(self.config.subnet_pool, self.config.subnet_prefix, used)
        return Quota(networks=free)

    # -- networks ---------------------------------------------------------------------
    async def create_network(self, spec: NetworkSpec) -> Network:
        await self._enter("create_network")
        async with self._lock:
            for net in self.networks.values():
                if net.name == spec.name:
                    return net
            used = self.foreign_subnets + [n.cidr for n in self.networks.values()]
            cidr = allocate_subnet(self.config.subnet_pool, self.config.subnet_prefix, used)
            net = Network(
                id=uuid.uuid4().hex,
                name=spec.name,
                cidr=cidr,
                gateway=gateway_of(cidr),
                labels={**spec.labels, LABEL_MANAGED: "true"},
            )
            self.networks[net.id] = net
            return net

    async def list_networks(self, labels: dict[str, str] | None = None) -> list[Network]:
        await self._enter("list_networks")
        wanted = (labels or {}).items()
        return [n for n in self.networks.values() if wanted <= n.labels.items()]

    async def delete_network(self, network_id: str) -> None:
        await self._enter("delete_network")
        if any(
            network_id in e.networks.values() and e.server.status is ServerStatus.RUNNING
            for e in self._servers.values()
        ):
            raise VimError(f"network {network_id} has active endpoints")
        self.networks.pop(network_id, None)

    # -- servers ----------------------------------------------------------------------
    async def create_server(self, spec: ServerSpec) -> Server:
        await self._enter("create_server")
        if not spec.networks:
            raise VimError(f"server {spec.name}: at least one network is required")
        server_id = str(uuid.uuid4())
        async with self._lock:
            addresses: dict[str, str] = {}
            for link, network_id in spec.networks.items():
                net = self.networks.get(network_id)
                if net is None:
                    raise NotFound(f"network {network_id} not found on fake VIM")
                used = self._used(network_id) | {
                    a for lk, a in addresses.items() if spec.networks[lk] == network_id
                }
                fixed = spec.fixed_addresses.get(link)
                addresses[link] = (
                    check_address(net.cidr, net.gateway, fixed, used)
                    if fixed
                    else next_free_address(net.cidr, net.gateway, used)
                )
            server = Server(
                id=server_id,
                name=spec.name,
                image=spec.image,
                status=ServerStatus.CREATED,
                addresses=addresses,
                labels={**spec.labels, LABEL_SERVER: server_id, LABEL_MANAGED: "true"},
                metadata={k: v for k, v in spec.metadata.items() if v != ""},
            )
            entry = _Entry(server=server, networks=dict(spec.networks))
            entry.history.append(ServerStatus.CREATED)
            self._servers[server_id] = entry
            self._by_ns.setdefault(server.labels.get(LABEL_NS, ""), set()).add(server_id)
        self._publish(server, ServerStatus.CREATED, "")
        return server

    async def set_metadata(self, server_id: str, metadata: dict[str, str]) -> Server:
        await self._enter("set_metadata")
        entry = self._entry(server_id)
        if entry.server.status is not ServerStatus.CREATED:
            status = entry.server.status
            raise Conflict(f"server {server_id} is {status}: metadata changes only while CREATED")
        if entry.container is not None:
            raise Conflict(f"server {server_id} is prepared: its environment is fixed")
        merged = dict(entry.server.metadata)
        for key, value in metadata.items():  # Pop: an empty value deletes the key
            if value == "":
                merged.pop(key, None)
            else:
                merged[key] = value
        entry.server = replace(entry.server, metadata=merged)
        return entry.server

    async def prepare_server(self, server_id: str) -> Server:
        await self._enter("prepare_server")
        entry = self._entry(server_id)
        if entry.server.status is ServerStatus.CREATED and entry.container is None:
            entry.container = FakeContainer(
                id=uuid.uuid4().hex, environment=dict(entry.server.metadata)
            )
            entry.server = replace(entry.server, ext_id=entry.container.id)
        return entry.server

    async def start_server(self, server_id: str, timeout: float) -> Server:
        await self._enter("start_server")
        entry = self._entry(server_id)
        server = entry.server
        if server.status is ServerStatus.RUNNING:
            return server
        if server.restarting:  # taken over from the engine: stopped, then started
            entry.server = server = replace(server, status=ServerStatus.FAILED, restarting=False)
        if server.status in _FINAL:
            entry.server = server = replace(server, restart_count=0)  # as Docker's start
        self.timeline.append((time.monotonic(), server.name, "start"))
        slow = self.start_delays.get(server.name, self.start_delays.get(server.image, 0.0))
        if slow > 0:
            await asyncio.sleep(slow)
        if server.status in _FINAL and entry.container is not None:
            # a stopped server starts again in place, as the Docker driver does
            entry.container.exit_code = None
            self._set(entry, ServerStatus.RUNNING)
            return entry.server
        if server.status is not ServerStatus.CREATED:
            raise Conflict(f"server {server_id} is {server.status}: it cannot be started")
        if self.images is not None and server.image not in self.images:
            self._set(entry, ServerStatus.FAILED, f"image {server.image} not found")
            raise ImageNotFound(
                f"image {server.image} not found on the fake VIM", image=server.image
            )
        if server.name in self.fail_start_for or server.image in self.fail_start_for:
            detail = f"server {server.name} exited right after start (exit code 1)"
            self._set(entry, ServerStatus.FAILED, detail)
            raise VimError(detail, exit_code=1, log_tail="injected failure")
        if entry.container is None:
            entry.container = FakeContainer(id=uuid.uuid4().hex, environment=dict(server.metadata))
            entry.server = replace(server, ext_id=entry.container.id)
        self._set(entry, ServerStatus.RUNNING)
        self.timeline.append((time.monotonic(), server.name, "running"))
        return entry.server

    async def stop_server(self, server_id: str, timeout: float) -> Server:
        await self._enter("stop_server")
        entry = self._entry(server_id)
        if entry.server.restarting:  # a stop cancels the engine's restart
            entry.server = replace(entry.server, status=ServerStatus.RUNNING, restarting=False)
        if entry.server.status in (ServerStatus.RUNNING, ServerStatus.CREATED):
            self._set(entry, ServerStatus.STOPPING)
            if entry.container is not None:
                entry.container.exit_code = 0
            self._set(entry, ServerStatus.EXITED)
        return entry.server

    async def delete_server(self, server_id: str) -> None:
        await self._enter("delete_server")
        entry = self._forget_server(server_id)
        if entry is not None:
            self._publish(entry.server, None, "removed")

    async def get_server(self, server_id: str) -> Server:
        await self._enter("get_server")
        return self._entry(server_id).server

    async def list_servers(self, labels: dict[str, str] | None = None) -> list[Server]:
        await self._enter("list_servers")
        wanted = (labels or {}).items()
        # the engine filters by label on its side; the stand-in must not cost N per NS
        ns = (labels or {}).get(LABEL_NS)
        ids = self._by_ns.get(ns, set()) if ns is not None else self._servers.keys()
        entries = [self._servers[i] for i in ids]
        return [e.server for e in entries if wanted <= e.server.labels.items()]

    def _forget_server(self, server_id: str) -> _Entry | None:
        entry = self._servers.pop(server_id, None)
        if entry is not None:
            ns = self._by_ns.get(entry.server.labels.get(LABEL_NS, ""))
            if ns is not None:
                ns.discard(server_id)
        return entry

    async def server_stats(self, server_id: str) -> ServerStats:
        await self._enter("server_stats")
        entry = self._entry(server_id)
        if entry.load.delay > 0:
            await asyncio.sleep(entry.load.delay)
        return self._stats_now(server_id)

    def _stats_now(self, server_id: str) -> ServerStats:
        entry = self._entry(server_id)
        if entry.server.status is not ServerStatus.RUNNING:
            raise Conflict(f"server {server_id} is {entry.server.status}: no stats")
        load = entry.load
        return ServerStats(
            server_id=server_id,
            time=time.time(),
            cpu_percent=load.cpu_percent,
            memory_bytes=load.memory_bytes,
            memory_limit_bytes=load.memory_limit_bytes,
            rx_bytes=load.rx_bytes,
            tx_bytes=load.tx_bytes,
        )

    async def servers_stats(
        self, server_ids: Sequence[str], timeout: float
    ) -> dict[str, ServerStats | NuboError]:
        slow = self.delays.get("server_stats", self.delay) > 0 or any(
            entry.load.delay > 0
            for server_id in server_ids
            if (entry := self._servers.get(server_id)) is not None
        )
        if slow or self.unreachable:  # delays as per-server calls would have them
            return await each_bounded(self.server_stats, server_ids, timeout)
        answers: dict[str, ServerStats | NuboError] = {}
        for server_id in server_ids:  # answers at once: one pass, no call per server
            try:
                answers[server_id] = self._stats_now(server_id)
            except NuboError as exc:
                answers[server_id] = exc
        self.calls += 1
        return answers

    def _running_container(self, server_id: str) -> tuple[_Entry, FakeContainer]:
        entry = self._entry(server_id)
        if entry.server.status is not ServerStatus.RUNNING or entry.container is None:
            raise Conflict(f"server {server_id} is {entry.server.status}: it does not run")
        return entry, entry.container

    async def put_files(self, server_id: str, directory: str, files: Mapping[str, bytes]) -> None:
        await self._enter("put_files")
        _, container = self._running_container(server_id)
        for name, content in files.items():
            container.files[f"{directory.rstrip('/')}/{name}"] = content

    async def exec_in_server(
        self,
        server_id: str,
        command: Sequence[str],
        environment: Mapping[str, str],
        timeout: float,
    ) -> ExecResult:
        await self._enter("exec_in_server")
        entry, container = self._running_container(server_id)
        run = FakeExec(
            entry.server.name,
            tuple(command),
            container.environment | dict(environment),
            dict(container.files),
        )
        self.execs.append(run)
        return self.exec_handler(run) if self.exec_handler else ExecResult(0, "")

    async def events(self) -> AsyncGenerator[ServerEvent, None]:
        """Every server state change from now on, until closed or broken."""
        await self._enter("events")
        queue: asyncio.Queue[ServerEvent | None] = asyncio.Queue()
        self._subscribers.add(queue)
        try:
            while True:
                event = await queue.get()
                if event is None:
                    raise VimUnreachable(f"fake VIM {self.config.name}: event stream broken")
                yield event
        finally:
            self._subscribers.discard(queue)

    async def close(self) -> None:
        return None


def register(registry: DriverRegistry) -> None:
    """Register the in-memory driver under VIM type ``fake``."""
    registry.register(FakeVimDriver.vim_type, FakeVimDriver)
