"""What happens to operations a stopped orchestrator left, and how a held one resumes.

At start-up every unfinished occurrence is taken over by a fixed rule per
operation (``recover_operations``; the README has the table). An occurrence
started through SOL005 instead waits in FAILED_TEMP for its client's
``retry``, ``rollback`` or ``fail``; ``recovery_plan`` names the work,
rollback and failure handling those tasks run again.
"""

from __future__ import annotations

import logging
from functools import partial

from nubo.model.errors import Busy, Conflict, NotFound
from nubo.model.records import LcmOpOcc
from nubo.model.states import LcmOperationType, OpState, StepStatus
from nubo.nfvo.operations import OpRunner, Rollback, Work
from nubo.nfvo.workflows import NsWorkflows
from nubo.store.port import OperationRepository

log = logging.getLogger("nubo.nfvo")


async def recover_operations(
    ops: OperationRepository, runner: OpRunner, workflows: NsWorkflows
) -> list[LcmOpOcc]:
    """Finish every operation a stopped orchestrator (or a dead replica) left.

    Every operation is run again (documented in the README): its steps skip
    what was done, and the reservations the VIM lost with the process are
    made again with the addresses the records keep (INSTANTIATE, SCALE_OUT),
    so a resumed instantiation ends as the uninterrupted one would have. If
    the resumed run fails, it fails as the first run would have (rolled back
    where the operation has a rollback). An operation started through SOL005
    waits in FAILED_TEMP for its client instead. One held by another live
    replica (its lease is renewed) is left to that replica; run periodically,
    this takes over the operations of a replica that died once their leases
    expire.
    """
    recovered = []
    unfinished = [
        op
        for op in await ops.unfinished_ops()
        # FAILED_TEMP waits for a retry, rollback or fail task
        if op.id not in runner.running() and op.state != OpState.FAILED_TEMP
    ]
    # a live lease means the replica that runs the operation is alive: leave it be
    alive = await runner.locks.holders({op.nsr_id for op in unfinished})
    for op in unfinished:
        if op.nsr_id in alive:
            continue
        try:
            if op.hold_on_failure and op.state == OpState.PROCESSING:
                await _hold_interrupted(ops, runner, op)
                continue
            work, rollback, on_failure = recovery_plan(workflows, op)
            op = await runner.resume(op, work, rollback, on_failure, roll_back=False)
        except Busy:
            # another replica holds the NS: the operation is alive there
            log.info("op.resume_skipped op=%s reason=running elsewhere", op.id)
            continue
        except Conflict:
            log.info("op.resume_skipped op=%s reason=changed meanwhile", op.id)
            continue
        except NotFound:
            log.warning("op.resume_skipped op=%s reason=NSR gone", op.id)
            continue
        recovered.append(op)
    return recovered


def recovery_plan(
    workflows: NsWorkflows, op: LcmOpOcc
) -> tuple[Work, Rollback | None, Rollback | None]:
    """(work, rollback, on_failure) of an occurrence to run again or undo."""
    wf = workflows
    vnfr_id, vdu_id, vnfc_id = (
        str(op.params.get(name) or "") for name in ("vnfrId", "vduId", "vnfcInstanceId")
    )
    match op.operation:
        case LcmOperationType.INSTANTIATE if op.hold_on_failure:
            return wf.instantiate, wf.rollback_instance, wf.mark_error
        case LcmOperationType.INSTANTIATE:
            return wf.instantiate, wf.rollback_instantiate, wf.mark_error
        case LcmOperationType.SCALE_OUT:
            work = partial(wf.scale_out, vnfr_id=vnfr_id, vdu_id=vdu_id, template=None)
            return work, wf.undo_scale_out, wf.mark_error
        case LcmOperationType.SCALE_IN:
            work = partial(wf.scale_in, vnfr_id=vnfr_id, vnfc_id=vnfc_id, vdu_id=vdu_id)
            return work, None, wf.mark_error
        case LcmOperationType.START_VNFC:
            return partial(wf.start_vnfc, vnfc_id=vnfc_id), None, None
        case LcmOperationType.STOP_VNFC:
            return partial(wf.stop_vnfc, vnfc_id=vnfc_id), None, None
        case LcmOperationType.HEAL:
            return partial(wf.heal_vnfc, vnfc_id=vnfc_id), None, wf.mark_error
        case _:
            return wf.terminate, None, wf.mark_error


async def _hold_interrupted(ops: OperationRepository, runner: OpRunner, op: LcmOpOcc) -> None:
    """An interrupted SOL005 operation waits in FAILED_TEMP for its client to decide."""
    await runner.locks.acquire(op.nsr_id, op.id)
    try:
        op = await ops.get_op(op.id)
        if op.state == OpState.PROCESSING:
            await _hold(runner, op)
    finally:
        await runner.locks.release(op.nsr_id, op.id)


async def _hold(runner: OpRunner, op: LcmOpOcc) -> None:
    step = next((s.name for s in reversed(op.steps) if s.status != StepStatus.DONE), "")
    op.error = {
        "title": "Interrupted",
        "status": 503,
        "code": "INTERRUPTED",
        "detail": f"the orchestrator stopped during {op.operation.value}"
        + (f" (step {step})" if step else "")
        + "; retry, roll back or fail the operation",
        "step": step,
    }
    op.set_state(OpState.FAILED_TEMP)
    await runner.save_op(op)
    log.warning("op.held_after_restart ns=%s op=%s step=%s", op.nsr_id, op.id, step)
