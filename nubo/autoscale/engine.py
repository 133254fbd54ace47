"""AutoScaler: evaluates the VNFs' auto-scaling policies and launches scale operations.

A reconciler: each ``run_once`` takes the ACTIVE NSs made from NSDs with
``auto_scale_policy`` entries (copies reloaded only when their revision
moved, ``watched``) and the samples stored since the last pass (``newest``:
the newest value of each VNFC; samples older than ``max_age`` are ignored);
each VNF with new samples, a changed record, an action under way or a
moment that has come (a period's or cooldown's end, a reminder, a value
ageing out) has each policy evaluated (``nubo.autoscale.policy``) and
decided. A VNF with none of these would be decided the same way again, so
it costs nothing on that pass. The rules nubo follows:

* Period: a policy fires only once its condition has held on every pass for
  ``period`` seconds; until then the decision is HOLDING. The count restarts
  whenever the condition stops holding, and for every policy of the VNF when
  the VNF scales (the next period measures the new size).
* Bounds: a VNF has between one VNFC per VDU and the sum of its VDUs'
  ``scale_in_out``. A target outside is clamped; when nothing can change the
  decision is AT_BOUND.
* Cooldown is per VNF (Open Baton: "the time the VNF needs to wait between
  two scaling operations"): after the last step of an action has ended
  (completed or failed), no policy of that VNF acts for the acting policy's
  ``cooldown`` seconds (COOLDOWN).
* Steps: an NS operation adds or removes one VNFC, so an action of several
  VNFCs (``SCALE_OUT 2``, ``SCALE_TO 5``) runs as consecutive steps, one per
  pass once the previous one has completed, without re-checking the alarms;
  the first failed step ends the action. Scale-out grows the first VDU with
  room, scale-in shrinks the last VDU with more than one VNFC.
* The NS lock is never waited for: a policy that fires while another
  operation holds the NS is recorded BUSY and tried again on the next pass.
* Recording: SCALED_OUT, SCALED_IN and FAILED are always recorded; any other
  outcome when it differs from the policy's previous one; COOLDOWN, AT_BOUND
  and BUSY are repeated every ``repeat_after`` seconds while they last, except
  a scale-in held at the minimum (an idle VNF at rest: ``tracks.reminded``).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from nubo.autoscale.agenda import Agenda
from nubo.autoscale.decisions import ACTIONS, DecisionLog, Outcome, ScalingDecision, decision_of
from nubo.autoscale.newest import NewestValues
from nubo.autoscale.policy import evaluate_policy, target_count, verdict
from nubo.autoscale.sizing import Bounds, vdu_to_scale
from nubo.autoscale.tracks import (
    Plan,
    PolicyTrack,
    VnfTrack,
    memory_key,
    metrics_of,
    reminded,
    waiting,
)
from nubo.autoscale.watched import WATCHED_NS, WatchedServices
from nubo.model.descriptors import AutoScalePolicy
from nubo.model.errors import Conflict, NotFound, NuboError
from nubo.model.ids import new_id
from nubo.model.metrics import metric_named
from nubo.model.records import LcmOpOcc, NetworkServiceRecord, VnfRecord
from nubo.model.states import FINAL_OP_STATES, NsStatus, OpState
from nubo.monitor.query import MetricsReader
from nubo.nfvo.service import NsService
from nubo.nfvo.workflows import NsdLoader
from nubo.store.port import LoopMemory

log = logging.getLogger("nubo.autoscale")

Clock = Callable[[], float]

#: the loop memory's kind for running cooldowns, keyed "<nsr id>/<vnfr id>"
COOLDOWNS = "scaling-cooldown"


class AutoScaler:
    """Decides, records and launches scaling of VNFs by their descriptor's policies."""

    def __init__(
        self,
        ns: NsService,
        reader: MetricsReader,
        decisions: DecisionLog,
        load_nsd: NsdLoader,
        clock: Clock = time.time,
        *,
        max_age: float = 15.0,
        repeat_after: float = 60.0,
        memory: LoopMemory | None = None,
    ) -> None:
        self.ns = ns
        self.decisions = decisions
        #: seconds since the epoch, the time base of metric samples
        self.clock = clock
        self.repeat_after = repeat_after
        #: the tracks, and which the next passes look at
        self.agenda = Agenda()
        self.newest = NewestValues(reader, max_age)
        self.watched = WatchedServices(ns, load_nsd, clock=clock)
        #: where cooldowns outlive the process (None: in memory only)
        self.memory = memory

    def scaling(self) -> bool:
        """Whether an action of several steps is under way."""
        return self.agenda.scaling()

    def next_due(self, now: float) -> float | None:
        """The earliest time after ``now`` a holding policy's period ends (a pass is due)."""
        return self.agenda.next_due(now)

    def cooldown_until(self, nsr_id: str, vnfr_id: str) -> float | None:
        track = self.agenda.tracks.get((nsr_id, vnfr_id))
        return track.cooldown_until if track and track.cooldown_until > -math.inf else None

    async def run_once(self) -> list[ScalingDecision]:
        """One pass: evaluates each VNF with policies that has new samples, a changed
        record, an action under way or a time that has come; returns what it recorded.

        Only those VNFs are visited: at rest a pass costs the queries that tell
        nothing moved, not a look at every watched VNF.
        """
        now = self.clock()
        recorded: list[ScalingDecision] = []
        stored = await self.memory.load(COOLDOWNS) if self.memory is not None else {}
        view = await self.watched.current(self.agenda.following())
        try:
            fresh = await self.newest.refresh(view.metrics, now)
        except Exception:  # a metrics outage means "no new samples", not a dead loop
            log.exception("autoscale.metrics_failed")
            fresh = set()
        self.agenda.follow(view)
        for nsr_id, vnfr_id in self.agenda.candidates(view, fresh, now):
            nsr, nsd = view.services[nsr_id]
            try:
                policies = nsd.vnfd(nsr.find_vnfr(vnfr_id).name).auto_scale_policies
            except (KeyError, NotFound):
                policies = ()
            if not policies:
                self.agenda.forget((nsr_id, vnfr_id))
                continue
            track = self.agenda.track((nsr_id, vnfr_id))
            remembered = stored.get(memory_key(nsr_id, vnfr_id), {}).get("until")
            if isinstance(remembered, float | int):
                track.cooldown_until = max(track.cooldown_until, float(remembered))
            try:
                if self._due(track, nsr, vnfr_id, vnfr_id in fresh, policies, now):
                    recorded += await self._reconcile(nsr, vnfr_id, policies, track, now)
                    track.revision, track.evaluated_at = nsr.revision, now
                    track.busy = any(
                        p.last_outcome is Outcome.BUSY for p in track.policies.values()
                    )
                    track.wake_at = self._wake_at(track, vnfr_id, policies, now)
            finally:  # a pass that failed here looks again next time (wake_at not moved)
                self.agenda.note((nsr_id, vnfr_id), track, now)
        await self._remember_cooldowns(stored, now)
        return recorded

    def _due(
        self,
        track: VnfTrack,
        nsr: NetworkServiceRecord,
        vnfr_id: str,
        fresh: bool,
        policies: Sequence[AutoScalePolicy],
        now: float,
    ) -> bool:
        """Whether evaluating the VNF again could decide anything new."""
        if (
            fresh
            or track.plan is not None
            or track.revision != nsr.revision
            # whether another operation holds the NS is not in the record
            or track.busy
        ):
            return True
        if now < track.wake_at:
            return False
        # the awaited moment came; when it was only the evaluated values ageing out and
        # samples repeating them kept them valid since, the evaluation would not change
        track.wake_at = self._wake_at(track, vnfr_id, policies, now, since=track.evaluated_at)
        if now >= track.wake_at:
            return True
        values, _ = self._latest_values(nsr.find_vnfr(vnfr_id), policies, now)
        return values != track.inputs

    def _wake_at(
        self,
        track: VnfTrack,
        vnfr_id: str,
        policies: Sequence[AutoScalePolicy],
        now: float,
        since: float | None = None,
    ) -> float:
        """The earliest moment the last evaluation (at ``since``, default ``now``) may
        change with nothing else moving: a period's or a cooldown's end after it, a
        reminder, a value ageing out.

        A period that ended before the evaluation is no such moment: that
        evaluation acted or recorded why not (at the bound, in cooldown), and
        would decide the same on every pass after.
        """
        since = now if since is None else since
        moments = [self.newest.next_change(vnfr_id, metrics_of(policies), now)]
        for ptrack in track.policies.values():
            if ptrack.due is not None and ptrack.due > since:
                moments.append(ptrack.due)
            if ptrack.last_reminded:
                moments.append(ptrack.last_recorded + self.repeat_after)
        if track.cooldown_until > since:
            moments.append(track.cooldown_until)
        return min(moments)

    async def _remember_cooldowns(self, stored: dict[str, dict[str, Any]], now: float) -> None:
        """Write running cooldowns for whichever replica leads next; drop ended ones."""
        if self.memory is None:
            return
        running = self.agenda.cooldowns(now)
        for key, until in running.items():
            if stored.get(key, {}).get("until") != until:
                await self.memory.put(COOLDOWNS, key, {"until": until})
        for key in stored.keys() - running.keys():
            await self.memory.forget(COOLDOWNS, key)

    async def _reconcile(
        self,
        nsr: NetworkServiceRecord,
        vnfr_id: str,
        policies: Sequence[AutoScalePolicy],
        track: VnfTrack,
        now: float,
    ) -> list[ScalingDecision]:
        recorded: list[ScalingDecision] = []
        if track.plan is not None and track.plan.op_id is not None:
            op = await self._operation(track.plan.op_id)
            if op is not None and op.state not in FINAL_OP_STATES:
                return []  # our step is still running
            nsr = await self.ns.get(nsr.id)  # the step changed the record
            recorded += await self._step_ended(nsr, vnfr_id, track, op, now)
        if nsr.status not in WATCHED_NS:
            return recorded
        vnfr = nsr.find_vnfr(vnfr_id)
        if track.plan is not None:
            recorded += await self._next_step(nsr, vnfr, track, now)
            if track.plan is not None:
                return recorded
        values, measured = self._latest_values(vnfr, policies, now)
        track.inputs = values
        acted: str | None = None
        for policy in policies:
            decision = await self._decide(nsr, vnfr, policy, track, values, acted, now, measured)
            if decision is None:
                continue  # it repeats the policy's previous outcome, which is not reminded
            if decision.outcome in (Outcome.SCALED_OUT, Outcome.SCALED_IN):
                acted = policy.name
            if await self._record(track.policy(policy.name), policy, decision):
                recorded.append(decision)
        return recorded

    def _latest_values(
        self, vnfr: VnfRecord, policies: Sequence[AutoScalePolicy], now: float
    ) -> tuple[dict[str, dict[str, float]], float | None]:
        """Newest value per live VNFC, per descriptor metric name; and when it was measured.

        A policy's period runs from the measurement that first shows its
        condition, not from the pass that happens to read it.
        """
        live = {vnfc.id for vnfc in vnfr.vnfcs()}
        values: dict[str, dict[str, float]] = {}
        measured: float | None = None
        for name in {alarm.metric for policy in policies for alarm in policy.alarms}:
            metric = metric_named(name)
            if metric is None:
                continue
            newest = self.newest.values(vnfr.id, metric, live, now)
            values[name] = {vnfc: value for vnfc, (_, value) in newest.items()}
            if newest:
                when = max(when for when, _ in newest.values())
                measured = when if measured is None else max(measured, when)
        return values, measured

    async def _decide(
        self,
        nsr: NetworkServiceRecord,
        vnfr: VnfRecord,
        policy: AutoScalePolicy,
        track: VnfTrack,
        values: Mapping[str, Mapping[str, float]],
        acted: str | None,
        now: float,
        measured: float | None = None,
    ) -> ScalingDecision | None:
        """The decision about one policy; None when it would only repeat the previous
        NO_SAMPLES or NOT_HOLDING (the common case at rest: no decision is built)."""
        result = evaluate_policy(policy, lambda name: values.get(name, {}))
        bounds = Bounds.of(vnfr)
        ptrack = track.policy(policy.name)
        share = round(result.share, 3)
        reasons = result.reasons
        if result.no_samples or not result.holds:
            ptrack.holding_since = ptrack.due = None
            quiet = Outcome.NO_SAMPLES if result.no_samples else Outcome.NOT_HOLDING
            if ptrack.last_outcome is quiet:
                return None
            if result.no_samples:
                outcome, reason = Outcome.NO_SAMPLES, "; ".join(reasons) or "no samples"
            else:
                outcome = Outcome.NOT_HOLDING
                reason = "; ".join([verdict(policy, share, False), *reasons])
            return decision_of(
                now, nsr, vnfr, policy, result.alarms, share, bounds, outcome, reason
            )
        if ptrack.holding_since is None:
            ptrack.holding_since = max(min(now, measured or now), ptrack.not_before)
        held = now - ptrack.holding_since
        ptrack.due = ptrack.holding_since + policy.period
        target = target_count(policy.actions, bounds.current, bounds.lowest, bounds.highest)
        pending = waiting(policy, held, target, bounds, track, now)
        if self._repeats(ptrack, policy, pending, bounds.current, now):
            return None  # e.g. still at the bound, reminded later: no decision to build
        extra: dict[str, Any] = {"holding_since": ptrack.holding_since}
        decision = decision_of(
            now, nsr, vnfr, policy, result.alarms, share, bounds, Outcome.HOLDING, "", extra
        )
        if held < policy.period:
            reason = f"{verdict(policy, share, True)} for {held:g} s of {policy.period} s"
            return decision.model_copy(update={"reason": reason})
        decision = decision.model_copy(update={"target": target})
        if target == bounds.current:
            edge = "maximum" if target == bounds.highest else "minimum"
            reason = f"already at the {edge} of {target} VNFC(s)"
            return decision.model_copy(update={"outcome": Outcome.AT_BOUND, "reason": reason})
        if now < track.cooldown_until:
            left = track.cooldown_until - now
            reason = f"the VNF scaled recently: {left:g} s of cooldown left"
            update = {"outcome": Outcome.COOLDOWN, "reason": reason}
            return decision.model_copy(update=update | {"cooldown_until": track.cooldown_until})
        if acted is not None:
            reason = f"policy {acted} scales this VNF in this pass"
            return decision.model_copy(update={"outcome": Outcome.BUSY, "reason": reason})
        busy = await self._busy(nsr)
        if busy:
            return decision.model_copy(update={"outcome": Outcome.BUSY, "reason": busy})
        plan = Plan(policy, target, decision)
        decision = await self._launch(nsr, vnfr, plan, now)
        if decision.outcome in (Outcome.SCALED_OUT, Outcome.SCALED_IN):
            track.plan = plan
            for other in track.policies.values():
                other.holding_since = other.due = None  # the next period: the new size
                other.not_before = now
        elif decision.outcome == Outcome.FAILED:
            track.cooldown_until = now + policy.cooldown
        return decision

    async def _busy(self, nsr: NetworkServiceRecord) -> str:
        holder = await self.ns.runner.locks.holder(nsr.id)
        if holder is not None:
            return f"NS is busy with operation {holder}"
        if nsr.status != NsStatus.ACTIVE:
            return f"NS is {nsr.status.value}"
        return ""

    async def _next_step(
        self, nsr: NetworkServiceRecord, vnfr: VnfRecord, track: VnfTrack, now: float
    ) -> list[ScalingDecision]:
        plan = track.plan
        assert plan is not None
        if Bounds.of(vnfr).current == plan.target:
            self._finish(track, now)
            return []
        busy = await self._busy(nsr)
        if busy:
            update = {"id": new_id(), "time": now, "outcome": Outcome.BUSY, "reason": busy}
            decision = plan.template.model_copy(update=update)
            recorded = await self._record(track.policy(plan.policy.name), plan.policy, decision)
            return [decision] if recorded else []
        decision = await self._launch(nsr, vnfr, plan, now)
        if decision.outcome == Outcome.FAILED:
            self._finish(track, now)
        recorded = await self._record(track.policy(plan.policy.name), plan.policy, decision)
        return [decision] if recorded else []

    async def _launch(
        self,
        nsr: NetworkServiceRecord,
        vnfr: VnfRecord,
        plan: Plan,
        now: float,
    ) -> ScalingDecision:
        """Launch one step of ``plan``; the decision says what happened."""
        current = Bounds.of(vnfr).current
        out = plan.target > current
        vdu = vdu_to_scale(vnfr, out)
        outcome = Outcome.SCALED_OUT if out else Outcome.SCALED_IN
        update: dict[str, Any] = {"id": new_id(), "time": now, "vnfc_count": current}
        step = f"{current} -> {current + (1 if out else -1)} VNFC(s), target {plan.target}"
        try:
            if vdu is None:
                raise Conflict(f"no VDU of VNF {vnfr.name} can scale {'out' if out else 'in'}")
            scale = self.ns.scale_out if out else self.ns.scale_in
            op = await scale(nsr.id, vnfr.id, vdu.id, automatic=True)
        except NuboError as exc:
            if "busy_operation" in exc.extra or exc.temporary:  # e.g. VIM unreachable
                return plan.template.model_copy(
                    update=update | {"outcome": Outcome.BUSY, "reason": exc.detail}
                )
            log.warning("autoscale.refused ns=%s vnf=%s error=%s", nsr.id, vnfr.name, exc.detail)
            reason = f"{step}: refused: {exc.detail}"
            return plan.template.model_copy(
                update=update | {"outcome": Outcome.FAILED, "reason": reason}
            )
        plan.op_id = op.id
        log.info(
            "autoscale.launched ns=%s vnf=%s policy=%s op=%s %s",
            nsr.id,
            vnfr.name,
            plan.policy.name,
            op.id,
            step,
        )
        update |= {"outcome": outcome, "op_id": op.id, "vdu_id": vdu.id, "reason": step}
        return plan.template.model_copy(update=update)

    async def _step_ended(
        self,
        nsr: NetworkServiceRecord,
        vnfr_id: str,
        track: VnfTrack,
        op: LcmOpOcc | None,
        now: float,
    ) -> list[ScalingDecision]:
        plan = track.plan
        assert plan is not None and plan.op_id is not None
        op_id, plan.op_id = plan.op_id, None
        if op is not None and op.state == OpState.COMPLETED:
            return []
        self._finish(track, now)
        state = op.state.value if op is not None else "gone"
        detail = (op.error or {}).get("detail", "") if op is not None else ""
        reason = f"operation {op_id} ended {state}" + (f": {detail}" if detail else "")
        count = Bounds.of(nsr.find_vnfr(vnfr_id)).current
        update = {"id": new_id(), "time": now, "outcome": Outcome.FAILED, "reason": reason}
        decision = plan.template.model_copy(update=update | {"op_id": op_id, "vnfc_count": count})
        await self._record(track.policy(plan.policy.name), plan.policy, decision)
        return [decision]

    def _finish(self, track: VnfTrack, now: float) -> None:
        """The action is over: the VNF's cooldown starts now."""
        if track.plan is not None:
            track.cooldown_until = now + track.plan.policy.cooldown
        track.plan = None

    async def _operation(self, op_id: str) -> LcmOpOcc | None:
        try:
            return await self.ns.operation(op_id)
        except NotFound:
            return None

    def _repeats(
        self,
        track: PolicyTrack,
        policy: AutoScalePolicy,
        outcome: Outcome | None,
        current: int,
        now: float,
    ) -> bool:
        """Whether ``_record`` would leave a decision with ``outcome`` unrecorded."""
        if outcome is None or outcome in ACTIONS or outcome != track.last_outcome:
            return False
        due = now - track.last_recorded >= self.repeat_after
        return not (due and reminded(outcome, policy, current))

    async def _record(
        self, track: PolicyTrack, policy: AutoScalePolicy, decision: ScalingDecision
    ) -> bool:
        """Record ``decision`` unless it only repeats the policy's previous outcome."""
        outcome = decision.outcome
        if self._repeats(track, policy, outcome, decision.vnfc_count, decision.time):
            return False
        await self.decisions.record(decision)
        track.last_outcome, track.last_recorded = outcome, decision.time
        track.last_reminded = reminded(outcome, policy, decision.vnfc_count)
        if outcome in ACTIONS:
            log.info(
                "autoscale.decision ns=%s vnf=%s policy=%s outcome=%s op=%s reason=%s",
                decision.nsr_id,
                decision.vnf_name,
                decision.policy,
                outcome.value,
                decision.op_id,
                decision.reason,
            )
        return True
