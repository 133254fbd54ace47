"""Open Baton auto-scaling policy evaluation: statistics, comparisons, VOTED share, targets."""

from __future__ import annotations

import pytest

from nubo.autoscale.policy import (
    compare,
    evaluate_alarm,
    evaluate_policy,
    statistic,
    target_count,
)
from nubo.model.descriptors import AutoScalePolicy, ScalingAction, ScalingAlarm


def alarm(
    metric: str = "cpu.percent", op: str = ">=", threshold: float = 60, weight: float = 1
) -> ScalingAlarm:
    return ScalingAlarm(metric, "avg", op, threshold, weight)


def policy(
    *alarms: ScalingAlarm, threshold: float = 100, op: str = ">=", kind: str = "VOTED"
) -> AutoScalePolicy:
    return AutoScalePolicy(
        "p",
        threshold,
        op,
        0,
        0,
        type=kind,
        alarms=alarms,
        actions=(ScalingAction("SCALE_OUT", "1"),),
    )


@pytest.mark.parametrize(
    ("op", "expected"),
    [(">", False), (">=", True), ("<", False), ("<=", True), ("==", True), ("!=", False)],
)
def test_every_operator_at_equality(op: str, expected: bool) -> None:
    assert compare(40.0, op, 40.0) is expected
    result = evaluate_alarm(alarm(op=op, threshold=40), {"a": 30.0, "b": 50.0})  # avg 40
    assert result.value == 40.0 and result.holds is expected


@pytest.mark.parametrize(("op", "below", "above"), [(">", False, True), ("<", True, False)])
def test_strict_operators_either_side(op: str, below: bool, above: bool) -> None:
    assert compare(39.9, op, 40) is below and compare(40.1, op, 40) is above


def test_statistics_over_the_vnfcs() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    assert statistic(values, "avg") == 25.0
    assert statistic(values, "min") == 10.0
    assert statistic(values, "max") == 40.0
    assert statistic(values, "sum") == 100.0
    assert statistic(values, "count") == 4.0
    assert statistic(values, "median") == 25.0
    assert statistic(values, "p50") == 25.0
    assert statistic(values, "p90") == pytest.approx(37.0)
    assert statistic([5.0], "p99") == 5.0
    assert statistic(values, "stddev") is None
    assert statistic([], "avg") is None


def test_missing_samples_do_not_hold_and_say_so() -> None:
    result = evaluate_alarm(alarm(op=">=", threshold=0), {})
    assert not result.holds and result.value is None and result.samples == 0
    assert result.reason == "no samples of cpu.percent"
    evaluated = evaluate_policy(policy(alarm()), lambda _m: {})
    assert evaluated.no_samples and not evaluated.holds and evaluated.share == 0


def test_unknown_metric_or_statistic_never_holds() -> None:
    unknown = evaluate_alarm(alarm(metric="disk.iops", op=">=", threshold=0), {"a": 1.0})
    assert not unknown.holds and "unknown metric" in unknown.reason
    odd = evaluate_alarm(ScalingAlarm("cpu.idle", "mode", ">=", 0), {"a": 1.0})
    assert not odd.holds and "unknown statistic" in odd.reason


def test_open_baton_idle_alias_below_40_means_busy() -> None:
    busy = ScalingAlarm("system.cpu.util[,idle]", "avg", "<=", 40)
    result = evaluate_alarm(busy, {"a": 30.0, "b": 40.0})
    assert result.resolved_metric == "cpu.idle" and result.holds
    assert not evaluate_alarm(busy, {"a": 45.0, "b": 40.0}).holds


def test_voted_share_is_weighted_percent_of_holding_alarms() -> None:
    cpu = alarm("cpu.percent", ">=", 60, weight=3)
    memory = alarm("memory.percent", ">=", 80, weight=1)
    values = {"cpu.percent": {"a": 70.0}, "memory.percent": {"a": 50.0}}
    voted = policy(cpu, memory, threshold=75, op=">=")
    result = evaluate_policy(voted, lambda m: values[m])
    assert result.share == 75.0 and result.holds
    assert not evaluate_policy(policy(cpu, memory, threshold=75, op=">"), lambda m: values[m]).holds
    # Open Baton's threshold 100 with >= means every alarm
    assert not evaluate_policy(policy(cpu, memory), lambda m: values[m]).holds
    values["memory.percent"] = {"a": 90.0}
    every = evaluate_policy(policy(cpu, memory), lambda m: values[m])
    assert every.share == 100.0 and every.holds
    # WEIGHTED computes the same share
    assert evaluate_policy(policy(cpu, memory, kind="WEIGHTED"), lambda m: values[m]).holds


def test_a_missing_alarm_counts_as_not_holding_in_the_share() -> None:
    cpu = alarm("cpu.percent", ">=", 60, weight=1)
    memory = alarm("memory.percent", ">=", 80, weight=1)
    values = {"cpu.percent": {"a": 70.0}}
    result = evaluate_policy(policy(cpu, memory, threshold=50), lambda m: values.get(m, {}))
    assert result.share == 50.0 and result.holds and not result.no_samples
    assert result.reasons == ["no samples of memory.percent"]


def test_single_holds_when_any_alarm_holds() -> None:
    cpu = alarm("cpu.percent", ">=", 60)
    memory = alarm("memory.percent", ">=", 80)
    values = {"cpu.percent": {"a": 10.0}, "memory.percent": {"a": 90.0}}
    result = evaluate_policy(policy(cpu, memory, kind="SINGLE"), lambda m: values[m])
    assert result.holds and result.share == 50.0
    values["memory.percent"] = {"a": 10.0}
    assert not evaluate_policy(policy(cpu, memory, kind="SINGLE"), lambda m: values[m]).holds


@pytest.mark.parametrize(
    ("kind", "value", "current", "expected"),
    [
        ("SCALE_OUT", "1", 2, 3),
        ("SCALE_OUT", "3", 4, 5),  # clamped to the maximum
        ("SCALE_IN", "1", 2, 1),
        ("SCALE_IN", "5", 3, 1),  # never below the minimum
        ("SCALE_TO", "4", 1, 4),
        ("SCALE_TO", "2", 4, 2),
        ("SCALE_TO", "9", 1, 5),
        ("SCALE_OUT_TO", "3", 4, 4),  # only grows
        ("SCALE_OUT_TO", "3", 1, 3),
        ("SCALE_IN_TO", "0", 3, 1),  # only shrinks, never below 1
        ("SCALE_IN_TO", "4", 3, 3),
    ],
)
def test_targets_are_clamped_to_the_bounds(
    kind: str, value: str, current: int, expected: int
) -> None:
    assert target_count((ScalingAction(kind, value),), current, 1, 5) == expected
