"""VNF dependencies of an Open Baton NSD: ``vnf_dependency`` and VNFD ``requires``.

Open Baton writes a dependency in two ways. The NSD's ``vnf_dependency``
list names source and target either as strings (``"source": "server"``, how
Open Baton 6 exports them) or as objects (``{"name": "server"}``, the older
form and App. C's). A VNFD's ``requires`` names, for each VNF it needs values
of (by name, or by type as Open Baton's examples do), the parameters it
needs: ``{"server": {"parameters": ["private"]}}``. Open Baton turns both into
one dependency per (source, target) pair, merging their parameters, and
refuses cycles, since every VNF of a cycle would wait for values of another
before it could be configured. This module does the same.

A parameter is checked against what the source can give (see
``nubo.nfvo.dependencies`` for the values): a virtual link both VNFs are
attached to, ``hostname``, or a key of the source's configuration. A key the
source ``provides`` without a configuration value has nothing to give (as
in Open Baton, a provided value comes from the configurations, never from a
script): it is accepted with a warning, and the target receives it empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nubo.descriptors.fields import FieldReader, JsonObject, json_kind
from nubo.descriptors.openbaton_keys import report_unused
from nubo.model.descriptors import HOSTNAME_PARAMETER, Vnfd, VnfDependency
from nubo.model.topology import find_cycle

__all__ = ["read_dependencies"]

_FLOATING_IP = "_floatingIp"


@dataclass
class _Edge:
    """A dependency being built: where it was first declared, and its parameters."""

    path: str
    source: str
    target: str
    parameters: dict[str, str]  # parameter -> the path it was declared at


def read_dependencies(
    r: FieldReader, root: JsonObject, vnfd_items: list[tuple[str, JsonObject]], vnfds: list[Vnfd]
) -> tuple[VnfDependency, ...]:
    """The NSD's dependencies, from ``vnf_dependency`` and every VNFD's ``requires``."""
    by_name = {vnfd.name: vnfd for vnfd in vnfds if vnfd.name}
    edges: dict[tuple[str, str], _Edge] = {}

    def add(path: str, source: str, target: str, parameters: list[tuple[str, str]]) -> None:
        edge = edges.setdefault((source, target), _Edge(path, source, target, {}))
        for p_where, parameter in parameters:
            edge.parameters.setdefault(parameter, p_where)

    for where, raw in r.objects(root, "vnf_dependency", "$"):
        report_unused(r, raw, where, "vnf_dependency")
        source = _end(r, raw, "source", where, by_name)
        target = _end(r, raw, "target", where, by_name)
        parameters = r.strings(raw, "parameters", where)
        if source and source == target:
            r.report(_end_path(raw, "target", where), f"{source!r} cannot depend on itself")
        elif source in by_name and target in by_name:
            add(where, source, target, parameters)

    for (where, raw), vnfd in zip(vnfd_items, vnfds, strict=True):
        for source, p_where, parameters in _requires(r, raw, where, vnfd, by_name):
            add(p_where, source, vnfd.name, parameters)

    for edge in edges.values():
        _check_parameters(r, edge, by_name[edge.source], by_name[edge.target])
    _refuse_cycles(r, list(edges.values()))
    return tuple(VnfDependency(e.source, e.target, tuple(e.parameters)) for e in edges.values())


def _end_path(raw: JsonObject, end: str, path: str) -> str:
    return f"{path}.{end}.name" if isinstance(raw.get(end), dict) else f"{path}.{end}"


def _end(r: FieldReader, raw: JsonObject, end: str, path: str, by_name: dict[str, Vnfd]) -> str:
    """The VNF name at one end: ``"name"`` or ``{"name": "name"}``; "" after a problem."""
    value: Any = raw.get(end)
    if isinstance(value, str):
        name, where = value, f"{path}.{end}"
        if not name.strip():
            r.report(where, "must not be empty: name the VNFD")
            return ""
    elif isinstance(value, dict):
        name = r.text(value, "name", f"{path}.{end}", required=True)
        where = f"{path}.{end}.name"
    elif value is None:
        r.report(f"{path}.{end}", "required: the name of a VNFD of this NSD")
        return ""
    else:
        r.report(
            f"{path}.{end}",
            f"expected a VNFD name (a string, or an object with a name), got {json_kind(value)}",
        )
        return ""
    if name and name not in by_name:
        known = ", ".join(repr(n) for n in by_name) or "none"
        r.report(where, f"dependency on a missing VNF {name!r}: the NSD's VNFDs are {known}")
    return name


def _requires(
    r: FieldReader, raw: JsonObject, path: str, vnfd: Vnfd, by_name: dict[str, Vnfd]
) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(source, path, parameters) for each VNF a VNFD ``requires``."""
    found: list[tuple[str, str, list[tuple[str, str]]]] = []
    for key, value in r.obj(raw, "requires", path).items():
        where = f"{path}.requires.{key}"
        if not isinstance(value, dict):
            r.report(where, f'expected an object {{"parameters": [...]}}, got {json_kind(value)}')
            continue
        parameters = r.strings(value, "parameters", where)
        # Open Baton's examples key ``requires`` by the source's type; a name works too.
        sources = [key] if key in by_name else [v.name for v in by_name.values() if v.type == key]
        if not sources:
            r.report(
                where,
                f"no VNF of this NSD is named or has type {key!r}: requires names the VNF "
                "it needs values of, by its name or its type",
            )
        for source in sources:
            if source == vnfd.name:
                r.report(where, f"{vnfd.name!r} cannot require values of itself")
            else:
                found.append((source, where, parameters))
    return found


def _check_parameters(r: FieldReader, edge: _Edge, source: Vnfd, target: Vnfd) -> None:
    shared = source.attached_links & target.attached_links
    keys = {p.key for p in source.configuration.parameters}
    for parameter, where in edge.parameters.items():
        if parameter in shared or parameter == HOSTNAME_PARAMETER or parameter in keys:
            continue
        if parameter in source.attached_links:
            r.report(
                where,
                f"{parameter!r} is not a virtual link that both {source.name!r} and "
                f"{target.name!r} connect to, so {target.name!r} could not reach "
                f"{source.name!r} there: attach {target.name!r} to {parameter!r} too",
            )
        elif parameter.endswith(_FLOATING_IP):
            link = parameter.removesuffix(_FLOATING_IP)
            r.report(
                where,
                f"{parameter!r}: containers have no floating IPs; name the link "
                f"({link!r}) to get {source.name!r}'s addresses on it",
            )
        elif parameter in source.provides:
            r.warn(
                where,
                f"{source.name!r} provides {parameter!r} but gives it no value in its "
                f"configurations, so {target.name!r} receives it empty: give it a value "
                "there (lifecycle scripts cannot set it)",
            )
        else:
            links = ", ".join(repr(link) for link in sorted(shared)) or "none"
            configured = ", ".join(repr(k) for k in sorted(keys)) or "none"
            r.report(
                where,
                f"{parameter!r} is none of what {source.name!r} can give: a virtual link "
                f"both VNFs connect to ({links}), 'hostname', or a key of its configurations "
                f"({configured})",
            )


def _refuse_cycles(r: FieldReader, edges: list[_Edge]) -> None:
    cycle = find_cycle((e.source, e.target) for e in edges)
    if cycle is None:
        return
    first = next(e for e in edges if (e.source, e.target) == (cycle[0], cycle[1]))
    # The list as a whole, as a cycle is a property of several of its items.
    listed = first.path.startswith("$.vnf_dependency")
    r.report(
        "$.vnf_dependency" if listed else first.path,
        "dependency cycle: "
        + " -> ".join(cycle)
        + ": each of these VNFs would wait for values of the next before it could be "
        "configured; remove one of the dependencies (a fixed value can go in the "
        "target's configurations instead)",
    )
