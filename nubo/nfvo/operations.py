"""LCM operation occurrences: a long operation is a persisted resource.

``OpRunner.launch`` takes the NS's lease (409 when another operation holds it,
on any replica), persists the occurrence, and hands the work to a background
task. The work is a sequence of named steps; each step's start and end are
persisted together with the NSR in one transaction, so the occurrence always
shows how far the operation got and a restarted orchestrator knows where it
stopped. A failure is written on the occurrence
with its cause; when the operation defines a rollback it runs, and the
occurrence ends ROLLED_BACK (or FAILED if the rollback also failed).

An occurrence launched with ``hold_on_failure`` (the SOL005 interface)
instead stops in FAILED_TEMP and waits for a ``retry``, ``rollback`` or
``fail`` task; while one waits, no other operation may start on its NS. A
running occurrence can be cancelled, which also leaves it in FAILED_TEMP.
Every change of an occurrence's state is published on the event bus.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from nubo.model.errors import Conflict, ErrorInfo, NotFound, VimTimeout
from nubo.model.ids import new_id
from nubo.model.records import LcmOpOcc, NetworkServiceRecord, StepRecord, utcnow
from nubo.model.states import (
    FINAL_OP_STATES,
    SOL005_OPERATION,
    LcmOperationType,
    OpState,
    StepStatus,
)
from nubo.model.tenancy import SYSTEM, Scope
from nubo.nfvo.events import EventBus
from nubo.nfvo.tasks import cancel_and_wait
from nubo.store.port import NsLeases, NsRecordRepository, OperationRepository

log = logging.getLogger("nubo.nfvo")

#: seconds between two looks at the cancel requests other replicas put on our leases
CANCEL_POLL = 1.0
#: seconds a cancel request waits for the occurrence to stop
CANCEL_WAIT = 30.0

#: called at every step boundary with (operation, "before:<step>" | "after:<step>");
#: tests use it to inject faults at precise points of a workflow
FaultHook = Callable[[str, str], Awaitable[None]]


class OperationContext:
    """What a running workflow uses to record its progress."""

    def __init__(self, runner: OpRunner, op: LcmOpOcc, nsr: NetworkServiceRecord) -> None:
        self.runner = runner
        self.op = op
        self.nsr = nsr
        self.current_step = ""

    async def save(self) -> None:
        """Persist the NSR and the occurrence together (one transaction), then tell.

        Once the occurrence has ended (or waits in FAILED_TEMP) its lease goes
        in the same transaction, so the NS is free the moment anyone sees it so.
        """
        self.nsr.updated_at = utcnow()
        ended = self.op.state not in (OpState.PROCESSING, OpState.ROLLING_BACK)
        await self.runner.ops.save_progress(self.nsr, self.op, release=ended)
        self.runner.publish(self.op)

    @asynccontextmanager
    async def step(
        self, name: str, detail: str = "", *, pure: bool = False
    ) -> AsyncIterator[StepRecord]:
        """Record the step, run its body, mark it DONE (or FAILED).

        The step is persisted as it starts (with the end of the one before),
        unless it is ``pure`` (it changes nothing outside the record: a check,
        a computation), which is persisted with whatever is saved next. Its end
        is persisted with the next save too: every step is idempotent and its
        body saves what it did on the VIM right after doing it, so a crash
        before that save only repeats the step, which finds its work done.
        One write per step instead of two halves what a deployment costs the
        database.
        """
        record = StepRecord(name=name, detail=detail)
        self.op.steps.append(record)
        self.current_step = name
        if not pure:
            await self.save()
        await self.runner.fault(self.op.operation, f"before:{name}")
        log.info("step.start ns=%s op=%s step=%s", self.nsr.id, self.op.id, name)
        try:
            yield record
        except BaseException:
            record.finish(StepStatus.FAILED)
            raise
        record.finish(StepStatus.DONE)
        log.info("step.done ns=%s op=%s step=%s", self.nsr.id, self.op.id, name)
        await self.runner.fault(self.op.operation, f"after:{name}")


Work = Callable[[OperationContext], Awaitable[None]]
Rollback = Callable[[OperationContext], Awaitable[None]]
Prepare = Callable[[NetworkServiceRecord], None]


class OpRunner:
    """Runs LCM operations in the background, one per NS at a time."""

    def __init__(
        self,
        nsrs: NsRecordRepository,
        ops: OperationRepository,
        locks: NsLeases,
        op_timeout: float = 600.0,
        fault_hook: FaultHook | None = None,
        events: EventBus | None = None,
    ) -> None:
        self.nsrs = nsrs
        self.ops = ops
        self.locks = locks
        self.op_timeout = op_timeout
        self.events = events or EventBus()
        self._fault_hook = fault_hook
        self._tasks: dict[str, asyncio.Task[None]] = {}
        # the state last published per occurrence, so each change is told once
        self._published: dict[str, OpState] = {}
        # occurrences whose task was cancelled on request (not by a shutdown)
        self._cancelled: set[str] = set()
        self._renewer: asyncio.Task[None] | None = None

    async def save_op(self, op: LcmOpOcc) -> None:
        """Persist the occurrence; publish its state when it changed."""
        await self.ops.save_op(op)
        self.publish(op)

    def publish(self, op: LcmOpOcc) -> None:
        """Tell the event bus the occurrence's state, once per change."""
        if self._published.get(op.id) == op.state:
            return
        self._published[op.id] = op.state
        if op.state in FINAL_OP_STATES:
            self._published.pop(op.id, None)
        final = op.state not in (OpState.PROCESSING, OpState.ROLLING_BACK)
        body: dict[str, Any] = {
            "nsInstanceId": op.nsr_id,
            "nsLcmOpOccId": op.id,
            "operation": SOL005_OPERATION[op.operation],
            "nuboOperation": op.operation.value,
            "notificationStatus": "RESULT" if final else "START",
            "operationState": op.state.value,
            "isAutomaticInvocation": op.automatic,
        }
        if final and op.error:
            body["error"] = op.error
        self.events.publish(
            "NsLcmOperationOccurrenceNotification", project_id=op.project_id, **body
        )

    async def _refuse_when_held(self, nsr_id: str) -> None:
        """SOL005: while an occurrence waits in FAILED_TEMP, its NS takes no other operation."""
        held = await self.ops.held_op(nsr_id)
        if held is not None:
            raise Conflict(
                f"operation {held.id} ({held.operation.value}) of NS {nsr_id} is FAILED_TEMP; "
                "retry it, roll it back or fail it first",
                busy_operation=held.id,
                current_state=held.state.value,
            )

    async def fault(self, operation: str, point: str) -> None:
        if self._fault_hook is not None:
            await self._fault_hook(operation, point)

    async def launch(
        self,
        nsr_id: str,
        operation: LcmOperationType,
        prepare: Prepare,
        work: Work,
        rollback: Rollback | None = None,
        params: dict[str, Any] | None = None,
        on_failure: Rollback | None = None,
        new_nsr: NetworkServiceRecord | None = None,
        hold_on_failure: bool = False,
        automatic: bool = False,
        idempotency: tuple[str, str] | None = None,
        scope: Scope = SYSTEM,
    ) -> LcmOpOcc:
        """Lock the NS, check and prepare its record, persist a new occurrence, run ``work``.

        The lease is taken before the NSR is read, so ``prepare`` always sees the
        state the previous operation left; when ``prepare`` refuses (raises),
        nothing is persisted and the lease is released. A ``new_nsr`` is stored
        with the occurrence and the ``(key, request)`` of ``idempotency`` in
        one transaction. An NS of a project ``scope`` does not see is not found,
        before its lease is asked for (whether it is busy does not show either);
        the occurrence belongs to the NS's project.
        """
        op_id = new_id()
        if new_nsr is None and scope.visible is not None:
            await self.nsrs.get_nsr(nsr_id, scope)
        await self.locks.acquire(nsr_id, op_id)
        try:
            if new_nsr is None:
                await self._refuse_when_held(nsr_id)
            nsr = new_nsr if new_nsr is not None else await self.nsrs.get_nsr(nsr_id)
            op = LcmOpOcc(
                id=op_id,
                nsr_id=nsr_id,
                project_id=nsr.project_id,
                operation=operation,
                params=params or {},
                hold_on_failure=hold_on_failure,
                automatic=automatic,
            )
            prepare(nsr)
            if new_nsr is not None:
                await self.ops.create_ns_operation(nsr, op, idempotency)
            else:
                await self.ops.save_progress(nsr, op)
            self.publish(op)
        except BaseException:
            await self._release(nsr_id, op_id)
            raise
        self._spawn(op, self._run(OperationContext(self, op, nsr), work, rollback, on_failure))
        log.info("op.accepted ns=%s op=%s operation=%s", nsr_id, op.id, operation.value)
        return op

    async def record(
        self,
        nsr_id: str,
        operation: LcmOperationType,
        apply: Prepare,
        step: StepRecord,
        params: dict[str, Any] | None = None,
        automatic: bool = False,
        started_at: datetime | None = None,
    ) -> LcmOpOcc:
        """Record an operation the VIM already carried out: COMPLETED at once.

        Under the NS's lease (``Busy`` when an operation holds it), ``apply``
        brings the record up to date (it raises to refuse, and nothing is
        stored); the NSR and the occurrence, with its one ``step``, are written
        and the lease released in one transaction, so recording costs a lease
        and one write, not an operation's task and its saves. An occurrence
        waiting in FAILED_TEMP does not stop it: what is recorded has happened.
        """
        op_id = new_id()
        await self.locks.acquire(nsr_id, op_id)
        try:
            nsr = await self.nsrs.get_nsr(nsr_id)
            op = LcmOpOcc(
                id=op_id,
                nsr_id=nsr_id,
                project_id=nsr.project_id,
                operation=operation,
                params=params or {},
                automatic=automatic,
                steps=[step],
                start_time=started_at or utcnow(),
            )
            apply(nsr)
            self.publish(op)  # START, as for any occurrence
            op.set_state(OpState.COMPLETED)
            nsr.updated_at = utcnow()
            await self.ops.save_progress(nsr, op, release=True)
        except BaseException:
            await self._release(nsr_id, op_id)
            raise
        self.publish(op)
        log.info("op.recorded ns=%s op=%s operation=%s", nsr_id, op.id, operation.value)
        return op

    def _spawn(self, op: LcmOpOcc, body: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(body, name=f"op-{op.id}")
        self._tasks[op.id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(op.id, None))

    async def resume(
        self,
        op: LcmOpOcc,
        work: Work,
        rollback: Rollback | None,
        on_failure: Rollback | None,
        roll_back: bool,
    ) -> LcmOpOcc:
        """Take over an occurrence a stopped orchestrator left unfinished (or a held one).

        With ``roll_back`` (or when it was already rolling back) the rollback
        runs and the occurrence ends ROLLED_BACK; otherwise the work runs again
        from the start, its steps skipping what was already done. The
        occurrence is read again under the lease and must still be in the
        state the caller saw (``Conflict`` otherwise): two tasks on one
        occurrence, from two clients or two replicas, never both run.
        """
        seen = op.state
        await self.locks.acquire(op.nsr_id, op.id)
        try:
            op = await self.ops.get_op(op.id)
            if op.state != seen:
                raise Conflict(
                    f"operation {op.id} is {op.state.value} now (it was {seen.value}); "
                    "look at it again",
                    current_state=op.state.value,
                )
            nsr = await self.nsrs.get_nsr(op.nsr_id)
        except BaseException:
            await self._release(op.nsr_id, op.id)
            raise
        ctx = OperationContext(self, op, nsr)
        interrupted = next((s.name for s in reversed(op.steps) if s.status != StepStatus.DONE), "")
        if interrupted:
            where = f"during step {interrupted}"
        elif op.steps:
            where = f"after step {op.steps[-1].name}"
        else:
            where = "before its first step"
        log.warning(
            "op.resume ns=%s op=%s operation=%s interrupted=%r action=%s",
            op.nsr_id,
            op.id,
            op.operation.value,
            where,
            "rollback" if roll_back else "complete",
        )
        if roll_back or op.state == OpState.ROLLING_BACK:
            op.error = op.error or {
                "title": "Interrupted",
                "status": 503,
                "code": "INTERRUPTED",
                "detail": f"the orchestrator stopped {where}; "
                "the operation was rolled back when it started again",
                "step": interrupted,
            }
            if rollback is not None:
                op.set_state(OpState.ROLLING_BACK)
            await self._save_or_release(op)
            self._spawn(op, self._recover_by_rollback(ctx, rollback, on_failure))
            return op
        if op.state == OpState.FAILED_TEMP:
            op.set_state(OpState.PROCESSING)
        else:  # interrupted: say so in its progress, then carry on
            op.steps.append(
                StepRecord(
                    name="resume",
                    status=StepStatus.DONE,
                    finished_at=utcnow(),
                    detail=f"the orchestrator stopped {where}; replica {self.locks.owner} "
                    "runs the operation again, skipping what was done",
                )
            )
        op.error = None
        # persisted before the answer, so a client polling right after sees it running
        await self._save_or_release(op)
        self._spawn(op, self._run(ctx, work, rollback, on_failure))
        return op

    async def _save_or_release(self, op: LcmOpOcc) -> None:
        try:
            await self.save_op(op)
        except BaseException:
            await self._release(op.nsr_id, op.id)
            raise

    async def _release(self, nsr_id: str, holder: str) -> None:
        """Give the lease back; one a shutdown interrupts is dropped by ``shutdown``."""
        try:
            await self.locks.release(nsr_id, holder)
        except Exception:
            # the lease expires by itself once this replica stops renewing it
            log.exception("lease.release_failed ns=%s holder=%s", nsr_id, holder)

    async def _recover_by_rollback(
        self, ctx: OperationContext, rollback: Rollback | None, on_failure: Rollback | None
    ) -> None:
        try:
            await self._after_failure(ctx, rollback, on_failure)
        finally:
            await self._release(ctx.op.nsr_id, ctx.op.id)

    async def _run(
        self,
        ctx: OperationContext,
        work: Work,
        rollback: Rollback | None,
        on_failure: Rollback | None,
    ) -> None:
        op = ctx.op
        try:
            try:
                await asyncio.wait_for(work(ctx), timeout=self.op_timeout)
            except TimeoutError as exc:
                raise VimTimeout(
                    f"{op.operation.value} did not finish within {self.op_timeout:.0f} s "
                    f"(step {ctx.current_step or 'none'})"
                ) from exc
        except asyncio.CancelledError:
            if op.id in self._cancelled:
                await self._hold_cancelled(ctx)
                return
            # the orchestrator is shutting down: the occurrence stays PROCESSING
            # and the start-up sweep decides what happens to it
            await self._save_quietly(ctx)
            raise
        except Exception as exc:
            await self._fail(ctx, exc, rollback, on_failure)
        else:
            op.set_state(OpState.COMPLETED)
            await ctx.save()
            log.info("op.completed ns=%s op=%s", op.nsr_id, op.id)
        finally:
            await self._release(op.nsr_id, op.id)

    async def _fail(
        self,
        ctx: OperationContext,
        exc: Exception,
        rollback: Rollback | None,
        on_failure: Rollback | None,
    ) -> None:
        op = ctx.op
        error = ErrorInfo.of(exc).problem
        error["step"] = ctx.current_step
        op.error = error
        if op.hold_on_failure:
            op.set_state(OpState.FAILED_TEMP)
            await ctx.save()
            log.warning(
                "op.failed_temp ns=%s op=%s step=%s error=%s",
                op.nsr_id,
                op.id,
                ctx.current_step,
                error.get("detail"),
            )
            return
        log.warning(
            "op.failed ns=%s op=%s step=%s error=%s",
            op.nsr_id,
            op.id,
            ctx.current_step,
            error.get("detail"),
        )
        await self._after_failure(ctx, rollback, on_failure)

    async def _after_failure(
        self, ctx: OperationContext, rollback: Rollback | None, on_failure: Rollback | None
    ) -> None:
        op = ctx.op
        if rollback is None:
            op.set_state(OpState.FAILED)
            if on_failure is not None:
                await self._guard(ctx, on_failure, "on_failure")
            await ctx.save()
            return
        op.set_state(OpState.ROLLING_BACK)
        await ctx.save()
        try:
            rolled_back = await self._guard(ctx, rollback, "rollback")
        except asyncio.CancelledError:
            if op.id not in self._cancelled:
                raise
            await self._hold_cancelled(ctx)  # a cancelled rollback waits in FAILED_TEMP too
            return
        if rolled_back:
            op.set_state(OpState.ROLLED_BACK)
        elif op.hold_on_failure:
            op.set_state(OpState.FAILED_TEMP)
        else:
            op.set_state(OpState.FAILED)
            if on_failure is not None:
                await self._guard(ctx, on_failure, "on_failure")
        await ctx.save()

    async def _guard(self, ctx: OperationContext, action: Rollback, what: str) -> bool:
        try:
            await action(ctx)
        except Exception as exc:
            ctx.op.error = ctx.op.error or {}
            ctx.op.error[f"{what}_error"] = ErrorInfo.of(exc).problem.get("detail")
            log.exception("op.%s_failed ns=%s op=%s", what, ctx.op.nsr_id, ctx.op.id)
            return False
        return True

    async def _hold_cancelled(self, ctx: OperationContext) -> None:
        """A cancel request stopped the work: FAILED_TEMP, for a retry, rollback or fail."""
        op = ctx.op
        self._cancelled.discard(op.id)
        earlier = op.error
        op.error = {
            "title": "Cancelled",
            "status": 409,
            "code": "CANCELLED",
            "detail": f"{op.operation.value} was cancelled on request "
            f"during step {ctx.current_step or 'none'}",
            "step": ctx.current_step,
        }
        if earlier:
            op.error["earlier_error"] = earlier.get("detail")
        op.set_state(OpState.FAILED_TEMP)
        await self._save_quietly(ctx)
        log.warning("op.cancelled ns=%s op=%s step=%s", op.nsr_id, op.id, ctx.current_step)

    async def cancel(self, op_id: str) -> LcmOpOcc:
        """Stop a running occurrence; it ends FAILED_TEMP (SOL005 ``cancel``).

        Whichever replica runs it: here the task is cancelled at once; on
        another replica the request is put on the NS lease, which that replica
        looks at every ``CANCEL_POLL`` seconds, and this call waits for the
        occurrence to leave PROCESSING/ROLLING_BACK.
        """
        op = await self.ops.get_op(op_id)
        task = self._tasks.get(op_id)
        if op.state not in (OpState.PROCESSING, OpState.ROLLING_BACK):
            raise Conflict(
                f"operation {op_id} is {op.state.value}; only a PROCESSING or ROLLING_BACK "
                "operation can be cancelled",
                current_state=op.state.value,
            )
        if task is not None:
            self._cancel_here(op_id, task)
            await asyncio.wait({task}, timeout=CANCEL_WAIT)
            return await self.ops.get_op(op_id)
        owner = await self.locks.request_cancel(op.nsr_id, op_id)
        if owner is None:
            raise Conflict(
                f"operation {op_id} is {op.state.value} but no replica runs it right now "
                "(its replica stopped; another one takes it over within the lease time): "
                "cancel it once it is taken over",
                current_state=op.state.value,
            )
        log.info("op.cancel_requested op=%s owner=%s", op_id, owner)
        deadline = asyncio.get_running_loop().time() + CANCEL_WAIT
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(CANCEL_POLL / 4)
            op = await self.ops.get_op(op_id)
            if op.state not in (OpState.PROCESSING, OpState.ROLLING_BACK):
                break
        return op

    def _cancel_here(self, op_id: str, task: asyncio.Task[None]) -> None:
        self._cancelled.add(op_id)
        task.cancel()

    async def fail(self, op: LcmOpOcc, on_failure: Rollback | None) -> LcmOpOcc:
        """FAILED_TEMP -> FAILED for good (SOL005 ``fail``); the NS is marked as failed."""
        await self.locks.acquire(op.nsr_id, op.id)
        try:
            op = await self.ops.get_op(op.id)
            if op.state != OpState.FAILED_TEMP:
                raise Conflict(
                    f"cannot fail operation {op.id}: it is {op.state.value} now, "
                    "expected FAILED_TEMP",
                    current_state=op.state.value,
                )
            nsr = await self.nsrs.get_nsr(op.nsr_id)
            ctx = OperationContext(self, op, nsr)
            op.set_state(OpState.FAILED)
            if on_failure is not None:
                await self._guard(ctx, on_failure, "on_failure")
            await ctx.save()
        finally:
            await self._release(op.nsr_id, op.id)
        return op

    async def _save_quietly(self, ctx: OperationContext) -> None:
        try:
            await asyncio.shield(ctx.save())
        except Exception:
            log.exception("op.save_failed op=%s", ctx.op.id)

    async def wait(self, op_id: str, timeout: float | None = None) -> LcmOpOcc:
        """Wait until the occurrence reaches a final state (or FAILED_TEMP)."""
        task = self._tasks.get(op_id)
        if task is not None:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        op = await self.ops.get_op(op_id)
        if op.state not in FINAL_OP_STATES and op.state != OpState.FAILED_TEMP and task is None:
            raise NotFound(f"operation {op_id} is not running in this orchestrator")
        return op

    def running(self) -> list[str]:
        return list(self._tasks)

    async def start(self) -> None:
        """Take back what a previous process of this replica held; keep our leases alive."""
        await self.locks.release_owned()
        self._renewer = asyncio.create_task(self._renew_leases(), name="lease renewal")

    async def _renew_leases(self) -> None:
        """Renew this replica's leases every ttl/3; act on cancel requests every
        ``CANCEL_POLL`` seconds (another replica asked to cancel one of our operations)."""
        period = self.locks.ttl / 3
        tick = min(period, CANCEL_POLL)
        renewed = asyncio.get_running_loop().time()
        while True:
            await asyncio.sleep(tick)
            try:
                if asyncio.get_running_loop().time() - renewed >= period - tick / 2:
                    await self.locks.renew()
                    renewed = asyncio.get_running_loop().time()
                if self._tasks:
                    for op_id in await self.locks.cancel_requests():
                        task = self._tasks.get(op_id)
                        if task is not None and op_id not in self._cancelled:
                            log.info("op.cancel_received op=%s", op_id)
                            self._cancel_here(op_id, task)
            except Exception:
                # missed renewals only shorten the leases; the next one may succeed
                log.exception("lease.renew_failed owner=%s", self.locks.owner)

    async def shutdown(self) -> None:
        """Cancel running operations; their occurrences are swept at next start.

        The leases go with them, so that another replica may take the
        operations over at once instead of after the leases expire.
        """
        await cancel_and_wait(list(self._tasks.values()))
        if self._renewer is not None:
            await cancel_and_wait([self._renewer])
            self._renewer = None
            try:
                await self.locks.release_owned()
            except Exception:
                log.exception("lease.release_failed owner=%s", self.locks.owner)
