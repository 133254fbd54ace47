"""What the auto-scaler remembers per VNF between passes, and the pure rules it applies.

A ``VnfTrack`` per VNF with policies: per policy since when its condition
holds and what was recorded last, the VNF's cooldown, an action under way
(``Plan``) and when evaluating the VNF again could decide anything new.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from nubo.autoscale.decisions import Outcome, ScalingDecision
from nubo.autoscale.policy import target_count
from nubo.autoscale.sizing import Bounds
from nubo.model.descriptors import AutoScalePolicy
from nubo.model.metrics import Metric, metric_named


@dataclass
class PolicyTrack:
    holding_since: float | None = None
    #: a period never starts before this (the last scaling of the VNF): older
    #: samples describe the VNF as it was
    not_before: float = -math.inf
    #: when the period of a holding condition ends (the loop wakes up then)
    due: float | None = None
    last_outcome: Outcome | None = None
    last_recorded: float = -math.inf
    #: whether the last outcome is repeated while it lasts (``reminded``)
    last_reminded: bool = False


@dataclass
class Plan:
    """An action under way: the VNFC count it goes to, one step (operation) at a time."""

    policy: AutoScalePolicy
    target: int
    #: the decision that started it; each step's decision is a copy
    template: ScalingDecision
    op_id: str | None = None


@dataclass
class VnfTrack:
    policies: dict[str, PolicyTrack] = field(default_factory=dict)
    cooldown_until: float = -math.inf
    plan: Plan | None = None
    #: the NS revision and the time after which the last evaluation may no longer hold:
    #: until either moves or new samples come, evaluating again would decide the same
    revision: int = -1
    wake_at: float = -math.inf
    #: when the VNF was last evaluated (what ``wake_at`` was computed from), and the
    #: newest values it was evaluated on (metric name -> vnfc id -> value)
    evaluated_at: float = -math.inf
    inputs: dict[str, dict[str, float]] | None = None
    #: a policy found another operation holding the NS (looked at again every pass)
    busy: bool = False

    def policy(self, name: str) -> PolicyTrack:
        return self.policies.setdefault(name, PolicyTrack())


def memory_key(nsr_id: str, vnfr_id: str) -> str:
    return f"{nsr_id}/{vnfr_id}"


def waiting(
    policy: AutoScalePolicy,
    held: float,
    target: int,
    bounds: Bounds,
    track: VnfTrack,
    now: float,
) -> Outcome | None:
    """The outcome of a holding policy that cannot act yet (None: it may act)."""
    if held < policy.period:
        return Outcome.HOLDING
    if target == bounds.current:
        return Outcome.AT_BOUND
    if now < track.cooldown_until:
        return Outcome.COOLDOWN
    return None


#: outcomes repeated every ``repeat_after`` seconds while they last (but see ``reminded``)
REMINDED = frozenset({Outcome.COOLDOWN, Outcome.AT_BOUND, Outcome.BUSY})
#: a count no action reaches: ``target_count`` without the upper bound
UNBOUNDED = 1 << 30


def reminded(outcome: Outcome, policy: AutoScalePolicy, current: int) -> bool:
    """Whether ``outcome`` is repeated while it lasts.

    A policy that cannot act (cooldown, another operation, a bound) is
    reminded, so the log shows it still wants to; except a scale-in held at
    the minimum: that is where an idle VNF rests, and reminding it would
    write a decision per idle VNF every ``repeat_after`` seconds, for ever.
    A scale-out held at the maximum (capacity exhausted) stays reminded.
    """
    if outcome not in REMINDED:
        return False
    if outcome is Outcome.AT_BOUND:
        unbounded = target_count(policy.actions, current, 0, current + UNBOUNDED)
        return unbounded >= current
    return True


def metrics_of(policies: Sequence[AutoScalePolicy]) -> set[Metric]:
    return {
        metric
        for policy in policies
        for alarm in policy.alarms
        if (metric := metric_named(alarm.metric)) is not None
    }
