"""Dependency graph logic: variable names, cycle detection, start waves."""

from __future__ import annotations

import pytest

from nubo.model.descriptors import Nsd, Vnfd, VnfDependency
from nubo.model.errors import InvalidDescriptor
from nubo.model.topology import dependency_variable, find_cycle, start_order


def nsd_of(names: list[str], edges: list[tuple[str, str]]) -> Nsd:
    return Nsd(
        name="ns",
        vnfds=tuple(Vnfd(name=n, type=n) for n in names),
        dependencies=tuple(VnfDependency(s, t, ("net",)) for s, t in edges),
    )


@pytest.mark.parametrize(
    ("source_type", "link", "expected"),
    [
        ("server", "private", "SERVER_PRIVATE"),
        ("sipp-server", "private", "SIPP_SERVER_PRIVATE"),
        ("media.server", "net 1", "MEDIA_SERVER_NET_1"),
        ("Kms", "mgmt-net", "KMS_MGMT_NET"),
        ("caf\u00e9", "lan", "CAF__LAN"),
    ],
)
def test_dependency_variable(source_type: str, link: str, expected: str) -> None:
    assert dependency_variable(source_type, link) == expected


def test_find_cycle_none_for_acyclic_graphs() -> None:
    assert find_cycle([]) is None
    assert find_cycle([("a", "b"), ("b", "c")]) is None
    assert find_cycle([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")]) is None


def test_find_cycle_two_nodes() -> None:
    assert find_cycle([("a", "b"), ("b", "a")]) == ["a", "b", "a"]


def test_find_cycle_three_nodes() -> None:
    assert find_cycle([("a", "b"), ("b", "c"), ("c", "a")]) == ["a", "b", "c", "a"]


def test_find_cycle_self_loop() -> None:
    assert find_cycle([("a", "a")]) == ["a", "a"]


def test_find_cycle_reports_only_the_cycle_not_the_path_into_it() -> None:
    edges = [("x", "a"), ("a", "b"), ("b", "c"), ("c", "b")]
    assert find_cycle(edges) == ["b", "c", "b"]


def test_find_cycle_after_an_acyclic_component() -> None:
    edges = [("p", "q"), ("q", "r"), ("m", "n"), ("n", "m")]
    assert find_cycle(edges) == ["m", "n", "m"]


def test_start_order_without_dependencies_is_one_wave_in_descriptor_order() -> None:
    assert start_order(nsd_of(["c", "a", "b"], [])) == [["c", "a", "b"]]


def test_start_order_chain() -> None:
    nsd = nsd_of(["c", "b", "a"], [("a", "b"), ("b", "c")])
    assert start_order(nsd) == [["a"], ["b"], ["c"]]


def test_start_order_diamond_keeps_descriptor_order_inside_a_wave() -> None:
    nsd = nsd_of(["d", "c", "b", "a"], [("a", "b"), ("a", "c"), ("b", "d"), ("c", "d")])
    assert start_order(nsd) == [["a"], ["c", "b"], ["d"]]


def test_start_order_waits_for_the_longest_path() -> None:
    # c depends on a directly and through b: it must come after b, not with it.
    nsd = nsd_of(["a", "b", "c", "x"], [("a", "c"), ("a", "b"), ("b", "c")])
    assert start_order(nsd) == [["a", "x"], ["b"], ["c"]]


def test_start_order_rejects_a_cycle() -> None:
    nsd = nsd_of(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "a")])
    with pytest.raises(InvalidDescriptor) as info:
        start_order(nsd)
    [problem] = info.value.problems
    assert problem.path == "$.vnf_dependency"
    assert problem.message == "dependency cycle: a -> b -> c -> a"


def test_start_order_rejects_an_unknown_vnf() -> None:
    nsd = nsd_of(["a"], [("ghost", "a")])
    with pytest.raises(InvalidDescriptor) as info:
        start_order(nsd)
    assert [p.path for p in info.value.problems] == ["$.vnf_dependency[0].source.name"]
