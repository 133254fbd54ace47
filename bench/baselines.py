"""What nubo's instantiation is compared with: the same NS built by hand on Docker.

``Topology`` reads an NSD with nubo's own parser and lays it out as a user
would by hand: one bridge network per virtual link on a /24 chosen before the
timed part, one container per VNF on the links of its VNFC, with a fixed
address per link and the environment nubo would give it (configuration
parameters and dependency variables, which name the sources' addresses).

``sdk_once`` builds it with sequential low-level Docker SDK calls, the fewest
a correct script needs: create each network, then per VNF in dependency
order create the container (``network_mode`` its first network, the address
pinned), connect it to its other networks, start it and inspect it once to
check that it runs with its addresses (nubo checks that it runs).
``compose_once`` writes the same as a compose file and times
``docker-compose up -d``, with ``depends_on`` for the dependencies.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker

from nubo.descriptors.openbaton import parse_nsd
from nubo.model.descriptors import HOSTNAME_PARAMETER
from nubo.model.topology import dependency_variable, start_order
from nubo.vim.subnets import allocate_subnet

BENCH_LABEL = "io.nubo.bench"
#: the bench's label value on everything the baselines create
BENCH_VALUE = "instantiate"


@dataclass(frozen=True)
class Box:
    """One VNF as a container: its links with addresses, image and environment."""

    name: str
    image: str
    links: list[str]
    addresses: dict[str, str]
    env: dict[str, str]
    sources: list[str]


@dataclass
class Topology:
    """An NSD laid out for the baselines, with subnets chosen once outside the timing."""

    name: str
    links: list[str]
    prefixes: dict[str, str]
    boxes: list[Box] = field(default_factory=list)

    @classmethod
    def of(cls, nsd_path: Path, name: str, client: docker.DockerClient) -> Topology:
        nsd = parse_nsd(nsd_path.read_bytes())
        links = [vld.name for vld in nsd.vlds]
        prefixes = _free_prefixes(client, len(links))
        topo = cls(name=name, links=links, prefixes=dict(zip(links, prefixes, strict=True)))
        taken = dict.fromkeys(links, 1)
        addresses: dict[str, dict[str, str]] = {}
        for vnfd in nsd.vnfds:
            own = vnfd.vdus[0].vnfc_templates[0].connection_points
            vnf_links = [cp.virtual_link_reference for cp in own] or list(vnfd.virtual_links)
            addresses[vnfd.name] = {}
            for link in vnf_links:
                taken[link] += 1
                addresses[vnfd.name][link] = f"{topo.prefixes[link]}.{taken[link]}"
        order = [name for wave in start_order(nsd) for name in wave]
        for vnf in order:
            vnfd = nsd.vnfd(vnf)
            env = dict(vnfd.vdus[0].environment) | dict(vnfd.configuration.as_env())
            sources = []
            for dep in nsd.dependencies:
                if dep.target != vnf:
                    continue
                sources.append(dep.source)
                source = nsd.vnfd(dep.source)
                for parameter in dep.parameters:
                    value = addresses[dep.source].get(parameter, "")
                    if parameter == HOSTNAME_PARAMETER:
                        value = dep.source
                    env[dependency_variable(source.type, parameter)] = value
            topo.boxes.append(
                Box(
                    name=vnf,
                    image=vnfd.vdus[0].image,
                    links=list(addresses[vnf]),
                    addresses=addresses[vnf],
                    env=env,
                    sources=sources,
                )
            )
        return topo


def _free_prefixes(client: docker.DockerClient, count: int) -> list[str]:
    used = [
        c["Subnet"]
        for n in client.api.networks()
        for c in (n.get("IPAM") or {}).get("Config") or []
        if c.get("Subnet")
    ]
    prefixes = []
    for _ in range(count):
        cidr = allocate_subnet("10.250.0.0/16", 24, used)
        used.append(cidr)
        prefixes.append(cidr.rsplit(".", 1)[0])
    return prefixes


@dataclass(frozen=True)
class Phases:
    """Seconds one deployment spent, in all and per kind of engine call."""

    total: float
    network: float
    create: float
    start: float


def sdk_once(client: docker.DockerClient, topo: Topology) -> Phases:
    """The topology with sequential low-level SDK calls (see the module docstring)."""
    api, tag = client.api, uuid.uuid4().hex[:8]
    labels = {BENCH_LABEL: BENCH_VALUE}
    created: list[str] = []
    t0 = time.perf_counter()
    nets = {}
    for link in topo.links:
        prefix = topo.prefixes[link]
        pool = docker.types.IPAMPool(subnet=f"{prefix}.0/24", gateway=f"{prefix}.1")
        ipam = docker.types.IPAMConfig(pool_configs=[pool])
        made = api.create_network(f"bench-{tag}-{link}", driver="bridge", ipam=ipam, labels=labels)
        nets[link] = made["Id"]
    network = time.perf_counter() - t0
    create = start = 0.0
    try:
        for box in topo.boxes:
            t1 = time.perf_counter()
            first = box.links[0]
            container = api.create_container(
                box.image,
                name=f"bench-{tag}-{box.name}",
                hostname=box.name,
                labels=labels,
                environment=[f"{k}={v}" for k, v in box.env.items()],
                host_config=api.create_host_config(network_mode=nets[first]),
                networking_config=api.create_networking_config(
                    {nets[first]: api.create_endpoint_config(ipv4_address=box.addresses[first])}
                ),
                use_config_proxy=False,
            )
            created.append(container["Id"])
            for link in box.links[1:]:
                api.connect_container_to_network(
                    container["Id"], nets[link], ipv4_address=box.addresses[link]
                )
            t2 = time.perf_counter()
            api.start(container["Id"])
            _check_running(box, api.inspect_container(container["Id"]))
            t3 = time.perf_counter()
            create, start = create + t2 - t1, start + t3 - t2
        total = time.perf_counter() - t0
    finally:
        for cid in created:
            api.remove_container(cid, force=True)
        for net in nets.values():
            api.remove_network(net)
    return Phases(total=total, network=network, create=create, start=start)


def _check_running(box: Box, payload: dict[str, Any]) -> None:
    """The container runs with its pinned addresses (one inspect tells both)."""
    status = (payload.get("State") or {}).get("Status")
    attached = (payload.get("NetworkSettings") or {}).get("Networks") or {}
    addresses = sorted(n.get("IPAddress", "") for n in attached.values())
    if status != "running" or addresses != sorted(box.addresses.values()):
        raise SystemExit(f"baseline container {box.name}: {status}, addresses {addresses}")


def compose_document(topo: Topology) -> dict[str, Any]:
    """The topology as a compose file (format 2.4: fixed addresses, ``depends_on``)."""
    labels = {BENCH_LABEL: BENCH_VALUE}
    networks = {
        link: {
            "driver": "bridge",
            "labels": labels,
            "ipam": {"config": [{"subnet": f"{p}.0/24", "gateway": f"{p}.1"}]},
        }
        for link, p in topo.prefixes.items()
    }
    services = {}
    for box in topo.boxes:
        service: dict[str, Any] = {
            "image": box.image,
            "hostname": box.name,
            "labels": labels,
            "environment": box.env,
            "networks": {link: {"ipv4_address": box.addresses[link]} for link in box.links},
        }
        if box.sources:
            service["depends_on"] = box.sources
        services[box.name] = service
    return {"version": "2.4", "services": services, "networks": networks}


def compose_once(topo: Topology) -> float:
    """Seconds ``docker-compose up -d`` takes for the topology; ``down`` afterwards, untimed."""
    project = f"bench{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="nubo-bench-compose-") as tmp:
        path = Path(tmp) / "docker-compose.yml"
        path.write_text(json.dumps(compose_document(topo), indent=1))  # JSON is YAML
        command = ["docker-compose", "-p", project, "-f", str(path)]
        t0 = time.perf_counter()
        up = subprocess.run([*command, "up", "-d"], capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - t0
        subprocess.run([*command, "down", "-t", "1"], capture_output=True, check=False)
    if up.returncode != 0:
        raise SystemExit(f"docker-compose up failed:\n{up.stderr[-2000:]}")
    return elapsed


def remove_leftovers(client: docker.DockerClient) -> None:
    """Whatever a baseline interrupted half-way left, by the bench's label."""
    wanted = {"label": f"{BENCH_LABEL}={BENCH_VALUE}"}
    for box in client.containers.list(all=True, filters=wanted, ignore_removed=True):
        box.remove(force=True)
    for net in client.networks.list(filters=wanted):
        net.remove()
