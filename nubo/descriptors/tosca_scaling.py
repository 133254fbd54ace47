"""How many VNFC instances a SOL001 VDU starts with and may scale to.

nubo's model keeps, per VDU, the instances instantiate creates (one VNFC
template each) and ``scale_in_out``, the most it may have. SOL001 spreads
that over the VDU and the VNFD's policies:

- ``vdu_profile.max_number_of_instances`` is the bound (``scale_in_out``),
  ``min_number_of_instances`` the fewest scale-in leaves (0 too: a VDU that
  only scale-out gives VNFCs);
- the default level of ``tosca.policies.nfv.InstantiationLevels`` with the
  VDU's ``VduInstantiationLevels`` gives the initial count, else its
  ``VduInitialDelta``, else one instance;
- every ``ScalingAspects`` aspect that scales the VDU (through
  ``VduScalingAspectDeltas``) must stay within the bound at its
  ``max_scale_level``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from nubo.descriptors.fields import as_int

if TYPE_CHECKING:
    from nubo.descriptors.tosca_vnfd import _VnfdReader

__all__ = ["vdu_bounds"]

_P = "tosca.policies.nfv."
VDU = "tosca.nodes.nfv.Vdu.Compute"


@dataclass
class _Policies:
    aspects: dict[str, tuple[str, int, list[str]]] = field(default_factory=dict)
    #: (aspect, deltas, path) of each VduScalingAspectDeltas, by target VDU
    deltas: dict[str, list[tuple[str, dict[str, int], str]]] = field(default_factory=dict)
    initial: dict[str, tuple[int, str]] = field(default_factory=dict)
    default_level: str = ""
    level_names: list[str] = field(default_factory=list)
    levels: dict[str, tuple[dict[str, int], str]] = field(default_factory=dict)


def vdu_bounds(reader: _VnfdReader) -> dict[str, tuple[int, int, int]]:
    """VDU node name -> (fewest, initial, most instances); problems go to the reader."""
    policies = _read_policies(reader)
    bounds: dict[str, tuple[int, int, int]] = {}
    for name in reader.nodes:
        if reader.kind(name) == VDU:
            bounds[name] = _bounds_of(reader, policies, name)
    return bounds


def _bounds_of(reader: _VnfdReader, policies: _Policies, vdu: str) -> tuple[int, int, int]:
    path = f"topology_template.node_templates.{vdu}.properties.vdu_profile"
    profile = reader.props(vdu).get("vdu_profile")
    profile = profile if isinstance(profile, dict) else {}
    low = as_int(profile.get("min_number_of_instances"))
    high = as_int(profile.get("max_number_of_instances"))
    if high is None or high < 1:
        reader.report(f"{path}.max_number_of_instances", "expected an integer >= 1")
        return 1, 1, 1
    if low is None or low < 0 or low > high:
        reader.report(f"{path}.min_number_of_instances", f"expected an integer in 0..{high}")
        low = 1

    initial, where = 1, path
    level = policies.default_level or (
        policies.level_names[0] if len(policies.level_names) == 1 else ""
    )
    if vdu in policies.levels and level in policies.levels[vdu][0]:
        initial, where = policies.levels[vdu][0][level], policies.levels[vdu][1]
    elif vdu in policies.initial:
        initial, where = policies.initial[vdu]
    if not low <= initial <= high:
        reader.report(
            where,
            f"{initial} initial instances of {vdu!r} are outside its vdu_profile "
            f"bounds {low}..{high}",
        )
        initial = min(max(initial, low), high)

    for aspect, deltas, at in policies.deltas.get(vdu, []):
        reached = _reached(reader, policies, aspect, deltas, at, initial)
        if reached is not None and reached > high:
            reader.report(
                at,
                f"scaling aspect {aspect!r} at its max_scale_level reaches {reached} "
                f"instances of {vdu!r}, above vdu_profile.max_number_of_instances {high}",
            )
    return low, initial, high


def _reached(
    reader: _VnfdReader,
    policies: _Policies,
    aspect: str,
    deltas: dict[str, int],
    path: str,
    initial: int,
) -> int | None:
    if aspect not in policies.aspects:
        reader.report(f"{path}.properties.aspect", f"no scaling aspect {aspect!r} is declared")
        return None
    _, max_level, steps = policies.aspects[aspect]
    steps = steps or list(deltas)[:1]
    reached = initial
    for level in range(1, max_level + 1):
        step = steps[min(level, len(steps)) - 1] if steps else ""
        if step not in deltas:
            reader.report(f"{path}.properties.deltas", f"no delta {step!r} of aspect {aspect!r}")
            return None
        reached += deltas[step]
    return reached


def _read_policies(reader: _VnfdReader) -> _Policies:
    found = _Policies()
    listed = reader.topology.get("policies")
    for i, entry in enumerate(listed if isinstance(listed, list) else []):
        for name, policy in entry.items() if isinstance(entry, dict) else []:
            if isinstance(policy, dict) and isinstance(policy.get("type"), str):
                _read_policy(reader, found, f"topology_template.policies[{i}].{name}", policy)
    return found


def _read_policy(reader: _VnfdReader, found: _Policies, path: str, policy: dict[str, Any]) -> None:
    kind = next(
        (
            k
            for k in (
                "ScalingAspects",
                "VduScalingAspectDeltas",
                "VduInitialDelta",
                "InstantiationLevels",
                "VduInstantiationLevels",
            )
            if reader.index.is_a("policy_types", policy["type"], _P + k)
        ),
        "",
    )
    if not kind:
        reader.r.warn(
            reader.at(f"{path}.type"),
            f"policy type {policy['type']!r} is not applied by nubo: only instantiation "
            "levels and scaling aspects bound a VDU's instances",
        )
        return
    raw = policy.get("properties")
    props = raw if isinstance(raw, dict) else {}
    if kind == "ScalingAspects":
        for aspect, spec in _map(props.get("aspects")).items():
            if isinstance(spec, dict):
                level = as_int(spec.get("max_scale_level"))
                steps = [str(s) for s in spec.get("step_deltas") or [] if isinstance(s, str)]
                found.aspects[aspect] = (aspect, level or 0, steps)
    elif kind == "InstantiationLevels":
        found.level_names = list(_map(props.get("levels")))
        found.default_level = str(props.get("default_level") or "")
    elif kind:
        for vdu in _targets(reader, path, policy):
            if kind == "VduScalingAspectDeltas":
                deltas = _counts(props.get("deltas"))
                found.deltas.setdefault(vdu, []).append((str(props.get("aspect")), deltas, path))
            elif kind == "VduInitialDelta":
                delta = _map(props.get("initial_delta"))
                found.initial[vdu] = (as_int(delta.get("number_of_instances")) or 0, path)
            else:
                found.levels[vdu] = (_counts(props.get("levels")), path)


def _targets(reader: _VnfdReader, path: str, policy: dict[str, Any]) -> list[str]:
    targets = policy.get("targets")
    vdus: list[str] = []
    for j, target in enumerate(targets if isinstance(targets, list) else []):
        if reader.kind(str(target)) == VDU:
            vdus.append(str(target))
        else:
            reader.report(f"{path}.targets[{j}]", f"{target!r} is not a Vdu.Compute node")
    return vdus


def _map(value: Any) -> dict[str, Any]:
    return {str(k): v for k, v in value.items()} if isinstance(value, dict) else {}


def _counts(value: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for key, level in _map(value).items():
        number = as_int(level.get("number_of_instances")) if isinstance(level, dict) else None
        counts[key] = number if number is not None else 0
    return counts
