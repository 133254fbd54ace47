"""SOL005 NS instances: create, instantiate, delete, and the tasks on held operations.

An NS instance identifier exists before its NS is instantiated
(NOT_INSTANTIATED) and after it is terminated; operations launched here
hold on failure in FAILED_TEMP (``OpRunner``) until their client retries,
rolls back or fails them. Everything else (scale, heal, terminate) is
``NsService``'s, with ``hold_on_failure`` set by the SOL005 routes.
"""

from __future__ import annotations

import logging

from nubo.model.errors import BadRequest, Conflict
from nubo.model.ids import new_id
from nubo.model.records import LcmOpOcc, NetworkServiceRecord
from nubo.model.states import LcmOperationType, NsStatus, OpState
from nubo.model.tenancy import SYSTEM, Scope, in_project
from nubo.nfvo.planning import plan_nsr
from nubo.nfvo.recovery import recovery_plan
from nubo.nfvo.service import NsService, require_status

log = logging.getLogger("nubo.nfvo")

#: states in which an NS instance is NOT_INSTANTIATED in SOL005's terms
NOT_INSTANTIATED = frozenset({NsStatus.NOT_INSTANTIATED, NsStatus.TERMINATED})


class NsInstances:
    """SOL005's NS instance lifecycle over ``NsService``."""

    def __init__(self, ns: NsService) -> None:
        self.ns = ns

    async def create_instance(
        self, nsd_id: str, name: str, description: str = "", scope: Scope = SYSTEM
    ) -> NetworkServiceRecord:
        """A NOT_INSTANTIATED NS instance, in the scope's project, of an onboarded, enabled
        NSD the scope sees."""
        await self.ns.check_nsd(nsd_id, scope)
        nsd = await self.ns.load_nsd(nsd_id)
        nsr = NetworkServiceRecord(
            id=new_id(),
            project_id=scope.project_id,
            name=name or nsd.name,
            description=description,
            descriptor_reference=nsd_id,
            vendor=nsd.vendor,
            version=nsd.version,
            status=NsStatus.NOT_INSTANTIATED,
        )
        await self.ns.nsrs.save_nsr(nsr)
        self.ns.events.publish(
            "NsIdentifierCreationNotification", project_id=nsr.project_id, nsInstanceId=nsr.id
        )
        log.info("ns.created ns=%s nsd=%s", nsr.id, nsd_id)
        return nsr

    async def instantiate_instance(
        self,
        nsr_id: str,
        vim: str | None = None,
        flavour: str | None = None,
        scope: Scope = SYSTEM,
    ) -> LcmOpOcc:
        """Instantiate a NOT_INSTANTIATED NS instance on a VIM of its project; failures wait
        in FAILED_TEMP.

        ``flavour`` (SOL005 ``nsFlavourId``) is one of the NSD's NS deployment
        flavours; ``default`` names its default one, as clients that know no
        flavour send.
        """
        current = await self.ns.nsrs.get_nsr(nsr_id, scope)
        require_status(current, set(NOT_INSTANTIATED), "instantiate")
        nsd_id = current.descriptor_reference
        own = in_project(current.project_id)
        await self.ns.check_nsd(nsd_id, own)
        nsd = await self.ns.load_nsd(nsd_id)
        offered = nsd.flavours or (nsd.flavour_id,)
        if flavour is not None and flavour not in (*offered, "default"):
            if len(offered) > 1:
                choice = "one of " + ", ".join(repr(f) for f in offered)
            else:
                choice = f"{offered[0]!r} (the flavour_id of its NS node, its only flavour)"
            raise BadRequest(
                f"NSD {nsd.name} has no NS deployment flavour {flavour!r}: send nsFlavourId "
                f"{choice}; each VNF's own flavour is the flavour_id of its VNF node",
                field="nsFlavourId",
                nsFlavourIds=list(offered),
            )
        if flavour not in (None, "default", nsd.flavour_id):
            nsd = await self.ns.load_nsd(nsd_id, flavour)
        registration = await self.ns.vims.for_nsd(nsd, vim, current.project_id)
        plan = plan_nsr(
            nsd_id,
            nsd,
            current.name,
            registration.id,
            nsr_id=nsr_id,
            project_id=current.project_id,
        )

        def prepare(nsr: NetworkServiceRecord) -> None:
            require_status(nsr, set(NOT_INSTANTIATED), "instantiate")
            self.ns.vims.ensure_reachable(registration.id)
            nsr.set_status(NsStatus.INITIALIZED)
            nsr.vim_id = registration.id
            nsr.vendor, nsr.version = plan.vendor, plan.version
            nsr.vnfr, nsr.vlr = plan.vnfr, plan.vlr
            nsr.ns_flavour_id = nsd.flavour_id

        return await self.ns.runner.launch(
            nsr_id,
            LcmOperationType.INSTANTIATE,
            prepare,
            work=self.ns.workflows.instantiate,
            rollback=self.ns.workflows.rollback_instance,
            on_failure=self.ns.workflows.mark_error,
            params={"nsdId": nsd_id, "vimId": registration.id, "nsFlavourId": nsd.flavour_id},
            hold_on_failure=True,
            scope=scope,
        )

    async def delete_instance(self, nsr_id: str, scope: Scope = SYSTEM) -> None:
        """Delete a NOT_INSTANTIATED NS instance (SOL005 ``DELETE /ns_instances/{id}``)."""
        await self.ns.nsrs.get_nsr(nsr_id, scope)  # another project's: not found, not locked
        token = "delete-" + nsr_id
        await self.ns.runner.locks.acquire(nsr_id, token)
        try:
            nsr = await self.ns.nsrs.get_nsr(nsr_id)
            if nsr.status not in NOT_INSTANTIATED:
                raise Conflict(
                    f"NS instance {nsr_id} is instantiated ({nsr.status.value}); "
                    "terminate it before deleting it",
                    current_state=nsr.status.value,
                )
            await self.ns.nsrs.delete_nsr(nsr_id)
        finally:
            await self.ns.runner.locks.release(nsr_id, token)
        self.ns.events.publish(
            "NsIdentifierDeletionNotification", project_id=nsr.project_id, nsInstanceId=nsr_id
        )
        log.info("ns.deleted ns=%s", nsr_id)

    async def _held(self, op_id: str, task: str, scope: Scope) -> LcmOpOcc:
        op = await self.ns.ops.get_op(op_id, scope)
        if op.state != OpState.FAILED_TEMP:
            raise Conflict(
                f"cannot {task} operation {op_id}: it is {op.state.value}, expected FAILED_TEMP",
                current_state=op.state.value,
            )
        return op

    async def retry(self, op_id: str, scope: Scope = SYSTEM) -> LcmOpOcc:
        """Run a FAILED_TEMP operation again; its steps skip what was already done."""
        op = await self._held(op_id, "retry", scope)
        work, rollback, on_failure = recovery_plan(self.ns.workflows, op)
        return await self.ns.runner.resume(op, work, rollback, on_failure, roll_back=False)

    async def rollback(self, op_id: str, scope: Scope = SYSTEM) -> LcmOpOcc:
        """Undo a FAILED_TEMP operation (INSTANTIATE and SCALE_OUT can be undone)."""
        op = await self._held(op_id, "roll back", scope)
        work, rollback, on_failure = recovery_plan(self.ns.workflows, op)
        if rollback is None:
            raise Conflict(
                f"a {op.operation.value} operation cannot be rolled back; retry it or fail it",
                operation=op.operation.value,
            )
        return await self.ns.runner.resume(op, work, rollback, on_failure, roll_back=True)

    async def fail(self, op_id: str, scope: Scope = SYSTEM) -> LcmOpOcc:
        """Give a FAILED_TEMP operation up: FAILED, and its NS shows ERROR."""
        op = await self._held(op_id, "fail", scope)
        _, _, on_failure = recovery_plan(self.ns.workflows, op)
        return await self.ns.runner.fail(op, on_failure)

    async def cancel(self, op_id: str, scope: Scope = SYSTEM) -> LcmOpOcc:
        """Stop a running operation; it waits in FAILED_TEMP afterwards."""
        await self.ns.ops.get_op(op_id, scope)  # another project's: not found
        return await self.ns.runner.cancel(op_id)
