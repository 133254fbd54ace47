"""The VimDriver port: the functions of a container VIM (003 Table 3.1, Pop §4.2).

A server follows the Pop protocol: ``create_server`` reserves its addresses
and leaves it CREATED without running anything, ``set_metadata`` may add
metadata while it is CREATED, ``prepare_server`` makes it ready to run with
that metadata (still CREATED; a Docker container is created), ``start_server``
merges the metadata into the environment and runs it. Every resource carries
the labels it was created with, so that the orchestrator can find everything
it owns by label.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import ClassVar, Protocol, runtime_checkable

from nubo.model.errors import NuboError

#: every label nubo puts on VIM resources starts with this prefix
LABEL_PREFIX = "io.nubo."
LABEL_MANAGED = LABEL_PREFIX + "managed"
LABEL_NS = LABEL_PREFIX + "ns-id"
LABEL_VNF = LABEL_PREFIX + "vnfr-id"
LABEL_VNFC = LABEL_PREFIX + "vnfc-id"
LABEL_VNF_NAME = LABEL_PREFIX + "vnf-name"
LABEL_VL = LABEL_PREFIX + "virtual-link"
LABEL_SERVER = LABEL_PREFIX + "server-id"


class ServerStatus(StrEnum):
    CREATED = "CREATED"
    RUNNING = "RUNNING"
    EXITED = "EXITED"
    FAILED = "FAILED"
    STOPPING = "STOPPING"


@dataclass(frozen=True)
class VimConfig:
    """A registered VIM / point of presence, as the driver needs it."""

    id: str
    name: str
    type: str
    endpoint: str = ""
    #: CIDR pool from which network subnets are carved
    subnet_pool: str = "10.137.0.0/16"
    subnet_prefix: int = 24
    extra: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Image:
    id: str
    names: tuple[str, ...]
    created: str = ""
    size: int = 0


@dataclass(frozen=True)
class Flavour:
    key: str
    vcpus: int = 0
    ram: int = 0
    disk: int = 0


@dataclass(frozen=True)
class Quota:
    """What the VIM can still give; -1 means unlimited."""

    servers: int = -1
    networks: int = -1
    cpus: int = -1
    memory_mb: int = -1


@dataclass(frozen=True)
class NetworkSpec:
    name: str
    labels: dict[str, str] = field(default_factory=dict)
    internal: bool = False


@dataclass(frozen=True)
class Network:
    id: str
    name: str
    cidr: str
    gateway: str
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServerSpec:
    """What to create: ``networks`` maps virtual link name to the VIM network id."""

    name: str
    image: str
    networks: dict[str, str]
    labels: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    #: pin an address per virtual link (used when re-creating a server in place)
    fixed_addresses: dict[str, str] = field(default_factory=dict)
    hostname: str = ""
    flavour: str = "docker.container"


@dataclass(frozen=True)
class Server:
    id: str
    name: str
    image: str
    status: ServerStatus
    #: virtual link name -> IPv4 address
    addresses: dict[str, str]
    labels: dict[str, str] = field(default_factory=dict)
    metadata: dict[str, str] = field(default_factory=dict)
    ext_id: str = ""
    detail: str = ""
    #: the VIM restarts the server by itself (its restart policy): its process ended,
    #: the engine starts it again in place; ``status`` is STOPPING meanwhile
    restarting: bool = False
    #: how many times the VIM restarted it by itself since nubo last started it
    #: (0 when the VIM does not tell, or has no restart policy)
    restart_count: int = 0
    #: when the VIM last started it, seconds since the epoch (0: the VIM does not tell,
    #: as in a listing that does not hold it)
    started_at: float = 0.0


@dataclass(frozen=True)
class ServerEvent:
    """A state change of a server, as the VIM reported it.

    ``status`` None means the server is gone (removed). ``labels`` are the
    server's nubo labels (``LABEL_SERVER`` included), so a consumer can tell
    which NS and VNFC it belongs to without asking the VIM again.
    """

    server_id: str
    status: ServerStatus | None
    labels: dict[str, str]
    #: seconds since the epoch, as the VIM stamped the event
    time: float
    detail: str = ""
    #: the VIM's restart count of the server, when the event tells it (else 0)
    restart_count: int = 0


@dataclass(frozen=True)
class VimInfo:
    type: str
    version: str
    servers: int = 0
    networks: int = 0


@dataclass(frozen=True)
class ServerStats:
    """Resource use of a running server at ``time`` (seconds since the epoch).

    ``cpu_percent`` is relative to the server's CPU share: its CPU limit when it
    has one, else one core (so 100 means one core fully busy), clamped to
    0..100. It is None when the VIM cannot tell yet: CPU use is a rate, and a
    driver that measures it between two of its own readings (Docker) has none
    on its first reading of a server.
    """

    server_id: str
    time: float
    cpu_percent: float | None
    memory_bytes: int
    memory_limit_bytes: int
    rx_bytes: int
    tx_bytes: int


#: how much of a command's output ``exec_in_server`` keeps: its last characters
EXEC_OUTPUT_LIMIT = 8192


@dataclass(frozen=True)
class ExecResult:
    """How a command run inside a server ended: its exit code and its output's tail.

    ``output`` is stdout and stderr as the command interleaved them, decoded
    as UTF-8 (invalid bytes replaced), at most ``EXEC_OUTPUT_LIMIT``
    characters: the last ones, ``truncated`` when there was more.
    """

    exit_code: int
    output: str
    truncated: bool = False


@runtime_checkable
class VimDriver(Protocol):
    """A driver for one VIM. Implementations raise ``VimError`` subclasses only."""

    vim_type: ClassVar[str]

    async def info(self) -> VimInfo:
        """Check the VIM answers; raises ``VimUnreachable`` when it does not."""
        ...

    async def list_images(self) -> list[Image]: ...

    async def has_image(self, name: str) -> bool: ...

    async def list_flavours(self) -> list[Flavour]: ...

    async def quota(self) -> Quota: ...

    async def create_network(self, spec: NetworkSpec) -> Network:
        """Create a network with its own free subnet; idempotent by name."""
        ...

    async def list_networks(self, labels: dict[str, str] | None = None) -> list[Network]: ...

    async def delete_network(self, network_id: str) -> None:
        """Delete a network; deleting one that is already gone is not an error."""
        ...

    async def create_server(self, spec: ServerSpec) -> Server:
        """Reserve addresses and record the server as CREATED; nothing runs yet."""
        ...

    async def set_metadata(self, server_id: str, metadata: dict[str, str]) -> Server:
        """Merge metadata into a CREATED server; refused in any other state."""
        ...

    async def prepare_server(self, server_id: str) -> Server:
        """Make a CREATED server ready to start at once, its metadata fixed from now on.

        Still CREATED afterwards, and ``set_metadata`` is refused. Preparing a
        prepared (or a started) server does nothing. A server that was never
        prepared is prepared by ``start_server``.
        """
        ...

    async def start_server(self, server_id: str, timeout: float) -> Server:
        """Run the server with its metadata as environment; returns once RUNNING.

        A stopped (EXITED/FAILED) server is started again in place; one the VIM
        is restarting by itself (``restarting``) is taken over: stopped, then
        started."""
        ...

    async def stop_server(self, server_id: str, timeout: float) -> Server:
        """Stop the server; the VIM does not restart a server stopped this way by itself."""
        ...

    async def delete_server(self, server_id: str) -> None:
        """Stop if needed and remove; deleting one that is already gone is not an error."""
        ...

    async def get_server(self, server_id: str) -> Server: ...

    async def list_servers(self, labels: dict[str, str] | None = None) -> list[Server]: ...

    async def server_stats(self, server_id: str) -> ServerStats:
        """Resource use of a RUNNING server now; ``Conflict`` when it does not run."""
        ...

    async def servers_stats(
        self, server_ids: Sequence[str], timeout: float
    ) -> dict[str, ServerStats | NuboError]:
        """``server_stats`` of many servers: per server its stats or the error it got
        (``Conflict``, ``NotFound``; ``VimTimeout`` when its answer took longer than
        ``timeout`` seconds: the bound is per server, a slow one delays no other)."""
        ...

    async def put_files(self, server_id: str, directory: str, files: Mapping[str, bytes]) -> None:
        """Write ``files`` (name -> content, executable) into ``directory`` of a RUNNING server.

        The directory is made when missing; ``Conflict`` when the server does not run.
        """
        ...

    async def exec_in_server(
        self,
        server_id: str,
        command: Sequence[str],
        environment: Mapping[str, str],
        timeout: float,
    ) -> ExecResult:
        """Run ``command`` inside a RUNNING server, with its environment plus ``environment``.

        Returns once the command has ended, whatever its exit code;
        ``VimTimeout`` when it runs longer than ``timeout`` seconds, ``Conflict``
        when the server does not run.
        """
        ...

    def events(self) -> AsyncGenerator[ServerEvent, None]:
        """Follow state changes of the servers nubo manages, until closed.

        Implementations are async generators. Events are hints, not the truth:
        one may be lost while the stream reconnects, so consumers re-read the
        servers they care about. Raises ``VimUnreachable`` when the VIM cannot
        be reached or the stream breaks. Close it (``aclose``, or
        ``contextlib.aclosing``) so the driver stops following.
        """
        ...

    async def close(self) -> None: ...
