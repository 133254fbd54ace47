"""The Docker Engine VIM driver, with the Pop semantics of 003 §4.2-4.4.

A server is only a record in this driver until it is prepared or started:
``create_server`` reserves its addresses (so the NFVO can hand them to
dependants), metadata may be merged while it is CREATED, ``prepare_server``
creates the Docker container with the metadata as environment and the reserved
addresses pinned (still CREATED, its environment fixed from then on), and
``start_server`` starts it, creating it first when it was not prepared. A
prepared container lets an orchestrator create every container of an NS at
once and keep only the starts in dependency order.
Containers carry ``LABEL_SERVER`` so a restarted orchestrator finds them again.

Every container gets the restart policy ``on-failure`` with at most
``restart_retries`` (VIM extra, default 3) restarts: when its process dies
(a non-zero exit: a crash, an OOM kill, a ``kill -9``) the engine starts it
again in place, faster than any orchestrator could, and nubo only records
it. ``on-failure`` rather than ``unless-stopped`` or ``always``: it is the one
policy with a retry bound, so a crash loop ends instead of the engine
restarting it forever, and a process that exits 0 (it chose to end) is left
to nubo's healer and its policy. What the engine never restarts: a container
stopped (``stop_server``) or killed through the API (``docker kill``, a manual
stop for the engine) or removed; so a VNFC stopped on purpose stays stopped.
The engine counts its restarts since the container's last start through the
API (nubo's heal resets it): ``Server.restart_count``.
The engine connection lives in ``engine``, networks and address reservations
in ``networks``, payload mapping in ``payloads``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncGenerator, Mapping, Sequence
from dataclasses import replace
from typing import ClassVar

from nubo.model.errors import Conflict, NotFound, NuboError, VimError, VimTimeout
from nubo.vim.batch import each_bounded
from nubo.vim.docker.engine import DockerEngine, gather_all
from nubo.vim.docker.events import follow_events
from nubo.vim.docker.execs import DockerExecs
from nubo.vim.docker.listing import ServerListing
from nubo.vim.docker.networks import DockerNetworks
from nubo.vim.docker.payloads import (
    LABEL_POP,
    PopServer,
    container_status,
    early_exit_error,
    image_of,
    truncate,
)
from nubo.vim.docker.stats import DockerStats
from nubo.vim.port import (
    LABEL_MANAGED,
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

POLL_INTERVAL = 0.05
#: the engine's own restarts of a crashed container, per start through the API
RESTART_RETRIES = 3
LOG_TAIL_LINES = 20
_FINAL = {ServerStatus.EXITED, ServerStatus.FAILED}


class DockerVimDriver:
    """VimDriver for one Docker Engine (``config.endpoint``, default the local socket)."""

    vim_type: ClassVar[str] = "docker"

    def __init__(self, config: VimConfig) -> None:
        self._engine = DockerEngine(config.endpoint, float(config.extra.get("api_timeout", "60")))
        self._networks = DockerNetworks(self._engine, config)
        #: seconds a started container must stay up to count as RUNNING (0: first poll)
        self._start_grace = float(config.extra.get("start_grace", "0"))
        #: restarts the engine makes by itself, per start through the API (0: no policy)
        self._restart_retries = int(config.extra.get("restart_retries", str(RESTART_RETRIES)))
        self._records: dict[str, PopServer] = {}
        self._listing = ServerListing(self._engine)
        self._stats = DockerStats(self._engine)
        self._execs = DockerExecs(self._engine)

    async def close(self) -> None:
        self._stats.close()
        await self._engine.close()

    # -- catalogue ------------------------------------------------------------------
    async def info(self) -> VimInfo:
        managed = {"label": [f"{LABEL_MANAGED}=true"]}
        version, containers, networks = await gather_all(
            self._engine.call("version", "version"),
            self._engine.call(
                "list containers", "containers", all=True, quiet=True, filters=managed
            ),
            self._engine.call("list networks", "networks", filters=managed),
        )
        started = {c["Id"] for c in containers}
        pending = [r for r in self._records.values() if r.container_id not in started]
        return VimInfo(
            type=self.vim_type,
            version=str(version.get("Version", "")),
            servers=len(started) + len(pending),
            networks=len(networks),
        )

    async def list_images(self) -> list[Image]:
        images = await self._engine.call("list images", "images")
        return [image_of(img) for img in images]

    async def has_image(self, name: str) -> bool:
        return (
            await self._engine.call_or_none("inspect image", "inspect_image", name, _image=name)
            is not None
        )

    async def list_flavours(self) -> list[Flavour]:
        # 003 §4.4.3: flavours are ignored; one unlimited flavour for interoperability
        return [Flavour(key="docker.container")]

    async def quota(self) -> Quota:
        info, free_subnets = await gather_all(
            self._engine.call("info", "info"), self._networks.free_subnets()
        )
        return Quota(
            networks=free_subnets,
            cpus=int(info.get("NCPU", -1)),
            memory_mb=int(info.get("MemTotal", -1048576)) // 1048576,
        )

    # -- networks: see networks ----------------------------------------------------
    async def create_network(self, spec: NetworkSpec) -> Network:
        return await self._networks.create_network(spec)

    async def list_networks(self, labels: dict[str, str] | None = None) -> list[Network]:
        return await self._networks.list_networks(labels)

    async def delete_network(self, network_id: str) -> None:
        await self._networks.delete_network(network_id)

    # -- servers: Pop create / metadata --------------------------------------------
    async def create_server(self, spec: ServerSpec) -> Server:
        if not spec.networks:
            raise VimError(f"server {spec.name}: at least one network is required")
        record = PopServer(id=str(uuid.uuid4()), spec=spec, addresses={}, metadata={})
        await self._networks.reserve(record)
        record.metadata = {k: v for k, v in spec.metadata.items() if v != ""}
        self._records[record.id] = record
        return record.server()

    async def set_metadata(self, server_id: str, metadata: dict[str, str]) -> Server:
        record = self._records.get(server_id)
        if record is not None and record.container_id and record.status is ServerStatus.CREATED:
            raise Conflict(f"server {server_id} is prepared: its environment is fixed")
        if record is None or record.status is not ServerStatus.CREATED:
            current = record.status if record else (await self.get_server(server_id)).status
            raise Conflict(
                f"server {server_id} is {current}: metadata can change only while CREATED"
            )
        for key, value in metadata.items():  # Pop: an empty value deletes the key
            if value == "":
                record.metadata.pop(key, None)
            else:
                record.metadata[key] = value
        return record.server()

    async def prepare_server(self, server_id: str) -> Server:
        """Create the container of a CREATED server, so that starting it is a start only."""
        record = self._records.get(server_id)
        if record is None:  # not this process's record: the container exists or nothing does
            return await self.get_server(server_id)
        async with record.lock:
            if record.status is ServerStatus.CREATED and not record.container_id:
                try:
                    await self._create_container(record)
                except VimError as exc:
                    await self._fail(record, exc.detail)
                    raise
        return record.server()

    # -- servers: Pop start / stop / delete ----------------------------------------
    async def start_server(self, server_id: str, timeout: float) -> Server:
        record = self._records.get(server_id)
        if record is None or record.status is not ServerStatus.CREATED:
            return await self._already_started(server_id, timeout)
        async with record.lock:
            if record.status is not ServerStatus.CREATED:  # a concurrent start won
                return await self._already_started(server_id, timeout)
            try:
                await self._launch(record, time.monotonic() + timeout)
            except VimError as exc:
                await self._fail(record, exc.detail)
                raise
            record.status = ServerStatus.RUNNING
            return record.server()

    async def _already_started(self, server_id: str, timeout: float) -> Server:
        """Starting a RUNNING server is a no-op; a stopped one is started again in place.

        Pop only starts CREATED servers; the Open Baton VNFC start operation
        needs a stopped VNFC to come back with its container, environment and
        address unchanged, so a stopped container is restarted as it is.
        """
        current = await self.get_server(server_id)
        if current.status is ServerStatus.RUNNING:
            return current
        if current.status is ServerStatus.CREATED and current.ext_id:
            # prepared by an orchestrator that stopped before starting it
            await self._engine.call(f"start server {current.name}", "start", current.ext_id)
            await self._wait_running(current.ext_id, current.name, time.monotonic() + timeout)
            return await self.get_server(server_id)
        if current.restarting and current.ext_id:
            # nubo takes over from the engine's restart: stopping cancels it
            await self._engine.call(f"stop server {current.name}", "stop", current.ext_id)
            current = replace(current, status=ServerStatus.FAILED)
        if current.status in _FINAL and current.ext_id:
            self._listing.forget(current.ext_id)  # how it ended is no longer true
            await self._engine.call(f"start server {current.name}", "start", current.ext_id)
            await self._wait_running(current.ext_id, current.name, time.monotonic() + timeout)
            return await self.get_server(server_id)
        raise Conflict(f"server {server_id} is {current.status}: it cannot be started")

    async def _launch(self, record: PopServer, deadline: float) -> None:
        if not record.container_id:
            await self._create_container(record)
        name = record.spec.name
        await self._engine.call(f"start server {name}", "start", record.container_id)
        await self._wait_running(record.container_id, name, deadline)

    async def _create_container(self, record: PopServer) -> None:
        spec, api = record.spec, await self._engine.api()
        links = [(link, net, record.addresses[link]) for link, net in spec.networks.items()]
        pop = {
            "links": {link: [net, addr] for link, net, addr in links},
            "env": sorted(record.metadata),
            # the list call names the image by id once its tag has moved on
            "image": spec.image,
            # Docker merges the image's labels into the container's: remember ours
            "labels": sorted(record.server().labels),
        }
        labels = {**record.server().labels, LABEL_POP: json.dumps(pop, separators=(",", ":"))}
        _, first_net, first_addr = links[0]
        created = await self._engine.run(
            f"create container for server {spec.name}",
            api.create_container,
            spec.image,
            name=spec.name,
            hostname=spec.hostname or None,
            labels=labels,
            environment=[f"{k}={v}" for k, v in record.metadata.items()],
            host_config=api.create_host_config(
                network_mode=first_net, restart_policy=self._restart_policy()
            ),
            networking_config=api.create_networking_config(
                {first_net: api.create_endpoint_config(ipv4_address=first_addr)}
            ),
            use_config_proxy=False,
            _image=spec.image,
        )
        record.container_id = created["Id"]
        for _, net, addr in links[1:]:
            await self._engine.run(
                f"connect server {spec.name} to network {net}",
                api.connect_container_to_network,
                record.container_id,
                net,
                ipv4_address=addr,
            )

    def _restart_policy(self) -> dict[str, object] | None:
        if self._restart_retries <= 0:
            return None
        return {"Name": "on-failure", "MaximumRetryCount": self._restart_retries}

    async def _wait_running(self, container_id: str, name: str, deadline: float) -> None:
        """Poll until the container runs (``start_grace``); its first stats reading then."""
        started = time.monotonic()
        while True:
            payload = await self._engine.call(
                "inspect container", "inspect_container", container_id
            )
            state = payload.get("State") or {}
            status = container_status(state)
            now = time.monotonic()
            if status is ServerStatus.RUNNING and now - started >= self._start_grace:
                labels = (payload.get("Config") or {}).get("Labels") or {}
                if labels.get(LABEL_SERVER):
                    self._stats.prime(str(labels[LABEL_SERVER]), container_id, payload)
                return
            # died already: the engine's restart policy may be restarting it (or
            # have restarted it: a start through the API resets its restart count)
            if status in _FINAL or state.get("Restarting") or payload.get("RestartCount"):
                tail = await self._log_tail(container_id)
                raise early_exit_error(name, state, tail)
            if now >= deadline:
                status_now = state.get("Status")
                raise VimTimeout(f"server {name} not running (state {status_now})")
            await asyncio.sleep(POLL_INTERVAL)

    async def _log_tail(self, container_id: str) -> str:
        try:
            raw = await self._engine.call(
                "container logs", "logs", container_id, tail=LOG_TAIL_LINES
            )
        except VimError:
            return ""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
        return text[-2000:].strip()

    async def _fail(self, record: PopServer, detail: str) -> None:
        """Record a failed start: the container (if any) is removed, addresses released."""
        if record.container_id:
            with contextlib.suppress(VimError):  # best effort: delete_server retries by label
                await self._engine.call_or_none(
                    "remove", "remove_container", record.container_id, force=True
                )
        record.status, record.detail, record.container_id = (
            ServerStatus.FAILED,
            truncate(detail, 2000),
            "",
        )
        self._networks.release(record)

    async def stop_server(self, server_id: str, timeout: float) -> Server:
        record = self._records.get(server_id)
        if record is not None and not record.container_id:
            if record.status is ServerStatus.CREATED:  # never ran: nothing to stop
                record.status = ServerStatus.EXITED
                self._networks.release(record)
            return record.server()
        current = await self.get_server(server_id)
        if current.ext_id and current.status in (ServerStatus.RUNNING, ServerStatus.STOPPING):
            await self._engine.call(
                f"stop server {current.name}",
                "stop",
                current.ext_id,
                timeout=max(0, round(timeout)),
            )
            current = await self.get_server(server_id)
            if current.status is ServerStatus.FAILED and "OOM" not in current.detail:
                # killed because it ignored our SIGTERM: a requested stop, not a crash
                current = replace(current, status=ServerStatus.EXITED, detail="")
        if record is not None:
            record.status, record.detail = current.status, current.detail
            self._networks.release(record)
        return current

    async def delete_server(self, server_id: str) -> None:
        record = self._records.pop(server_id, None)
        self._stats.forget(server_id)
        if record is not None:
            self._networks.release(record)
        if record is not None and record.container_id:
            ids = [record.container_id]
        else:
            ids = await self._find_containers({LABEL_SERVER: server_id})
        for cid in ids:
            self._listing.forget(cid)
            await self._engine.call_or_none(
                f"remove server {server_id}", "remove_container", cid, force=True
            )

    # -- servers: queries -----------------------------------------------------------
    async def _find_containers(self, labels: dict[str, str]) -> list[str]:
        filters = {"label": [f"{LABEL_MANAGED}=true", *(f"{k}={v}" for k, v in labels.items())]}
        found = await self._engine.call(
            "list containers", "containers", all=True, quiet=True, filters=filters
        )
        return [c["Id"] for c in found]

    def _launched(self) -> dict[str, PopServer]:
        return {r.container_id: r for r in self._records.values() if r.container_id}

    async def get_server(self, server_id: str) -> Server:
        record = self._records.get(server_id)
        if record is not None and not record.container_id:
            return record.server()
        found = await self._listing.servers({LABEL_SERVER: server_id}, self._launched())
        if record is not None:
            found.sort(key=lambda server: server.ext_id != record.container_id)
        if found:
            return found[0]
        if record is not None:
            return replace(
                record.server(), status=ServerStatus.FAILED, detail="container vanished", ext_id=""
            )
        raise NotFound(f"server {server_id} not found on the Docker VIM")

    async def list_servers(self, labels: dict[str, str] | None = None) -> list[Server]:
        """The servers carrying ``labels``: one list call (see ``listing``) plus CREATED records."""
        wanted = labels or {}
        servers = await self._listing.servers(wanted, self._launched())
        in_docker = {s.id for s in servers}
        for record in self._records.values():
            server = record.server()
            if (
                server.id not in in_docker
                and not record.container_id
                and wanted.items() <= server.labels.items()
            ):
                servers.append(server)
        return servers

    async def server_stats(self, server_id: str) -> ServerStats:
        """One-shot stats of the server's container (see ``stats``)."""
        return await self._stats.server_stats(server_id, self._stats_container(server_id))

    async def servers_stats(
        self, server_ids: Sequence[str], timeout: float
    ) -> dict[str, ServerStats | NuboError]:
        """Local containers from their counters in one pass; the others (a remote
        engine, a container not seen yet) one call each, bounded (``each_bounded``)."""
        answers: dict[str, ServerStats | NuboError] = {}
        asked = []
        for server_id in server_ids:
            try:
                counted = self._stats.counted(server_id, self._stats_container(server_id))
            except Conflict as exc:
                answers[server_id] = exc
                continue
            if counted is not None:
                answers[server_id] = counted
            else:
                asked.append(server_id)
        answers.update(await each_bounded(self.server_stats, asked, timeout))
        return answers

    def _stats_container(self, server_id: str) -> str:
        """The container of a server this driver launched ("": not known, look it up);
        ``Conflict`` when it has none, so no stats."""
        record = self._records.get(server_id)
        if record is not None and not record.container_id:
            raise Conflict(f"server {server_id} is {record.status}: no stats")
        return record.container_id if record else ""

    # -- exec: see execs ------------------------------------------------------------
    async def _running(self, server_id: str) -> Server:
        server = await self.get_server(server_id)
        if server.status is not ServerStatus.RUNNING or not server.ext_id:
            raise Conflict(f"server {server_id} is {server.status}: it does not run")
        return server

    async def put_files(self, server_id: str, directory: str, files: Mapping[str, bytes]) -> None:
        server = await self._running(server_id)
        await self._execs.put_files(server.ext_id, server.name, directory, files)

    async def exec_in_server(
        self,
        server_id: str,
        command: Sequence[str],
        environment: Mapping[str, str],
        timeout: float,
    ) -> ExecResult:
        server = await self._running(server_id)
        return await self._execs.run(server.ext_id, server.name, command, environment, timeout)

    # -- events: see events --------------------------------------------------------
    async def events(self) -> AsyncGenerator[ServerEvent, None]:
        """Follow the engine's event stream (container events of managed servers).

        Each event is noted by the listing before the consumer sees it: the
        consumer's next listing then agrees with the event (see ``listing``).
        """
        try:
            async with contextlib.aclosing(follow_events(self._engine)) as events:
                async for event in events:
                    self._listing.note(event)
                    yield event
        finally:
            self._listing.doubt()  # what happens from now on is told by no event


def register(registry: DriverRegistry) -> None:
    """Register the Docker Engine driver under VIM type ``docker``."""
    registry.register(DockerVimDriver.vim_type, DockerVimDriver)
