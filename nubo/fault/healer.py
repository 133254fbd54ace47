"""Healer: heals the VNFCs the watcher found down, by policy, with bounded attempts.

A reconciler: ``run_once`` reads the active VNFC alarms and, for each VNFC
whose NS is ACTIVE or ERROR and not busy, launches a HEAL LCM operation
(restart in place, else re-create with the same address and environment)
when its policy allows another attempt and the backoff has elapsed. After
the last attempt fails it raises HEAL_FAILED and leaves the VNFC alone until
it is healthy again. Attempts are forgotten once the VNFC has stayed healthy
for ``stable_after`` seconds, so a VNFC that crashes again right after each
heal still runs out of attempts instead of being restarted forever.

The VIM may restart a crashed server by itself (a restart policy; see
``restarts``). The healer leaves such a VNFC to the VIM for at most
``vim_restart_wait`` seconds from its death, then takes over (its restart
in place stops the VIM's restart first). Each restart the VIM began counts
as an attempt, so a crash loop the VIM restarts ends in HEAL_FAILED too:
with the Docker driver's 3 engine restarts and the default 3 attempts, the
engine's restarts are all a crash loop gets before HEAL_FAILED.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

from nubo.descriptors.heal_policy import DEFAULT_POLICY
from nubo.fault.alarms import AlarmService
from nubo.fault.restarts import VimRestarts
from nubo.fault.watcher import VNFC_CAUSES, Clock
from nubo.model.alarms import Alarm, PerceivedSeverity, ProbableCause
from nubo.model.descriptors import HealMode, HealPolicy, Nsd
from nubo.model.errors import Conflict, NotFound, NuboError, VimTimeout, VimUnreachable
from nubo.model.records import LcmOpOcc, NetworkServiceRecord, VnfcInstance, VnfRecord
from nubo.model.states import NsStatus, OpState, VnfcState
from nubo.nfvo.service import NsService
from nubo.store.port import LoopMemory

log = logging.getLogger("nubo.fault")

HEALABLE_NS = frozenset({NsStatus.ACTIVE, NsStatus.ERROR})
#: seconds the healer leaves a VNFC the VIM is restarting to the VIM: Docker waits
#: 0.1 s before a first restart (doubling for a container that ran under 10 s, so
#: 0.4 s before the third), and a start takes 0.3-0.6 s on a loaded two-core host;
#: 5 s is several times the slowest, and short next to an operator's patience
VIM_RESTART_WAIT = 5.0
#: the loop memory's kind for heal attempts, keyed by VNFC id
HEAL_ATTEMPTS = "heal-attempts"
#: error codes of heals that failed because the VIM itself was away
VIM_DOWN_CODES = frozenset({VimUnreachable.code, VimTimeout.code})


PolicyFor = Callable[[NetworkServiceRecord, str], Awaitable[HealPolicy]]


async def default_policy_for(_nsr: NetworkServiceRecord, _vnf_name: str) -> HealPolicy:
    """Every VNF gets the default policy."""
    return DEFAULT_POLICY


def policy_from_descriptor(load_nsd: Callable[[str, str], Awaitable[Nsd]]) -> PolicyFor:
    """Each VNF's policy is the ``heal_policy`` of its VNFD (default when absent)."""

    async def policy_for(nsr: NetworkServiceRecord, vnf_name: str) -> HealPolicy:
        try:
            nsd = await load_nsd(nsr.descriptor_reference, nsr.ns_flavour_id)
            return nsd.vnfd(vnf_name).heal_policy
        except (NotFound, KeyError):
            return DEFAULT_POLICY

    return policy_for


@dataclass
class _Attempts:
    """What the healer remembers of one VNFC."""

    count: int = 0
    op_id: str | None = None
    #: when the last attempt was seen finished (the backoff runs from there)
    ended_at: float | None = None
    healthy_since: float | None = None
    given_up: bool = False


class Healer:
    """Launches HEAL operations for VNFCs with an active VNFC alarm."""

    def __init__(
        self,
        ns: NsService,
        alarms: AlarmService,
        policy_for: PolicyFor = default_policy_for,
        clock: Clock = time.time,
        *,
        stable_after: float = 10.0,
        memory: LoopMemory | None = None,
        restarts: VimRestarts | None = None,
        vim_restart_wait: float = VIM_RESTART_WAIT,
    ) -> None:
        self.ns = ns
        self.alarms = alarms
        self.policy_for = policy_for
        #: seconds since the epoch: attempts are remembered across processes
        self.clock = clock
        self.stable_after = stable_after
        self._attempts: dict[str, _Attempts] = {}
        #: where attempts outlive the process (None: in memory only)
        self.memory = memory
        #: the VIM's own restarts under way (the watcher's); None: none are followed
        self.restarts = restarts
        self.vim_restart_wait = vim_restart_wait
        #: restarts the VIM began since the last pass, by VNFC: attempts to count
        self._vim_restarted: dict[str, int] = {}
        if restarts is not None:
            restarts.on_new = self.note_vim_restart

    def note_vim_restart(self, vnfc_id: str, restarts: int = 1) -> None:
        """The VIM restarted a VNFC by itself: attempts, counted on the next pass."""
        self._vim_restarted[vnfc_id] = self._vim_restarted.get(vnfc_id, 0) + restarts

    def healing(self) -> bool:
        """Whether a HEAL operation it launched may still be running."""
        return any(t.op_id is not None and t.ended_at is None for t in self._attempts.values())

    def attempts(self, vnfc_id: str) -> int:
        """Heal attempts made for a VNFC since it was last healthy."""
        track = self._attempts.get(vnfc_id)
        return track.count if track else 0

    async def run_once(self) -> list[LcmOpOcc]:
        """One pass; returns the HEAL operations it launched."""
        now = self.clock()
        stored = await self._recall()
        self._count_vim_restarts(now)
        down: dict[str, Alarm] = {}
        for alarm in await self.alarms.list(active_only=True):
            if alarm.vnfc_id and alarm.nsr_id and alarm.probable_cause in VNFC_CAUSES:
                down[alarm.vnfc_id] = alarm
        self._forget_healthy(down, now)
        launched = []
        try:
            for alarm in down.values():
                op = await self._heal(alarm, now)
                if op is not None:
                    launched.append(op)
        finally:
            await self._remember(stored)
        return launched

    def _count_vim_restarts(self, now: float) -> None:
        for vnfc_id, count in self._vim_restarted.items():
            track = self._attempts.setdefault(vnfc_id, _Attempts())
            track.count += count
            track.ended_at, track.healthy_since = now, None
        self._vim_restarted.clear()

    async def _recall(self) -> dict[str, dict[str, Any]]:
        """Take the attempts from the database: another replica may have led meanwhile."""
        if self.memory is None:
            return {}
        stored = await self.memory.load(HEAL_ATTEMPTS)
        self._attempts = {key: _Attempts(**body) for key, body in stored.items()}
        return stored

    async def _remember(self, stored: dict[str, dict[str, Any]]) -> None:
        if self.memory is None:
            return
        for vnfc_id, track in self._attempts.items():
            body = asdict(track)
            if stored.get(vnfc_id) != body:
                await self.memory.put(HEAL_ATTEMPTS, vnfc_id, body)
        for vnfc_id in stored.keys() - self._attempts.keys():
            await self.memory.forget(HEAL_ATTEMPTS, vnfc_id)

    def _forget_healthy(self, down: dict[str, Alarm], now: float) -> None:
        for vnfc_id, track in list(self._attempts.items()):
            if vnfc_id in down:
                track.healthy_since = None
            elif track.healthy_since is None:
                track.healthy_since = now
            if track.healthy_since is not None and now - track.healthy_since >= self.stable_after:
                del self._attempts[vnfc_id]

    async def _heal(self, alarm: Alarm, now: float) -> LcmOpOcc | None:
        assert alarm.nsr_id is not None and alarm.vnfc_id is not None
        nsr_id, vnfc_id = alarm.nsr_id, alarm.vnfc_id
        if await self.ns.runner.locks.holder(nsr_id) is not None:
            return None  # an operation (maybe our last heal) is running
        if self._left_to_the_vim(nsr_id, vnfc_id):
            return None
        track = self._attempts.setdefault(vnfc_id, _Attempts())
        if track.given_up:
            return None
        try:
            nsr = await self.ns.get(nsr_id)
            vnfr, _, vnfc = nsr.find_vnfc(vnfc_id)
        except NotFound:
            return None
        if nsr.status not in HEALABLE_NS or vnfc.state == VnfcState.DELETED:
            return None
        policy = await self.policy_for(nsr, vnfr.name)
        if policy.mode is HealMode.NONE:
            return None
        if track.ended_at is None:
            track.ended_at = now  # first pass that sees the last attempt over
            await self._refund_if_vim_failed(track)
        if track.count and now < track.ended_at + policy.delay(track.count):
            return None
        if track.count >= policy.max_attempts:
            await self._give_up(nsr, vnfr, vnfc, track)
            return None
        return await self._launch(nsr, vnfc, alarm, track, policy, now)

    def _left_to_the_vim(self, nsr_id: str, vnfc_id: str) -> bool:
        """Whether the VIM is restarting the VNFC and may still be given time to."""
        if self.restarts is None:
            return False
        age = self.restarts.age(vnfc_id)
        if age is None:
            return False
        if age < self.vim_restart_wait:
            return True
        log.warning(
            "heal.vim_restart_late ns=%s vnfc=%s waited=%.1f s: nubo heals it", nsr_id, vnfc_id, age
        )
        self.restarts.drop(vnfc_id)
        return False

    async def _refund_if_vim_failed(self, track: _Attempts) -> None:
        """A heal that failed because the VIM went away is not the VNFC's fault.

        After a Docker daemon restart, say, the first heals fail while the
        engine is down; counting them would give up on VNFCs that heal fine
        once it is back.
        """
        if track.op_id is None or track.count == 0:
            return
        try:
            op = await self.ns.operation(track.op_id)
        except NotFound:
            return
        code = (op.error or {}).get("code")
        if op.state != OpState.COMPLETED and code in VIM_DOWN_CODES:
            track.count -= 1
            log.info("heal.not_counted op=%s reason=%s", op.id, code)

    async def _launch(
        self,
        nsr: NetworkServiceRecord,
        vnfc: VnfcInstance,
        alarm: Alarm,
        track: _Attempts,
        policy: HealPolicy,
        now: float,
    ) -> LcmOpOcc | None:
        try:
            op = await self.ns.heal(
                nsr.id, vnfc.id, cause=alarm.probable_cause.value, automatic=True
            )
        except (Conflict, NotFound) as exc:  # busy, or changed meanwhile: not an attempt
            log.info("heal.deferred ns=%s vnfc=%s reason=%s", nsr.id, vnfc.id, exc.detail)
            return None
        except NuboError as exc:
            if exc.temporary:  # e.g. the VIM is flagged unreachable: wait for it
                log.info("heal.deferred ns=%s vnfc=%s reason=%s", nsr.id, vnfc.id, exc.detail)
                return None
            track.count, track.ended_at = track.count + 1, now
            log.warning("heal.refused ns=%s vnfc=%s error=%s", nsr.id, vnfc.id, exc.detail)
            return None
        track.count, track.op_id, track.ended_at = track.count + 1, op.id, None
        log.info(
            "heal.launched ns=%s vnfc=%s op=%s attempt=%d/%d cause=%s",
            nsr.id,
            vnfc.id,
            op.id,
            track.count,
            policy.max_attempts,
            alarm.probable_cause.value,
        )
        return op

    async def _give_up(
        self, nsr: NetworkServiceRecord, vnfr: VnfRecord, vnfc: VnfcInstance, track: _Attempts
    ) -> None:
        track.given_up = True
        detail = f"VNFC {vnfc.hostname} of VNF {vnfr.name}: {track.count} heal attempts failed"
        if track.op_id is not None:
            with_op = await self.ns.operation(track.op_id)
            error = (with_op.error or {}).get("detail")
            detail += f"; last operation {with_op.id} ended {with_op.state.value}"
            detail += f": {error}" if error else ""
        await self.alarms.raise_alarm(
            vnfc.id,
            ProbableCause.HEAL_FAILED,
            PerceivedSeverity.CRITICAL,
            [detail],
            project_id=nsr.project_id,
            nsr_id=nsr.id,
            vnfr_id=vnfr.id,
            vnfc_id=vnfc.id,
            vim_id=nsr.vim_id,
        )
        log.error("heal.gave_up ns=%s vnfc=%s attempts=%d", nsr.id, vnfc.id, track.count)
