"""Subnet and address allocation: first fit, no overlap with anything already used."""

from __future__ import annotations

import pytest

from nubo.model.errors import BadRequest, Conflict, QuotaExceeded
from nubo.vim.subnets import (
    allocate_subnet,
    check_address,
    count_free_subnets,
    gateway_of,
    next_free_address,
)


def test_first_subnet_of_an_empty_pool() -> None:
    assert allocate_subnet("10.137.0.0/16", 24, []) == "10.137.0.0/24"


def test_skips_every_overlapping_network_ours_or_not() -> None:
    used = ["10.137.0.0/24", "10.137.1.128/25", "172.17.0.0/16", "fd00::/64", "garbage"]
    assert allocate_subnet("10.137.0.0/16", 24, used) == "10.137.2.0/24"


def test_a_larger_foreign_network_covering_the_start_is_jumped_over() -> None:
    assert allocate_subnet("10.0.0.0/8", 24, ["10.0.0.0/12", "10.16.0.0/24"]) == "10.16.1.0/24"


def test_a_used_supernet_of_the_pool_exhausts_it() -> None:
    with pytest.raises(QuotaExceeded):
        allocate_subnet("10.137.0.0/16", 24, ["10.0.0.0/8"])


def test_exhaustion_and_count() -> None:
    pool = "10.137.0.0/22"
    used: list[str] = []
    assert count_free_subnets(pool, 24, used) == 4
    for _ in range(4):
        used.append(allocate_subnet(pool, 24, used))
    assert used == [f"10.137.{i}.0/24" for i in range(4)]
    with pytest.raises(QuotaExceeded):
        allocate_subnet(pool, 24, used)
    assert count_free_subnets(pool, 24, used) == 0


def test_bad_pool_or_prefix_is_bad_request() -> None:
    with pytest.raises(BadRequest):
        allocate_subnet("not-a-cidr", 24, [])
    with pytest.raises(BadRequest):
        allocate_subnet("10.137.0.0/16", 8, [])
    with pytest.raises(BadRequest):
        allocate_subnet("fd00::/48", 64, [])


def test_next_free_address_skips_network_gateway_and_used() -> None:
    cidr = "10.137.3.0/29"  # hosts .1-.6
    assert gateway_of(cidr) == "10.137.3.1"
    assert next_free_address(cidr, "10.137.3.1", set()) == "10.137.3.2"
    assert next_free_address(cidr, "10.137.3.1", {"10.137.3.2", "10.137.3.3"}) == "10.137.3.4"
    full = {f"10.137.3.{i}" for i in range(2, 7)}
    with pytest.raises(QuotaExceeded):
        next_free_address(cidr, "10.137.3.1", full)  # .7 is the broadcast address


def test_check_fixed_address() -> None:
    cidr, gateway = "10.137.3.0/24", "10.137.3.1"
    assert check_address(cidr, gateway, "10.137.3.9", set()) == "10.137.3.9"
    with pytest.raises(Conflict):
        check_address(cidr, gateway, "10.137.3.9", {"10.137.3.9"})
    for bad in ("10.137.4.9", "10.137.3.0", "10.137.3.255", "10.137.3.1", "x"):
        with pytest.raises(BadRequest):
            check_address(cidr, gateway, bad, set())
