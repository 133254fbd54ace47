"""Scaling decisions: what the auto-scaler decided for one policy of one VNF, and why.

Every decision carries its inputs (the statistic value of each alarm, the
weights, the share, the thresholds, the VNFC count and bounds) so that an
operator can tell afterwards why a VNF did or did not scale. They are kept
by a ``DecisionRepository`` (the store port) as JSON bodies (``nubo.store.decisions``).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from nubo.autoscale.policy import AlarmResult, describe_actions
from nubo.autoscale.sizing import Bounds
from nubo.model.descriptors import AutoScalePolicy
from nubo.model.ids import new_id
from nubo.model.records import NetworkServiceRecord, VnfRecord
from nubo.model.tenancy import SYSTEM, Scope
from nubo.store.port.decisions import DecisionRepository


class Outcome(StrEnum):
    SCALED_OUT = "SCALED_OUT"
    SCALED_IN = "SCALED_IN"
    #: the policy fired, but the VNF scaled less than its cooldown ago
    COOLDOWN = "COOLDOWN"
    #: the policy fired, but the VNF is already at the bound its actions lead to
    AT_BOUND = "AT_BOUND"
    #: the condition holds, but not yet for the policy's period
    HOLDING = "HOLDING"
    NOT_HOLDING = "NOT_HOLDING"
    #: no alarm of the policy had a recent sample
    NO_SAMPLES = "NO_SAMPLES"
    #: the policy fired, but another operation holds the NS
    BUSY = "BUSY"
    #: the scaling operation was refused or ended without completing
    FAILED = "FAILED"


#: outcomes that launched (or tried to launch) a scaling operation: always recorded
ACTIONS = frozenset({Outcome.SCALED_OUT, Outcome.SCALED_IN, Outcome.FAILED})


class AlarmInput(BaseModel):
    """One alarm of a decision: its definition and the value it was compared with."""

    model_config = ConfigDict(frozen=True)

    metric: str
    resolved_metric: str | None = None
    statistic: str
    comparison_operator: str
    threshold: float
    weight: float
    value: float | None = None
    samples: int = 0
    holds: bool = False
    reason: str = ""

    @classmethod
    def of(cls, result: AlarmResult) -> AlarmInput:
        alarm = result.alarm
        return cls(
            metric=alarm.metric,
            resolved_metric=result.resolved_metric,
            statistic=alarm.statistic,
            comparison_operator=alarm.comparison_operator,
            threshold=alarm.threshold,
            weight=alarm.weight,
            value=result.value,
            samples=result.samples,
            holds=result.holds,
            reason=result.reason,
        )


class ScalingDecision(BaseModel):
    """One decision of the auto-scaler about one policy of one VNF."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(default_factory=new_id)
    #: seconds since the epoch
    time: float
    nsr_id: str
    vnfr_id: str
    vnf_name: str
    policy: str
    outcome: Outcome
    reason: str = ""
    policy_type: str = "VOTED"
    comparison_operator: str = ">="
    threshold: float = 100.0
    #: weighted percent of the alarms that hold
    share: float | None = None
    period: int = 0
    cooldown: int = 0
    holding_since: float | None = None
    cooldown_until: float | None = None
    alarms: list[AlarmInput] = Field(default_factory=list)
    vnfc_count: int = 0
    min_count: int = 1
    max_count: int = 1
    #: the policy's actions as written, e.g. ``SCALE_OUT 1``
    action: str = ""
    #: the VNFC count the actions lead to, clamped to the bounds
    target: int | None = None
    vdu_id: str | None = None
    op_id: str | None = None

    def to_body(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> ScalingDecision:
        return cls.model_validate(body)


class DecisionLog:
    """The decisions of the auto-scaler, as the API and the CLI read them."""

    def __init__(self, rows: DecisionRepository) -> None:
        self.rows = rows

    async def record(self, decision: ScalingDecision) -> None:
        await self.rows.save(decision)

    async def prune(self, before: float) -> int:
        """Forget the decisions taken before ``before``; how many went."""
        return await self.rows.prune(before)

    async def list(
        self,
        nsr_id: str | None = None,
        vnfr_id: str | None = None,
        since: float | None = None,
        limit: int = 100,
        scope: Scope = SYSTEM,
    ) -> builtins.list[ScalingDecision]:
        """Newest first; those of NSs ``scope`` sees."""
        bodies = await self.rows.list(
            nsr_id=nsr_id, vnfr_id=vnfr_id, since=since, limit=limit, scope=scope
        )
        return [ScalingDecision.from_body(body) for body in bodies]


def decision_of(
    now: float,
    nsr: NetworkServiceRecord,
    vnfr: VnfRecord,
    policy: AutoScalePolicy,
    alarms: Sequence[AlarmResult],
    share: float,
    bounds: Bounds,
    outcome: Outcome,
    reason: str,
    extra: dict[str, Any] | None = None,
) -> ScalingDecision:
    """A decision about ``policy`` of ``vnfr`` with the inputs of its evaluation."""
    return ScalingDecision(
        time=now,
        nsr_id=nsr.id,
        vnfr_id=vnfr.id,
        vnf_name=vnfr.name,
        policy=policy.name,
        outcome=outcome,
        reason=reason,
        policy_type=policy.type,
        comparison_operator=policy.comparison_operator,
        threshold=policy.threshold,
        share=share,
        period=policy.period,
        cooldown=policy.cooldown,
        alarms=[AlarmInput.of(result) for result in alarms],
        vnfc_count=bounds.current,
        min_count=bounds.lowest,
        max_count=bounds.highest,
        action=describe_actions(policy.actions),
        **(extra or {}),
    )
