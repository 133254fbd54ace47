"""NsService: the NS operations the interfaces call.

Each method checks the preconditions (existence, state, scaling bounds),
launches the operation through ``OpRunner`` and returns at once with the
persisted occurrence; the work goes on in the background.
"""

from __future__ import annotations

import builtins
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from nubo.model.descriptors import ConnectionPoint, LifecycleEventType, VnfcTemplate
from nubo.model.errors import BadRequest, Busy, Conflict
from nubo.model.records import LcmOpOcc, NetworkServiceRecord, StepRecord, VnfcLocation
from nubo.model.states import (
    VNFC_TRANSITIONS,
    LcmOperationType,
    NsStatus,
    StepStatus,
    VnfcState,
    VnfStatus,
    can_transition,
)
from nubo.model.tenancy import SYSTEM, Scope
from nubo.nfvo.operations import OpRunner, Prepare
from nubo.nfvo.planning import plan_nsr
from nubo.nfvo.recovery import recover_operations
from nubo.nfvo.vims import VimService
from nubo.nfvo.workflows import NsdLoader, NsWorkflows, find_vnfc_in
from nubo.store.port import NsRecordRepository, OperationRepository

log = logging.getLogger("nubo.nfvo")

#: refuses (``NotFound``/``Conflict``) an NSD that may not be instantiated (not onboarded,
#: disabled, or of a project the scope does not see)
NsdCheck = Callable[[str, Scope], Awaitable[None]]


async def _any_nsd(_nsd_id: str, _scope: Scope) -> None:
    return None


def _project_key(scope: Scope, key: str) -> str:
    """The stored form of a client's idempotency key: per project, and of bounded length."""
    return f"{scope.project_id}:{hashlib.sha256(key.encode()).hexdigest()}"


def require_status(nsr: NetworkServiceRecord, allowed: set[NsStatus], action: str) -> None:
    """Refuse an operation in a state that does not allow it."""
    if nsr.status not in allowed:
        raise Conflict(
            f"cannot {action} NS {nsr.id}: it is {nsr.status.value}, "
            f"expected {' or '.join(sorted(s.value for s in allowed))}",
            current_state=nsr.status.value,
        )


def template_from_body(body: dict[str, Any] | None) -> VnfcTemplate | None:
    """A VNFC template from a scale-out body (Open Baton VNFComponent), or None."""
    if not body:
        return None
    points = body.get("connection_point", [])
    if not isinstance(points, list):
        raise BadRequest("connection_point must be a list", field="connection_point")
    cps = []
    for index, cp in enumerate(points):
        link = cp.get("virtual_link_reference") if isinstance(cp, dict) else None
        if not isinstance(link, str) or not link:
            raise BadRequest(
                "virtual_link_reference is required",
                field=f"connection_point[{index}].virtual_link_reference",
            )
        cps.append(ConnectionPoint(virtual_link_reference=link))
    return VnfcTemplate(connection_points=tuple(cps)) if cps else None


class NsService:
    """NS operations: preconditions checked under the NS lock, then launched."""

    def __init__(
        self,
        nsrs: NsRecordRepository,
        ops: OperationRepository,
        runner: OpRunner,
        workflows: NsWorkflows,
        vims: VimService,
        load_nsd: NsdLoader,
        check_nsd: NsdCheck | None = None,
    ) -> None:
        self.nsrs = nsrs
        self.ops = ops
        self.runner = runner
        self.workflows = workflows
        self.vims = vims
        self.load_nsd = load_nsd
        self.check_nsd = check_nsd or _any_nsd
        self.events = runner.events

    def _reachable(self, prepare: Prepare) -> Prepare:
        """Every operation first fails fast when the NS's VIM is known to be down."""

        def checked(nsr: NetworkServiceRecord) -> None:
            self.vims.ensure_reachable(nsr.vim_id)
            prepare(nsr)

        return checked

    async def get(self, nsr_id: str, scope: Scope = SYSTEM) -> NetworkServiceRecord:
        return await self.nsrs.get_nsr(nsr_id, scope)

    async def list(
        self, include_terminated: bool = False, scope: Scope = SYSTEM
    ) -> list[NetworkServiceRecord]:
        return await self.nsrs.list_nsrs(include_terminated=include_terminated, scope=scope)

    async def vnfc_locations(
        self,
        *,
        vim_id: str | None = None,
        ns_statuses: Iterable[NsStatus] | None = None,
        states: Iterable[VnfcState] | None = None,
    ) -> builtins.list[VnfcLocation]:
        """The VNFCs of many NSs at once, from the store's index (no NSR is loaded)."""
        return await self.nsrs.vnfc_locations(vim_id=vim_id, ns_statuses=ns_statuses, states=states)

    async def statuses(self, nsr_ids: Iterable[str]) -> dict[str, NsStatus]:
        return await self.nsrs.ns_statuses(nsr_ids)

    async def revisions_by_nsd(self, ns_statuses: Iterable[NsStatus]) -> dict[str, dict[str, int]]:
        """NS ids and revisions by their NSD: loops pick the NSDs that concern them, then
        load those NSs whose revision differs from the copy they hold."""
        return await self.nsrs.nsr_revisions_by_nsd(ns_statuses)

    async def fingerprint(self, ns_statuses: Iterable[NsStatus]) -> tuple[int, int]:
        """Moves whenever an NS in ``ns_statuses`` is written, enters or leaves them:
        a loop holding copies reads again only when it moved."""
        return await self.nsrs.nsr_fingerprint(ns_statuses)

    async def get_many(self, nsr_ids: Iterable[str]) -> builtins.list[NetworkServiceRecord]:
        return await self.nsrs.nsrs_with_ids(nsr_ids)

    async def operations(
        self, nsr_id: str | None = None, scope: Scope = SYSTEM
    ) -> builtins.list[LcmOpOcc]:
        return await self.ops.list_ops(nsr_id, scope)

    async def operation(self, op_id: str, scope: Scope = SYSTEM) -> LcmOpOcc:
        return await self.ops.get_op(op_id, scope)

    async def instantiate(
        self,
        nsd_id: str,
        name: str | None = None,
        vim: str | None = None,
        idempotency_key: str | None = None,
        scope: Scope = SYSTEM,
    ) -> tuple[NetworkServiceRecord, LcmOpOcc]:
        """Deploy an NS in the scope's project; a retry with the same ``idempotency_key``
        gets the first answer.

        The key is stored in the transaction that creates the NSR, so a crash
        can never leave a deployment without its key (nor a key without one),
        and the same request sent to two replicas at once deploys once. Keys
        are per project: another project's key is another key.
        """
        if not idempotency_key:
            return await self._instantiate(nsd_id, name, vim, scope)
        request = f"instantiate nsd={nsd_id} name={name or ''} vim={vim or ''}"
        first = await self._first_answer(idempotency_key, request, scope)
        if first is not None:
            return first
        stored = (_project_key(scope, idempotency_key), request)
        try:
            return await self._instantiate(nsd_id, name, vim, scope, stored)
        except Conflict as exc:
            if exc.extra.get("field") != "Idempotency-Key":
                raise
            first = await self._first_answer(idempotency_key, request, scope)
            if first is None:
                raise
            return first

    async def _first_answer(
        self, key: str, request: str, scope: Scope
    ) -> tuple[NetworkServiceRecord, LcmOpOcc] | None:
        """What the first request with ``key`` got; ``Conflict`` if that was another request."""
        found = await self.ops.find_idempotency_key(_project_key(scope, key))
        if found is None:
            return None
        first_request, nsr_id, op_id = found
        if first_request != request:
            raise Conflict(
                f"Idempotency-Key {key!r} was used for another request ({first_request})",
                field="Idempotency-Key",
            )
        return await self.nsrs.get_nsr(nsr_id), await self.ops.get_op(op_id)

    async def _instantiate(
        self,
        nsd_id: str,
        name: str | None,
        vim: str | None,
        scope: Scope,
        idempotency: tuple[str, str] | None = None,
    ) -> tuple[NetworkServiceRecord, LcmOpOcc]:
        await self.check_nsd(nsd_id, scope)
        nsd = await self.load_nsd(nsd_id)
        project_id = scope.project_id
        registration = await self.vims.for_nsd(nsd, vim, project_id)
        nsr = plan_nsr(nsd_id, nsd, name or nsd.name, registration.id, project_id=project_id)
        op = await self.runner.launch(
            nsr.id,
            LcmOperationType.INSTANTIATE,
            prepare=self._reachable(lambda _nsr: None),
            work=self.workflows.instantiate,
            rollback=self.workflows.rollback_instantiate,
            on_failure=self.workflows.mark_error,
            params={"nsdId": nsd_id, "vimId": registration.id},
            new_nsr=nsr,
            idempotency=idempotency,
        )
        return nsr, op

    async def scale_out(
        self,
        nsr_id: str,
        vnfr_id: str,
        vdu_id: str,
        body: dict[str, Any] | None = None,
        *,
        hold_on_failure: bool = False,
        automatic: bool = False,
        scope: Scope = SYSTEM,
    ) -> LcmOpOcc:
        template = template_from_body(body)

        def prepare(nsr: NetworkServiceRecord) -> None:
            require_status(nsr, {NsStatus.ACTIVE}, "scale out")
            vnfr = nsr.find_vnfr(vnfr_id)
            vdu = vnfr.find_vdu(vdu_id)
            if len(vdu.live_vnfcs()) >= vdu.scale_in_out:
                raise Conflict(
                    f"VDU {vdu.name} of VNF {vnfr.name} already has {len(vdu.live_vnfcs())} "
                    f"VNFC instances, its maximum (scale_in_out = {vdu.scale_in_out})",
                    field="scale_in_out",
                )
            if template is not None:
                for cp in template.connection_points:
                    if cp.virtual_link_reference not in vnfr.virtual_links:
                        raise BadRequest(
                            f"VNF {vnfr.name} is not connected to virtual link "
                            f"{cp.virtual_link_reference!r}",
                            field="connection_point.virtual_link_reference",
                        )
            vnfr.set_status(VnfStatus.SCALING)
            nsr.set_status(NsStatus.SCALING)

        return await self.runner.launch(
            nsr_id,
            LcmOperationType.SCALE_OUT,
            self._reachable(prepare),
            work=lambda ctx: self.workflows.scale_out(ctx, vnfr_id, vdu_id, template),
            rollback=self.workflows.undo_scale_out,
            on_failure=self.workflows.mark_error,
            params={"vnfrId": vnfr_id, "vduId": vdu_id},
            hold_on_failure=hold_on_failure,
            automatic=automatic,
            scope=scope,
        )

    async def scale_in(
        self,
        nsr_id: str,
        vnfr_id: str,
        vdu_id: str,
        vnfc_id: str | None = None,
        *,
        hold_on_failure: bool = False,
        automatic: bool = False,
        scope: Scope = SYSTEM,
    ) -> LcmOpOcc:
        chosen: dict[str, str] = {}

        def prepare(nsr: NetworkServiceRecord) -> None:
            require_status(nsr, {NsStatus.ACTIVE}, "scale in")
            vnfr = nsr.find_vnfr(vnfr_id)
            vdu = vnfr.find_vdu(vdu_id)
            live = vdu.live_vnfcs()
            if len(live) <= 1 and vdu.min_instances >= 1:
                raise Conflict(
                    f"VDU {vdu.name} of VNF {vnfr.name} has a single VNFC instance; "
                    "scale in never removes the last one (terminate the NS instead)"
                )
            if len(live) <= vdu.min_instances:
                raise Conflict(
                    f"VDU {vdu.name} of VNF {vnfr.name} has {len(live)} VNFC instance(s), "
                    f"its minimum (min_number_of_instances = {vdu.min_instances})",
                    field="min_number_of_instances",
                )
            vnfc = find_vnfc_in(nsr, vnfr_id, vdu_id, vnfc_id) if vnfc_id else live[-1]
            chosen["id"] = vnfc.id
            vnfr.set_status(VnfStatus.SCALING)
            nsr.set_status(NsStatus.SCALING)

        return await self.runner.launch(
            nsr_id,
            LcmOperationType.SCALE_IN,
            self._reachable(prepare),
            work=lambda ctx: self.workflows.scale_in(ctx, vnfr_id, chosen["id"]),
            on_failure=self.workflows.mark_error,
            params={"vnfrId": vnfr_id, "vduId": vdu_id, "vnfcInstanceId": vnfc_id},
            hold_on_failure=hold_on_failure,
            automatic=automatic,
            scope=scope,
        )

    async def start_vnfc(
        self, nsr_id: str, vnfr_id: str, vdu_id: str, vnfc_id: str, scope: Scope = SYSTEM
    ) -> LcmOpOcc:
        startable = {VnfcState.EXITED, VnfcState.FAILED, VnfcState.CREATED}
        return await self._vnfc_operation(
            LcmOperationType.START_VNFC, nsr_id, vnfr_id, vdu_id, vnfc_id, startable, scope
        )

    async def stop_vnfc(
        self, nsr_id: str, vnfr_id: str, vdu_id: str, vnfc_id: str, scope: Scope = SYSTEM
    ) -> LcmOpOcc:
        running = {VnfcState.RUNNING}
        return await self._vnfc_operation(
            LcmOperationType.STOP_VNFC, nsr_id, vnfr_id, vdu_id, vnfc_id, running, scope
        )

    async def _vnfc_operation(
        self,
        operation: LcmOperationType,
        nsr_id: str,
        vnfr_id: str,
        vdu_id: str,
        vnfc_id: str,
        allowed: set[VnfcState],
        scope: Scope,
    ) -> LcmOpOcc:
        """Start or stop one VNFC, when the NS and the VNFC are in a state that allows it."""
        verb = "start" if operation == LcmOperationType.START_VNFC else "stop"

        def prepare(nsr: NetworkServiceRecord) -> None:
            require_status(nsr, {NsStatus.ACTIVE, NsStatus.ERROR}, f"{verb} a VNFC of")
            vnfc = find_vnfc_in(nsr, vnfr_id, vdu_id, vnfc_id)
            if vnfc.state not in allowed:
                raise Conflict(
                    f"cannot {verb} VNFC {vnfc.hostname}: it is {vnfc.state.value}",
                    current_state=vnfc.state.value,
                )

        work = self.workflows.start_vnfc if verb == "start" else self.workflows.stop_vnfc
        return await self.runner.launch(
            nsr_id,
            operation,
            self._reachable(prepare),
            work=lambda ctx: work(ctx, vnfc_id),
            params={"vnfrId": vnfr_id, "vduId": vdu_id, "vnfcInstanceId": vnfc_id},
            scope=scope,
        )

    async def heal(
        self,
        nsr_id: str,
        vnfc_id: str,
        cause: str = "",
        *,
        hold_on_failure: bool = False,
        automatic: bool = False,
        scope: Scope = SYSTEM,
    ) -> LcmOpOcc:
        """Heal one VNFC: restart it in place, else re-create it with the same address."""

        def prepare(nsr: NetworkServiceRecord) -> None:
            require_status(nsr, {NsStatus.ACTIVE, NsStatus.ERROR}, "heal")
            _, _, vnfc = nsr.find_vnfc(vnfc_id)
            if vnfc.state == VnfcState.DELETED:
                raise Conflict(f"VNFC {vnfc.hostname} was removed; nothing to heal")

        return await self.runner.launch(
            nsr_id,
            LcmOperationType.HEAL,
            self._reachable(prepare),
            work=lambda ctx: self.workflows.heal_vnfc(ctx, vnfc_id),
            on_failure=self.workflows.mark_error,
            params={"vnfcInstanceId": vnfc_id, "cause": cause},
            hold_on_failure=hold_on_failure,
            automatic=automatic,
            scope=scope,
        )

    async def record_vim_restart(
        self,
        nsr_id: str,
        vnfc_id: str,
        *,
        cause: str,
        detail: str,
        restart_count: int,
        died_at: datetime,
        nsr: NetworkServiceRecord | None = None,
    ) -> LcmOpOcc:
        """The VIM restarted a VNFC by itself (its restart policy): a HEAL occurrence.

        Without HEAL scripts in its VNFD there is nothing left to do: the
        occurrence is recorded COMPLETED at once (``OpRunner.record``), the
        VNFC RUNNING, its VNF and NS ACTIVE again when all their VNFCs run.
        With HEAL scripts a HEAL operation runs them (it finds the VNFC running
        and restarts nothing). ``Busy`` when an operation holds the NS,
        ``Conflict`` when the VNFC is no longer down in the record. ``nsr``: the
        caller's copy, enough to tell the VNF (the record is read again under
        the NS's lease).
        """
        if nsr is None:
            nsr = await self.nsrs.get_nsr(nsr_id)
        vnfr, _, _ = nsr.find_vnfc(vnfc_id)
        nsd = await self.workflows.load_nsd(nsr.descriptor_reference, nsr.ns_flavour_id)
        if nsd.vnfd(vnfr.name).scripts_for(LifecycleEventType.HEAL):
            return await self.heal(nsr_id, vnfc_id, cause=cause, automatic=True)

        def apply(nsr: NetworkServiceRecord) -> None:
            vnfr, _, vnfc = nsr.find_vnfc(vnfc_id)
            if vnfc.state not in (VnfcState.FAILED, VnfcState.EXITED):
                raise Conflict(
                    f"VNFC {vnfc.hostname} is {vnfc.state.value}: no restart to record",
                    current_state=vnfc.state.value,
                )
            vnfc.set_state(VnfcState.RUNNING)
            if vnfr.status != VnfStatus.ACTIVE and all(
                c.state == VnfcState.RUNNING for c in vnfr.vnfcs()
            ):
                vnfr.set_status(VnfStatus.ACTIVE)
            if nsr.status == NsStatus.ERROR and all(
                c.state == VnfcState.RUNNING for c in nsr.all_vnfcs()
            ):
                nsr.set_status(NsStatus.ACTIVE)

        step = StepRecord(
            name="restarted by the VIM",
            started_at=died_at,
            detail=f"{detail}; restart {restart_count} of the VIM's restart policy"
            if restart_count
            else detail,
        )
        step.finish(StepStatus.DONE)
        params = {
            "vnfcInstanceId": vnfc_id,
            "cause": cause,
            "restartedBy": "VIM",
            "restartCount": restart_count,
        }
        return await self.runner.record(
            nsr_id, LcmOperationType.HEAL, apply, step, params, automatic=True, started_at=died_at
        )

    async def observe_vnfc(self, nsr_id: str, vnfc_id: str, state: VnfcState) -> bool:
        """Record a VNFC state seen on the VIM, unless an operation holds the NS.

        Returns False when the NS is busy (the running operation owns the
        record) or the change is not a legal transition; the caller retries on
        its next pass.
        """
        token = "observe-" + vnfc_id
        try:
            await self.runner.locks.acquire(nsr_id, token)
        except Busy:
            return False
        try:
            nsr = await self.nsrs.get_nsr(nsr_id)
            _, _, vnfc = nsr.find_vnfc(vnfc_id)
            if vnfc.state == state:
                return True
            if not can_transition(VNFC_TRANSITIONS, vnfc.state, state):
                return False
            vnfc.set_state(state)
            await self.nsrs.save_nsr(nsr)
            return True
        finally:
            await self.runner.locks.release(nsr_id, token)

    async def recover(self) -> builtins.list[LcmOpOcc]:
        """Start-up: finish, roll back or hold every operation a stopped orchestrator left."""
        return await recover_operations(self.ops, self.runner, self.workflows)

    async def terminate(
        self, nsr_id: str, *, hold_on_failure: bool = False, scope: Scope = SYSTEM
    ) -> LcmOpOcc:
        def prepare(nsr: NetworkServiceRecord) -> None:
            require_status(
                nsr,
                {NsStatus.ACTIVE, NsStatus.ERROR, NsStatus.INITIALIZED, NsStatus.SCALING},
                "terminate",
            )
            nsr.set_status(NsStatus.TERMINATING)

        return await self.runner.launch(
            nsr_id,
            LcmOperationType.TERMINATE,
            self._reachable(prepare),
            work=self.workflows.terminate,
            on_failure=self.workflows.mark_error,
            hold_on_failure=hold_on_failure,
            scope=scope,
        )
