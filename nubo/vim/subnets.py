"""Pure IPv4 subnet and address allocation for VIM networks (003 §4.4.5).

A network gets its own subnet carved from the VIM's pool, avoiding every
subnet any other network on the host already uses (ours or not), and a
server's address is reserved before anything runs, so that the NFVO can hand
it to dependent VNFCs. No I/O here: the drivers pass in what they observed.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable

from nubo.model.errors import BadRequest, Conflict, QuotaExceeded


def _parse_network(cidr: str, what: str) -> ipaddress.IPv4Network:
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError as exc:
        raise BadRequest(f"invalid {what} {cidr!r}: {exc}") from exc
    if not isinstance(net, ipaddress.IPv4Network):
        raise BadRequest(f"{what} {cidr!r} is not IPv4")
    return net


@functools.lru_cache(maxsize=1 << 16)
def _span(cidr: str) -> tuple[int, int] | None:
    """First and last address of an IPv4 subnet as integers; None when it is not one.

    Every allocation looks at every subnet on the host, and the same ones
    each time: parsing them once keeps an allocation cheap with thousands
    of networks.
    """
    try:
        net = ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return None  # foreign networks may carry configs we do not understand
    if not isinstance(net, ipaddress.IPv4Network):
        return None
    return int(net.network_address), int(net.broadcast_address)


def allocate_subnet(pool: str, prefix: int, used: Iterable[str]) -> str:
    """The first ``/prefix`` subnet of ``pool`` that overlaps none of ``used``.

    Raises ``QuotaExceeded`` when every candidate overlaps a used subnet.
    """
    pool_net = _parse_network(pool, "subnet pool")
    if not pool_net.prefixlen <= prefix <= 30:
        raise BadRequest(
            f"subnet prefix /{prefix} does not fit pool {pool_net}"
            f" (allowed /{pool_net.prefixlen}-/30)"
        )
    size = 1 << (32 - prefix)
    candidate = int(pool_net.network_address)
    end = int(pool_net.broadcast_address)
    spans = (_span(cidr) for cidr in used)
    taken = sorted(s for s in spans if s is not None and s[0] <= end and s[1] >= candidate)
    # walk candidates in address order, jumping past each overlapping used net
    for first, last in taken:
        if last < candidate:
            continue
        if first > candidate + size - 1:
            break
        candidate = (last // size + 1) * size
    if candidate + size - 1 > end:
        raise QuotaExceeded(
            f"no free /{prefix} subnet left in pool {pool_net}",
            pool=str(pool_net),
            prefix=prefix,
        )
    return str(ipaddress.IPv4Network((candidate, prefix)))


def count_free_subnets(pool: str, prefix: int, used: Iterable[str]) -> int:
    """How many more ``/prefix`` subnets ``pool`` can give, avoiding ``used``."""
    taken = list(used)
    count = 0
    while True:
        try:
            taken.append(allocate_subnet(pool, prefix, taken))
        except QuotaExceeded:
            return count
        count += 1


def next_free_address(cidr: str, gateway: str, used: set[str]) -> str:
    """The lowest host address of ``cidr`` that is not the gateway nor in ``used``.

    The network and broadcast addresses are never handed out. Raises
    ``QuotaExceeded`` when the subnet is full.
    """
    net = _parse_network(cidr, "subnet")
    skip = set(used)
    if gateway:
        skip.add(gateway)
    for host in net.hosts():
        address = str(host)
        if address not in skip:
            return address
    raise QuotaExceeded(f"no free address left in subnet {net}", subnet=str(net))


def check_address(cidr: str, gateway: str, address: str, used: set[str]) -> str:
    """Validate a requested fixed ``address``: inside ``cidr``, a host address, free."""
    net = _parse_network(cidr, "subnet")
    try:
        ip = ipaddress.IPv4Address(address)
    except ValueError as exc:
        raise BadRequest(f"invalid IPv4 address {address!r}") from exc
    if ip not in net or ip in (net.network_address, net.broadcast_address):
        raise BadRequest(f"address {address} is not a host address of subnet {net}")
    if address == gateway:
        raise BadRequest(f"address {address} is the gateway of subnet {net}")
    if address in used:
        raise Conflict(f"address {address} is already in use on subnet {net}")
    return address


def gateway_of(cidr: str) -> str:
    """The conventional gateway of a subnet: its first host address."""
    net = _parse_network(cidr, "subnet")
    return str(net.network_address + 1)
