"""Networks and server addresses on a Docker Engine (003 §4.4.5).

Subnets are chosen against every network on the engine, ours or not, and a
server's addresses are reserved at create time, long before its container
exists. Both need a view of what the engine already uses plus what this
driver has promised, so they live together here, apart from the Pop server
lifecycle in ``driver``.
"""

from __future__ import annotations

import asyncio
import random

import docker

from nubo.model.errors import NotFound, VimError
from nubo.vim.docker.engine import DockerEngine, gather_all
from nubo.vim.docker.payloads import PopServer, addresses_in_use, network_of, subnets_of
from nubo.vim.port import LABEL_MANAGED, Network, NetworkSpec, VimConfig
from nubo.vim.subnets import (
    allocate_subnet,
    check_address,
    count_free_subnets,
    gateway_of,
    next_free_address,
)

#: tries to create a network while other clients of the engine take subnets too
CREATE_ATTEMPTS = 10


class DockerNetworks:
    """Bridge networks carved from the VIM's subnet pool, and the addresses reserved on them."""

    def __init__(self, engine: DockerEngine, config: VimConfig) -> None:
        self._engine = engine
        self._config = config
        self._network_lock = asyncio.Lock()
        self._address_lock = asyncio.Lock()
        #: subnets chosen for networks being created, by claim: not yet on the engine
        self._claimed: dict[object, str] = {}
        #: network id -> reserved address -> server id
        self._reserved: dict[str, dict[str, str]] = {}

    async def free_subnets(self) -> int:
        """How many more networks the subnet pool can give, given every engine network."""
        networks = await self._engine.call("list networks", "networks")
        used = [network_of(n).cidr for n in networks]
        return count_free_subnets(self._config.subnet_pool, self._config.subnet_prefix, used)

    async def create_network(self, spec: NetworkSpec) -> Network:
        """Create ``spec`` on a free subnet, or return the existing network of that name.

        Only the choice of a subnet takes turns: it is claimed under the lock
        and the engine creates networks of one NS (or of several) at once.
        """
        labels = {**spec.labels, LABEL_MANAGED: "true"}
        for attempt in range(CREATE_ATTEMPTS):
            claim = object()
            async with self._network_lock:
                existing = await self._engine.call("list networks", "networks")
                for payload in existing:
                    if payload.get("Name") == spec.name:
                        return network_of(payload)
                used = [c for n in existing for c in subnets_of(n)]
                used += self._claimed.values()
                cidr = allocate_subnet(self._config.subnet_pool, self._config.subnet_prefix, used)
                self._claimed[claim] = cidr
            try:
                network_id = await self._create(spec, cidr, labels)
            except VimError as exc:
                # another client (another nubo replica, say) took the subnet or the
                # name meanwhile: look again, after a pause that keeps racers apart
                last = attempt == CREATE_ATTEMPTS - 1
                if not last and exc.extra.get("status_code") in (403, 409):
                    await asyncio.sleep(random.uniform(0, 0.05 * (attempt + 1)))
                    continue
                raise
            finally:
                del self._claimed[claim]
            gateway = gateway_of(cidr)
            return Network(id=network_id, name=spec.name, cidr=cidr, gateway=gateway, labels=labels)
        raise VimError(f"create network {spec.name}: gave up after concurrent changes")

    async def _create(self, spec: NetworkSpec, cidr: str, labels: dict[str, str]) -> str:
        ipam = docker.types.IPAMConfig(
            pool_configs=[docker.types.IPAMPool(subnet=cidr, gateway=gateway_of(cidr))]
        )
        created = await self._engine.call(
            f"create network {spec.name}",
            "create_network",
            spec.name,
            driver="bridge",
            ipam=ipam,
            internal=spec.internal,
            labels=labels,
            check_duplicate=True,
        )
        network_id: str = created["Id"]
        return network_id

    async def list_networks(self, labels: dict[str, str] | None = None) -> list[Network]:
        filters = {"label": [f"{k}={v}" for k, v in labels.items()]} if labels else None
        payloads = await self._engine.call("list networks", "networks", filters=filters)
        return [network_of(p) for p in payloads]

    async def delete_network(self, network_id: str) -> None:
        await self._engine.call_or_none(
            f"delete network {network_id}", "remove_network", network_id
        )
        self._reserved.pop(network_id, None)

    async def _used_addresses(self, network_id: str) -> tuple[Network, set[str]]:
        payload, created = await gather_all(
            self._engine.call_or_none(
                f"inspect network {network_id}", "inspect_network", network_id
            ),
            self._engine.call(
                "list containers",
                "containers",
                all=True,
                # stopped containers keep their pinned address for a later restart
                filters={"label": [f"{LABEL_MANAGED}=true"], "status": ["created", "exited"]},
            ),
        )
        if payload is None:
            raise NotFound(f"network {network_id} not found on the Docker VIM")
        net = network_of(payload)
        used = addresses_in_use(payload, created)
        used.update(self._reserved.get(net.id, {}))
        return net, used

    async def reserve(self, record: PopServer) -> None:
        """Fill ``record.addresses`` with one address per link; all or none are reserved."""
        spec = record.spec
        async with self._address_lock:
            try:
                for link, network_id in spec.networks.items():
                    net, used = await self._used_addresses(network_id)
                    if not net.cidr:
                        raise VimError(f"network {network_id} has no IPv4 subnet")
                    fixed = spec.fixed_addresses.get(link)
                    address = (
                        check_address(net.cidr, net.gateway, fixed, used)
                        if fixed
                        else next_free_address(net.cidr, net.gateway, used)
                    )
                    self._reserved.setdefault(network_id, {})[address] = record.id
                    record.addresses[link] = address
            except Exception:
                self.release(record)
                raise

    def release(self, record: PopServer) -> None:
        """Give back the addresses ``record`` still holds in the reservation table."""
        for link, address in record.addresses.items():
            owners = self._reserved.get(record.spec.networks[link], {})
            if owners.get(address) == record.id:
                del owners[address]
