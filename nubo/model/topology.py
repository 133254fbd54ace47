"""The dependency graph of a network service: start order, cycles, variable names.

A VNF dependency says the target needs the source's address on some virtual
links, so the source must be allocated (and its address known) before the
target is configured. This module is the one place that turns dependencies
into an order; the descriptor parser uses ``find_cycle`` to refuse NSDs that
could never start, and the NFVO uses ``start_order`` and ``dependency_variable``
when it instantiates one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from nubo.model.descriptors import Nsd
from nubo.model.errors import FieldProblem, InvalidDescriptor

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")


def dependency_variable(source_type: str, link: str) -> str:
    """The variable that carries the source's address on ``link``: ``SERVER_PRIVATE``."""
    # ASCII-only on purpose: the result becomes an environment variable name,
    # and shells accept nothing else there.
    return _NOT_ALNUM.sub("_", f"{source_type}_{link}").upper()


def find_cycle(edges: Iterable[tuple[str, str]]) -> list[str] | None:
    """A cycle of the directed graph ``edges`` as ``[a, b, a]``, or None if acyclic.

    Deterministic: nodes and their successors are visited in the order they
    first appear in ``edges``, so the same descriptor always reports the same
    cycle.
    """
    successors: dict[str, list[str]] = {}
    for source, target in edges:
        successors.setdefault(source, []).append(target)
        successors.setdefault(target, [])

    done: set[str] = set()
    for root in successors:
        if root in done:
            continue
        # Iterative depth-first search; ``path`` is the current chain of grey
        # nodes, ``pending`` the successors still to visit for each of them.
        path: list[str] = [root]
        on_path: set[str] = {root}
        pending: list[list[str]] = [list(reversed(successors[root]))]
        while path:
            if not pending[-1]:
                finished = path.pop()
                on_path.discard(finished)
                done.add(finished)
                pending.pop()
                continue
            nxt = pending[-1].pop()
            if nxt in on_path:
                return [*path[path.index(nxt) :], nxt]
            if nxt in done:
                continue
            path.append(nxt)
            on_path.add(nxt)
            pending.append(list(reversed(successors[nxt])))
    return None


def start_order(nsd: Nsd) -> list[list[str]]:
    """VNF names in waves: every source before its targets, one wave may start in parallel.

    A VNF lands in the first wave after all of its sources; inside a wave the
    descriptor order is kept. Raises InvalidDescriptor for a dependency on an
    unknown VNF or a cycle (the parser refuses those, so this means a
    hand-built NSD).
    """
    names = [vnfd.name for vnfd in nsd.vnfds]
    known = set(names)
    edges = [(dep.source, dep.target) for dep in nsd.dependencies]
    problems = [
        FieldProblem(f"$.vnf_dependency[{i}].{end}.name", f"dependency on a missing VNF {name!r}")
        for i, (source, target) in enumerate(edges)
        for end, name in (("source", source), ("target", target))
        if name not in known
    ]
    if problems:
        raise InvalidDescriptor(problems)
    cycle = find_cycle(edges)
    if cycle is not None:
        raise InvalidDescriptor(
            [FieldProblem("$.vnf_dependency", "dependency cycle: " + " -> ".join(cycle))]
        )

    sources_of: dict[str, set[str]] = {name: set() for name in names}
    for source, target in edges:
        sources_of[target].add(source)
    waves: list[list[str]] = []
    started: set[str] = set()
    remaining = names
    while remaining:
        wave = [name for name in remaining if sources_of[name] <= started]
        # Acyclic was checked above, so every round makes progress.
        waves.append(wave)
        started.update(wave)
        remaining = [name for name in remaining if name not in started]
    return waves
