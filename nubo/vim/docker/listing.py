"""The servers nubo manages on one engine, from one container list call.

The fault watcher lists every managed server of a VIM each second, so a
listing must cost the same at ten containers as at five hundred: one
``GET /containers/json`` tells state, name, labels and addresses. What the
list does not tell needs an inspect, asked once per container and fact, not
once per listing:

- the metadata (environment) of a container this driver did not start, as
  after an orchestrator restart: it never changes for a container, so it is
  kept until the container is gone;
- why an ended container ended (exit code, OOM kill, the engine's error): kept
  while the list shows the container in the same state with the same exit
  code. A container restarted behind nubo's back that ends again with the
  same code between two listings keeps the first end's OOM flag and error.

The list lags behind the event stream: Engine 20.10 sends ``die`` while
``GET /containers/json`` still says running (its view is updated after the
event), and an inspect already says exited. The fault watcher checks an NS
on each event, so a listing answered from the list alone would miss the very
exit the event announced. The driver therefore notes each event it hands to
a consumer (before the consumer sees it), and a container whose last event
disagrees with the list (ended or not) is inspected until the list agrees.
With nobody following events, a listing tells an exit as late as the list.

After the event stream broke (``doubt``), the next listing of every managed
server inspects each container once: the engine may have restarted
containers meanwhile (after its own restart, their restart policy), which
only an inspect tells (``Server.started_at``, ``restart_count``).

A container the engine is restarting (its restart policy) is inspected on
every listing while it is: the list tells neither its restart count nor,
as it lags, whether the restart the ``start`` event announced has happened.

At rest a listing is one request, and each container that ends costs an
inspect or two. A cache of states fed by the event stream instead of the
list would save that one request without being right more often: after an
engine restart, or with nobody following events, it needs this listing
anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nubo.vim.docker.engine import DockerEngine, gather_all
from nubo.vim.docker.payloads import (
    ENDED_STATES,
    PopServer,
    RawContainerSummary,
    exit_code_in,
    labels_of,
    server_of,
    server_of_summary,
)
from nubo.vim.port import LABEL_MANAGED, LABEL_SERVER, Server, ServerEvent, ServerStatus

#: what a list item says of an ended container: its state and the exit code its text tells
_EndKey = tuple[str, int | None]


@dataclass
class _Seen:
    """What an inspect told of one container, kept while it stays true."""

    labels: dict[str, str]
    metadata: dict[str, str]
    #: of an ended container: the end as the list shows it, and the Server the inspect gave
    ended: tuple[_EndKey, Server] | None = None


def _end_key(item: RawContainerSummary) -> _EndKey:
    state = item.get("State", "")
    return state, exit_code_in(item.get("Status", "")) if state == "exited" else None


def _inspected_end_key(state: dict[str, Any]) -> _EndKey:
    """The key the list will show for this end once its view has caught up."""
    status = str(state.get("Status", ""))
    code = state.get("ExitCode")
    return status, int(code) if status == "exited" and code is not None else None


class ServerListing:
    """Lists the servers' containers; inspects only what the list cannot tell (see above)."""

    def __init__(self, engine: DockerEngine) -> None:
        self._engine = engine
        self._seen: dict[str, _Seen] = {}
        #: per server id, whether its last event said it ended (see the module docstring)
        self._told_ended: dict[str, bool] = {}
        #: the next listing of every managed server inspects them all (see ``doubt``)
        self._doubted = False

    def doubt(self) -> None:
        """The events stopped telling: inspect every container on the next full listing."""
        self._doubted = True

    async def servers(
        self, labels: dict[str, str], launched: Mapping[str, PopServer]
    ) -> list[Server]:
        """Servers whose managed containers carry ``labels``, in the engine's order.

        ``launched`` are the driver's records by container id: their metadata
        is known without an inspect.
        """
        wanted = {LABEL_MANAGED: "true", **labels}
        filters = {"label": [f"{k}={v}" for k, v in wanted.items()]}
        items: list[RawContainerSummary] = await self._engine.call(
            "list containers", "containers", all=True, filters=filters
        )
        ours = [item for item in items if LABEL_SERVER in (item.get("Labels") or {})]
        inspect_all = self._doubted and set(labels) <= {LABEL_MANAGED}  # every managed one
        self._doubted = self._doubted and not inspect_all
        known = [None if inspect_all else self._known(item, launched) for item in ours]
        unknown = [item for item, server in zip(ours, known, strict=True) if server is None]
        inspected = iter(await gather_all(*(self._inspect(item) for item in unknown)))
        servers = [server or next(inspected) for server in known]
        self._forget_gone(wanted, {item["Id"] for item in items})
        return [server for server in servers if server is not None]

    def note(self, event: ServerEvent) -> None:
        """Remember what an event says, before its consumer looks at the servers."""
        if event.status is None:
            self._told_ended.pop(event.server_id, None)
        elif event.status in (ServerStatus.EXITED, ServerStatus.FAILED):
            self._told_ended[event.server_id] = True
        elif event.status is ServerStatus.RUNNING:
            self._told_ended[event.server_id] = False

    def forget(self, container_id: str) -> None:
        """Drop what is kept of a container (removed, or started again by the driver)."""
        self._seen.pop(container_id, None)

    def _known(self, item: RawContainerSummary, launched: Mapping[str, PopServer]) -> Server | None:
        """The item's Server without another request, or None when it needs an inspect."""
        if item.get("State", "") == "restarting":
            return None  # short-lived: see the module docstring
        seen = self._seen.get(item["Id"])
        ended = item.get("State", "") in ENDED_STATES
        server_id = (item.get("Labels") or {})[LABEL_SERVER]
        told = self._told_ended.get(server_id)
        if told is not None and told != ended:
            return None  # the list has not caught up with the event: ask the container
        self._told_ended.pop(server_id, None)
        if ended:
            if seen is not None and seen.ended is not None and seen.ended[0] == _end_key(item):
                return seen.ended[1]
            return None
        if seen is not None:
            seen.ended = None
        record = launched.get(item["Id"])
        if record is not None:
            return server_of_summary(item, record.metadata)
        return server_of_summary(item, seen.metadata) if seen is not None else None

    async def _inspect(self, item: RawContainerSummary) -> Server | None:
        """Inspect one container and keep what it told; None when it is gone meanwhile."""
        payload = await self._engine.call_or_none(
            "inspect container", "inspect_container", item["Id"]
        )
        if payload is None:
            return None
        server = server_of(payload)
        state = payload.get("State") or {}
        ended = state.get("Status") in ENDED_STATES
        down = ended or server.restarting  # as a ``die`` event tells it
        if self._told_ended.get(server.id, down) != down:
            # the container itself says otherwise: an event since was missed (stream down)
            del self._told_ended[server.id]
        self._seen[item["Id"]] = _Seen(
            labels=labels_of(payload),
            metadata=server.metadata,
            ended=(_inspected_end_key(state), server) if ended else None,
        )
        return server

    def _forget_gone(self, wanted: dict[str, str], listed: set[str]) -> None:
        """Containers this listing would have shown but did not are gone."""
        gone = [
            cid
            for cid, seen in self._seen.items()
            if cid not in listed and wanted.items() <= seen.labels.items()
        ]
        for cid in gone:
            del self._seen[cid]
