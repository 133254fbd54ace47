"""Evaluation of Open Baton ``auto_scale_policy`` entries: pure functions, no I/O.

An alarm reduces the newest value of its metric on every VNFC of the VNF to
one number with its ``statistic`` (avg, min, max, sum, count, median or a
percentile ``pNN``) and compares it with its ``threshold``. An alarm without
samples (or with an unknown metric or statistic) does not hold.

How the alarms of a policy combine depends on its ``type``:

* ``VOTED`` and ``WEIGHTED`` (Open Baton computes both the same way): the
  share of the alarms that hold, weighted, in percent
  (``sum(weights of holding alarms) / sum(all weights) * 100``), compared with
  the policy's ``threshold`` by its ``comparisonOperator``. ``threshold 100``
  with ``>=`` means every alarm must hold.
* ``SINGLE``: each alarm votes alone; the policy holds as soon as one alarm
  holds (the policy's threshold and operator are not used; the share is
  still computed and reported).

Actions turn the VNF's current VNFC count into a target: ``SCALE_OUT n`` and
``SCALE_IN n`` move by ``n``; ``SCALE_TO n`` goes to ``n``; ``SCALE_OUT_TO n``
only grows and ``SCALE_IN_TO n`` only shrinks. Several actions apply in
order. The target is always clamped to the VNF's bounds.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from nubo.model.descriptors import AutoScalePolicy, ScalingAction, ScalingAlarm
from nubo.model.metrics import metric_named

_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
    "==": operator.eq,
    "=": operator.eq,
    "!=": operator.ne,
}

_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d+)?)$")


def compare(value: float, comparison_operator: str, threshold: float) -> bool:
    """``value <op> threshold``; an unknown operator never holds."""
    compare_with = _COMPARISONS.get(comparison_operator.strip())
    return compare_with is not None and compare_with(value, threshold)


def percentile(values: Sequence[float], rank: float) -> float:
    """The ``rank``-th percentile with linear interpolation between closest ranks."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * rank / 100
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def statistic(values: Sequence[float], name: str) -> float | None:
    """One number over the per-VNFC values; None when there are none or ``name`` is unknown."""
    if not values:
        return None
    name = name.strip().lower()
    match name:
        case "avg" | "average" | "mean":
            return sum(values) / len(values)
        case "min":
            return min(values)
        case "max":
            return max(values)
        case "sum":
            return float(sum(values))
        case "count":
            return float(len(values))
        case "median":
            return percentile(values, 50)
    found = _PERCENTILE.match(name)
    return percentile(values, float(found.group(1))) if found else None


def known_statistic(name: str) -> bool:
    return statistic([0.0], name) is not None


@dataclass(frozen=True)
class AlarmResult:
    """One alarm evaluated: the statistic value it computed and whether it holds."""

    alarm: ScalingAlarm
    #: nubo's name of the metric, None when the descriptor's name is unknown
    resolved_metric: str | None
    value: float | None
    samples: int
    holds: bool
    reason: str = ""


def evaluate_alarm(alarm: ScalingAlarm, values: Mapping[str, float]) -> AlarmResult:
    """Evaluate ``alarm`` over ``values`` (newest value per VNFC id)."""
    metric = metric_named(alarm.metric)
    resolved = metric.value if metric is not None else None
    if metric is None:
        return AlarmResult(alarm, None, None, 0, False, f"unknown metric {alarm.metric!r}")
    if not known_statistic(alarm.statistic):
        reason = f"unknown statistic {alarm.statistic!r}"
        return AlarmResult(alarm, resolved, None, len(values), False, reason)
    value = statistic(list(values.values()), alarm.statistic)
    if value is None:
        return AlarmResult(alarm, resolved, None, 0, False, f"no samples of {resolved}")
    holds = compare(value, alarm.comparison_operator, alarm.threshold)
    return AlarmResult(alarm, resolved, value, len(values), holds)


@dataclass(frozen=True)
class PolicyResult:
    """A policy evaluated: its alarms, the weighted share that holds, and the verdict."""

    alarms: tuple[AlarmResult, ...]
    #: percent of the alarms' total weight that holds (0 when the weights sum to 0)
    share: float
    holds: bool

    @property
    def no_samples(self) -> bool:
        """No alarm had a value to compare: nothing is known about the VNF."""
        return all(result.value is None for result in self.alarms)

    @property
    def reasons(self) -> list[str]:
        return [result.reason for result in self.alarms if result.reason]


def weighted_share(results: Sequence[AlarmResult]) -> float:
    total = sum(r.alarm.weight for r in results)
    if total <= 0:
        return 0.0
    return sum(r.alarm.weight for r in results if r.holds) / total * 100


def evaluate_policy(
    policy: AutoScalePolicy, values_of: Callable[[str], Mapping[str, float]]
) -> PolicyResult:
    """Evaluate every alarm of ``policy``; ``values_of(metric name)`` gives per-VNFC values."""
    results = tuple(evaluate_alarm(alarm, values_of(alarm.metric)) for alarm in policy.alarms)
    share = weighted_share(results)
    if policy.type.upper() == "SINGLE":
        holds = any(r.holds for r in results)
    else:
        holds = compare(share, policy.comparison_operator, policy.threshold)
    return PolicyResult(results, share, holds)


def action_amount(action: ScalingAction) -> int:
    """The action's value as a count; a missing or malformed value means 1."""
    try:
        return int(action.value.strip())
    except ValueError:
        return 1


def target_count(actions: Sequence[ScalingAction], current: int, lowest: int, highest: int) -> int:
    """The VNFC count the actions ask for from ``current``, clamped to [lowest, highest]."""
    target = current
    for action in actions:
        amount = action_amount(action)
        match action.type.upper():
            case "SCALE_OUT":
                target += amount
            case "SCALE_IN":
                target -= amount
            case "SCALE_TO":
                target = amount
            case "SCALE_OUT_TO":
                target = max(target, amount)
            case "SCALE_IN_TO":
                target = min(target, amount)
    return max(lowest, min(highest, target))


def describe_actions(actions: Sequence[ScalingAction]) -> str:
    """``SCALE_OUT 1`` (comma-separated when several)."""
    return ", ".join(f"{a.type} {a.value}".strip() for a in actions)


def verdict(policy: AutoScalePolicy, share: float, holds: bool) -> str:
    """Why the policy holds or not, in words."""
    if policy.type.upper() == "SINGLE":
        return "an alarm holds" if holds else "no alarm holds"
    relation = policy.comparison_operator if holds else f"not {policy.comparison_operator}"
    return f"share {share:g}% {relation} {policy.threshold:g}%"
