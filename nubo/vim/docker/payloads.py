"""Pure mapping between Docker Engine payloads / SDK errors and the VIM port types.

Kept apart from the driver so the driver module holds only the Pop state
machine and its Docker calls; nothing here performs I/O.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Required, TypedDict

import docker.errors
import requests.exceptions

from nubo.model.errors import ImageNotFound, VimError, VimTimeout, VimUnreachable
from nubo.vim.port import (
    LABEL_MANAGED,
    LABEL_PREFIX,
    LABEL_SERVER,
    Image,
    Network,
    Server,
    ServerSpec,
    ServerStatus,
)
from nubo.vim.subnets import gateway_of

#: driver-private label holding the Pop view (links, metadata keys); stripped from Server.labels
LABEL_POP = LABEL_PREFIX + "vim.pop"
_PRIVATE = LABEL_PREFIX + "vim."


def truncate(text: str, limit: int = 400) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


def wrap_error(exc: Exception, what: str, image: str = "") -> VimError:
    """Map a docker SDK / requests exception to nubo's VimError family."""
    if isinstance(exc, docker.errors.ImageNotFound) or (
        image and isinstance(exc, docker.errors.NotFound) and "image" in str(exc).lower()
    ):
        return ImageNotFound(f"image {image or '?'} not found on the Docker VIM", image=image)
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.ConnectionError):
        return VimUnreachable(f"{what}: Docker Engine unreachable: {truncate(str(exc))}")
    if isinstance(exc, requests.exceptions.Timeout):
        return VimTimeout(f"{what}: Docker Engine did not answer in time")
    if isinstance(exc, docker.errors.APIError):
        body = exc.explanation or str(exc)
        return VimError(f"{what}: {truncate(str(body))}", status_code=exc.status_code)
    if isinstance(exc, docker.errors.DockerException) and "connection" in str(exc).lower():
        return VimUnreachable(f"{what}: Docker Engine unreachable: {truncate(str(exc))}")
    return VimError(f"{what}: {type(exc).__name__}: {truncate(str(exc))}")


def container_status(state: dict[str, Any]) -> ServerStatus:
    status = str(state.get("Status", ""))
    if status in ("running", "paused"):
        return ServerStatus.RUNNING
    if status == "created":
        return ServerStatus.CREATED
    if status in ("removing", "restarting"):
        return ServerStatus.STOPPING
    # 143: ended by SIGTERM, i.e. a requested stop the image did not trap
    if status == "exited" and state.get("ExitCode") in (0, 143) and not state.get("OOMKilled"):
        return ServerStatus.EXITED
    return ServerStatus.FAILED


def network_of(payload: dict[str, Any]) -> Network:
    configs = (payload.get("IPAM") or {}).get("Config") or []
    v4 = [c for c in configs if c.get("Subnet") and ":" not in c["Subnet"]]
    cidr = v4[0]["Subnet"] if v4 else ""
    gateway = (v4[0].get("Gateway") or gateway_of(cidr)) if v4 else ""
    labels = dict(payload.get("Labels") or {})
    return Network(
        id=payload["Id"], name=payload["Name"], cidr=cidr, gateway=gateway, labels=labels
    )


class RawIpamConfig(TypedDict, total=False):
    """The address pinned at create time (``IPAMConfig`` of an endpoint)."""

    IPv4Address: str


class RawEndpoint(TypedDict, total=False):
    """A container's endpoint on one network, in a list item or an inspect alike.

    ``NetworkID`` and ``IPAddress`` are empty until the container runs.
    """

    NetworkID: str
    IPAddress: str
    IPAMConfig: RawIpamConfig | None


class RawNetworkSettings(TypedDict, total=False):
    Networks: dict[str, RawEndpoint] | None


class RawContainerSummary(TypedDict, total=False):
    """One item of ``GET /containers/json`` (Engine 20.10, API 1.41), the fields nubo reads.

    ``State`` is created / running / paused / restarting / removing / exited /
    dead; ``Status`` is text for people ("Up 3 seconds", "Exited (137) 3
    seconds ago") and the only place the list tells an exit code.
    """

    Id: Required[str]
    Names: list[str]
    Image: str
    Labels: dict[str, str] | None
    State: str
    Status: str
    NetworkSettings: RawNetworkSettings


#: a time as the engine writes it ("2026-12-08T03:56:01.123456789Z")
_RFC3339 = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")
#: an exit code as the list's ``Status`` text tells it ("Exited (137) 3 seconds ago")
_EXIT_IN_STATUS = re.compile(r"^(?:Exited|Restarting) \((-?\d+)\)")
#: list states whose exit code, OOM flag and error only an inspect tells
ENDED_STATES = frozenset({"exited", "dead"})


def exit_code_in(status_text: str) -> int | None:
    """The exit code a list item's ``Status`` text tells, or None when it tells none."""
    found = _EXIT_IN_STATUS.match(status_text)
    return int(found.group(1)) if found else None


def labels_of(payload: dict[str, Any]) -> dict[str, str]:
    return dict((payload.get("Config") or {}).get("Labels") or {})


def _server(
    container_id: str,
    name: str,
    image: str,
    labels: dict[str, str],
    networks: dict[str, RawEndpoint],
    state: dict[str, Any],
    env: dict[str, str],
    restart_count: int = 0,
    started_at: float = 0.0,
) -> Server:
    """The Server of one container, however the engine described it (list or inspect).

    A container the engine is restarting (its restart policy, after its process
    died) is STOPPING and ``restarting``, its detail the exit code it died with.
    """
    pop = json.loads(labels.get(LABEL_POP, "{}"))
    attached = {ep.get("NetworkID"): ep.get("IPAddress") for ep in networks.values()}
    addresses = {
        link: attached.get(net) or addr for link, (net, addr) in pop.get("links", {}).items()
    }
    ours = set(pop.get("labels") or labels)
    status = container_status(state)
    detail = ""
    if status is ServerStatus.FAILED:
        detail = f"exit code {state.get('ExitCode')}" + (
            ", OOM killed" if state.get("OOMKilled") else ""
        )
        detail += f": {state['Error']}" if state.get("Error") else ""
    restarting = str(state.get("Status", "")) == "restarting"
    if restarting:
        detail = f"exit code {state.get('ExitCode')}, the engine restarts it"
    return Server(
        id=labels.get(LABEL_SERVER, ""),
        name=name,
        image=str(pop.get("image") or image),
        status=status,
        addresses=addresses,
        labels={k: v for k, v in labels.items() if k in ours and not k.startswith(_PRIVATE)},
        metadata={k: env[k] for k in pop.get("env", []) if k in env},
        ext_id=container_id,
        detail=detail,
        restarting=restarting,
        restart_count=restart_count,
        started_at=started_at,
    )


def server_of(payload: dict[str, Any]) -> Server:
    """A Server from a ``docker inspect`` of a container nubo started."""
    config = payload.get("Config") or {}
    env = dict(e.split("=", 1) for e in config.get("Env") or [] if "=" in e)
    return _server(
        container_id=str(payload.get("Id", "")),
        name=str(payload.get("Name", "")).lstrip("/"),
        image=str(config.get("Image", "")),
        labels=labels_of(payload),
        networks=(payload.get("NetworkSettings") or {}).get("Networks") or {},
        state=payload.get("State") or {},
        env=env,
        restart_count=int(payload.get("RestartCount") or 0),
        started_at=started_at_of(str((payload.get("State") or {}).get("StartedAt") or "")),
    )


def started_at_of(stamp: str) -> float:
    """Seconds since the epoch of an engine's RFC 3339 time (nanoseconds cut); 0 if none."""
    found = _RFC3339.match(stamp)
    if found is None or stamp.startswith("0001-"):
        return 0.0
    whole, fraction, zone = found.groups()
    zone = "+00:00" if zone == "Z" else zone
    return datetime.fromisoformat(f"{whole}.{(fraction or '0')[:6]:0<6}{zone}").timestamp()


def server_of_summary(item: RawContainerSummary, metadata: dict[str, str]) -> Server:
    """A Server from one list item of a container nubo started.

    The list holds no environment, so ``metadata`` (the server's, known from
    its record or an earlier inspect) is passed in. Of an ended container
    (``ENDED_STATES``) the list tells the exit code at most, not whether it
    was OOM killed nor the engine's error: where those matter, inspect it and
    use ``server_of``.
    """
    names = [n.lstrip("/") for n in item.get("Names") or []]
    # a legacy link adds "/other/alias" names; the container's own name has no "/"
    own = [n for n in names if "/" not in n]
    return _server(
        container_id=item["Id"],
        name=(own or names or [""])[0],
        image=item.get("Image", ""),
        labels=dict(item.get("Labels") or {}),
        networks=(item.get("NetworkSettings") or {}).get("Networks") or {},
        state={"Status": item.get("State", ""), "ExitCode": exit_code_in(item.get("Status", ""))},
        env=metadata,
    )


def subnets_of(payload: dict[str, Any]) -> list[str]:
    """Every subnet (v4 or v6) a network payload's IPAM config holds."""
    return [c["Subnet"] for c in (payload.get("IPAM") or {}).get("Config") or [] if c.get("Subnet")]


def addresses_in_use(network: dict[str, Any], created: list[dict[str, Any]]) -> set[str]:
    """Addresses of containers attached to ``network`` plus those pinned by ``created`` ones.

    Containers that were created but never started hold no endpoint yet; their
    pinned IPAM address is only visible in their own settings.
    """
    used = {
        ep["IPv4Address"].split("/")[0]
        for ep in (network.get("Containers") or {}).values()
        if ep.get("IPv4Address")
    }
    for ctr in created:
        for name, ep in ((ctr.get("NetworkSettings") or {}).get("Networks") or {}).items():
            pinned = (ep.get("IPAMConfig") or {}).get("IPv4Address")
            if pinned and (ep.get("NetworkID") == network["Id"] or name == network["Name"]):
                used.add(pinned)
    return used


def image_of(payload: dict[str, Any]) -> Image:
    return Image(
        id=payload["Id"],
        names=tuple(t for t in payload.get("RepoTags") or () if t != "<none>:<none>"),
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(payload.get("Created", 0))),
        size=int(payload.get("Size", 0)),
    )


def early_exit_error(name: str, state: dict[str, Any], log_tail: str) -> VimError:
    """The error of a container that ended right after its start, with its last log lines."""
    oom = ", OOM killed" if state.get("OOMKilled") else ""
    detail = f"server {name} exited right after start (exit code {state.get('ExitCode')}{oom})"
    if log_tail:
        detail += f"; last log lines:\n{log_tail}"
    return VimError(detail, exit_code=state.get("ExitCode"), log_tail=log_tail)


@dataclass
class PopServer:
    """The driver's record of a server: CREATED (no container yet), started or failed."""

    id: str
    spec: ServerSpec
    addresses: dict[str, str]
    metadata: dict[str, str]
    status: ServerStatus = ServerStatus.CREATED
    container_id: str = ""
    detail: str = ""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def server(self) -> Server:
        labels = dict(self.spec.labels)
        labels.update({LABEL_SERVER: self.id, LABEL_MANAGED: "true"})
        return Server(
            id=self.id,
            name=self.spec.name,
            image=self.spec.image,
            status=self.status,
            addresses=dict(self.addresses),
            labels=labels,
            metadata=dict(self.metadata),
            ext_id=self.container_id,
            detail=self.detail,
        )
