"""FaultWatcher: compares what should run with what the VIM runs, and raises or clears alarms.

A reconciler: ``run_once`` checks every registered VIM (``info``) and every
NS on a reachable VIM; ``follow_events`` turns a VIM's event stream into an
immediate check of the NS an event concerns, so a dead VNFC is alarmed well
within a second instead of at the next pass.

Which VNFCs should run. Every VNFC whose record is RUNNING, EXITED or
FAILED, except one stopped on purpose: a VNFC is stopped on purpose when the
newest LCM operation naming it (``params.vnfcInstanceId``) is STOP_VNFC. So a
VNFC the watcher itself recorded as EXITED after a crash, one a failed heal or
start left FAILED, or one the start-up reconciliation found dead is watched,
alarmed and healed; one the operator stopped is left alone (and its alarms,
if it had any, clear). The history is read only for an NS that has a VNFC
which is not RUNNING.

A VNFC whose server the VIM restarts by itself (a restart policy: the
server is ``restarting``) is alarmed as soon as it is seen so, at the
engine's ``die``; once it runs again (the ``start``) the watcher records the
restart as a COMPLETED HEAL occurrence with the VIM's restart count and
clears the alarm (see ``restarts``).

A check never acts on a stale view: it skips an NS while an LCM operation
holds it, and gives up for this pass when the record changed while it was
listing the VIM's servers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from nubo.fault.alarms import AlarmService
from nubo.fault.faults import Fault, fault_of, fault_of_death
from nubo.fault.restarts import VimRestart, VimRestarts
from nubo.model.alarms import Alarm, PerceivedSeverity, ProbableCause
from nubo.model.errors import Busy, Conflict, NotFound, VimError
from nubo.model.records import NetworkServiceRecord, VnfcInstance, VnfcLocation, VnfRecord
from nubo.model.states import LcmOperationType, NsStatus, VnfcState
from nubo.nfvo.service import NsService
from nubo.nfvo.tasks import cancel_and_wait
from nubo.nfvo.vims import VimService
from nubo.vim.port import LABEL_MANAGED, LABEL_NS, LABEL_VNFC, Server, ServerEvent, ServerStatus

log = logging.getLogger("nubo.fault")

Clock = Callable[[], float]

#: causes that mean "this VNFC is down"; at most one of them is active per VNFC
VNFC_CAUSES = frozenset(
    {ProbableCause.VNFC_EXITED, ProbableCause.VNFC_FAILED, ProbableCause.VNFC_VANISHED}
)
#: every cause raised on a VNFC; all clear when it runs again
VNFC_ALARMS = VNFC_CAUSES | {ProbableCause.HEAL_FAILED}
#: seconds between two looks at NSs whose events came while an operation held them
BUSY_RECHECK = 0.25
#: VNFC record states the watcher compares with the VIM (others are mid-operation)
SETTLED = frozenset({VnfcState.RUNNING, VnfcState.EXITED, VnfcState.FAILED})
#: NS states whose VNFCs are watched (when no operation holds the NS)
WATCHED_NS = frozenset({NsStatus.INITIALIZED, NsStatus.ACTIVE, NsStatus.SCALING, NsStatus.ERROR})


def _worth_a_look(vnfc: VnfcLocation, server: Server | None) -> bool:
    """Whether a settled VNFC is not plainly fine: recorded or found not running, or gone.

    At rest every VNFC is RUNNING on both sides, so a pass looks at nothing;
    a VNFC stopped on purpose is looked at on each pass (and left alone).
    """
    if vnfc.state not in SETTLED:
        return False
    return (
        server is None or vnfc.state != VnfcState.RUNNING or server.status != ServerStatus.RUNNING
    )


class FaultWatcher:
    """Raises and clears VNFC and VIM alarms; records what it observes on the VNFCs."""

    def __init__(
        self,
        ns: NsService,
        vims: VimService,
        alarms: AlarmService,
        clock: Clock = time.monotonic,
        *,
        check_timeout: float = 10.0,
        reconnect_backoff: tuple[float, float] = (0.5, 10.0),
    ) -> None:
        self.ns = ns
        self.vims = vims
        self.alarms = alarms
        self.clock = clock
        self.check_timeout = check_timeout
        self.reconnect_backoff = reconnect_backoff
        self._ns_locks: dict[str, asyncio.Lock] = {}
        #: VIMs seen reachable with no VIM alarm left to clear
        self._vims_ok: set[str] = set()
        #: events received per VIM (the follower's backoff resets when they flow)
        self.events_seen: dict[str, int] = {}
        #: VIMs whose event stream is open right now: their changes arrive as events
        self.following: set[str] = set()
        #: a stream opened since the last full pass: what changed before it opened was
        #: not an event of it, so the next pass compares everything once more
        self.full_due = True
        #: called when a check finds a VNFC down (the loops use it to heal at once)
        self.on_fault: Callable[[], None] | None = None
        #: the VNFCs the VIM is restarting by itself (the healer waits for them)
        self.restarts = VimRestarts(clock)
        #: per VIM, since when (wall clock) its events were not followed after a
        #: stream broke: what the VIM restarted meanwhile is looked for once it answers
        self._unseen_since: dict[str, float] = {}

    # -- passes ---------------------------------------------------------------------

    async def run_once(self, full: bool = True) -> None:
        """Check every VIM, then the NSs of reachable VIMs that differ from what runs.

        A full pass stays cheap with many services: one server listing per
        VIM and one query of the VNFC index; only an NS whose VNFC records
        disagree with the listing, or that has an active VNFC alarm, is loaded
        and checked. A light pass (``full=False``), for a VIM whose events are
        followed (a VNFC's change reaches the watcher at once that way), lists
        nothing: it only looks again at the NSs with a VNFC recorded not
        RUNNING or an alarm, so at rest it costs one query.
        """
        if full:
            self.full_due = False
        registered = await self.vims.list()
        reachable = [vim.id for vim in registered if await self.check_vim(vim.id)]
        active = await self.alarms.list(active_only=True)
        for vim_id in reachable:
            if full or vim_id not in self.following:
                await self.check_vim_services(vim_id, active)
            else:
                await self._check_unsettled(vim_id, active)
        statuses = await self.ns.statuses({a.nsr_id for a in active if a.nsr_id})
        live = {nsr_id for nsr_id, status in statuses.items() if status != NsStatus.TERMINATED}
        await self._clear_orphans(active, live, {vim.id for vim in registered})
        for nsr_id in list(self._ns_locks):
            if not self._ns_locks[nsr_id].locked():
                del self._ns_locks[nsr_id]

    async def _check_unsettled(self, vim_id: str, active: list[Alarm]) -> None:
        """The NSs of the VIM with a VNFC recorded down (or stopped), or with an alarm."""
        unsettled = await self.ns.vnfc_locations(
            vim_id=vim_id, ns_statuses=WATCHED_NS, states=SETTLED - {VnfcState.RUNNING}
        )
        alarmed = {
            a.nsr_id
            for a in active
            if a.nsr_id and a.vim_id == vim_id and a.probable_cause in VNFC_ALARMS
        }
        for nsr_id in sorted({v.nsr_id for v in unsettled} | alarmed):
            await self.run_once_for(nsr_id)

    async def check_vim_services(self, vim_id: str, active: list[Alarm] | None = None) -> None:
        """Check each NS on the VIM whose records differ from the VIM's servers."""
        if active is None:
            active = await self.alarms.list(active_only=True)
        located = await self.ns.vnfc_locations(vim_id=vim_id, ns_statuses=WATCHED_NS)
        if not located:
            return
        by_ns = await self._servers_by_ns(vim_id)
        if by_ns is None:  # the listing failed: each NS lists its own servers
            for nsr_id in sorted({v.nsr_id for v in located}):
                await self.run_once_for(nsr_id)
            return
        servers = {server.id: server for listed in by_ns.values() for server in listed}
        since = self._unseen_since.pop(vim_id, None)
        if since is not None:
            await self._restarted_unseen(vim_id, since, located, servers)
        alarmed = {a.nsr_id for a in active if a.nsr_id and a.probable_cause in VNFC_ALARMS}
        candidates = {v.nsr_id for v in located if _worth_a_look(v, servers.get(v.vc_id))}
        for nsr_id in sorted(candidates | (alarmed & {v.nsr_id for v in located})):
            await self.run_once_for(nsr_id, by_ns.get(nsr_id, []))

    async def _restarted_unseen(
        self, vim_id: str, since: float, located: list[VnfcLocation], servers: dict[str, Server]
    ) -> None:
        """VNFCs the VIM restarted by itself while its events were not followed.

        After an engine restart the engine starts its containers again itself
        (their restart policy): the record and the listing both say RUNNING,
        yet the VNFC was down. A server the listing says started since the
        stream broke (the Docker driver inspects every container once on the
        listing after a broken stream) is alarmed, recorded as a VIM HEAL and
        cleared, as if its death and start had been seen.
        """
        for v in located:
            server = servers.get(v.vc_id)
            if v.state != VnfcState.RUNNING or server is None:
                continue
            if server.status is not ServerStatus.RUNNING or server.started_at <= since:
                continue  # 0 when the VIM does not tell: nothing to go by
            try:
                await self._record_unseen(v.nsr_id, v.vnfc_id, server)
            except NotFound:
                continue

    async def _record_unseen(self, nsr_id: str, vnfc_id: str, server: Server) -> None:
        async with self._ns_locks.setdefault(nsr_id, asyncio.Lock()):
            if await self._busy(nsr_id):
                return
            nsr = await self.ns.get(nsr_id)
            vnfr, _, vnfc = nsr.find_vnfc(vnfc_id)
            fault = Fault(
                ProbableCause.VNFC_FAILED,
                PerceivedSeverity.CRITICAL,
                VnfcState.FAILED,
                f"server {server.name} was started again by the VIM while nubo could not"
                " follow its events",
            )
            await self._raise(nsr, vnfr, vnfc, fault)
            if not await self.ns.observe_vnfc(nsr.id, vnfc.id, fault.observed):
                return  # busy: the next check clears or heals it
            held = {
                a.probable_cause: a
                for a in await self.alarms.list(active_only=True, nsr_id=nsr.id)
                if a.vnfc_id == vnfc.id and a.probable_cause in VNFC_ALARMS
            }
            if await self._record_restart(nsr, vnfc, server.restart_count, held):
                await self._clear(vnfc.id, held, "the VIM restarted the VNFC")

    async def _servers_by_ns(self, vim_id: str) -> dict[str, list[Server]] | None:
        """Every server nubo manages on the VIM, by NS; None when the listing failed."""
        try:
            driver = await self.vims.driver(vim_id)
            servers = await asyncio.wait_for(
                driver.list_servers({LABEL_MANAGED: "true"}), self.check_timeout
            )
        except (VimError, TimeoutError):
            return None  # each NS then lists its own servers
        by_ns: dict[str, list[Server]] = {}
        for server in servers:
            by_ns.setdefault(server.labels.get(LABEL_NS, ""), []).append(server)
        return by_ns

    async def run_once_for(self, nsr_id: str, listed: list[Server] | None = None) -> None:
        """Check one NS now (``listed``: its servers, when already known); never overlapping."""
        lock = self._ns_locks.setdefault(nsr_id, asyncio.Lock())
        async with lock:
            try:
                await self._check_ns(nsr_id, listed)
            except NotFound:
                return  # deleted meanwhile
            except (VimError, TimeoutError) as exc:
                detail = exc.detail if isinstance(exc, VimError) else "VIM did not answer"
                log.warning("fault.check_failed ns=%s error=%s", nsr_id, detail)

    async def check_vim(self, vim_id: str) -> bool:
        """Ask the VIM whether it answers; flag it and alarm when it does not."""
        try:
            driver = await self.vims.driver(vim_id)
            await asyncio.wait_for(driver.info(), self.check_timeout)
        except (VimError, TimeoutError) as exc:
            reason = (
                exc.detail
                if isinstance(exc, VimError)
                else f"no answer within {self.check_timeout:g} s"
            )
            self._vims_ok.discard(vim_id)
            self.vims.mark_unreachable(vim_id, reason)
            await self.alarms.raise_alarm(
                vim_id,
                ProbableCause.VIM_UNREACHABLE,
                PerceivedSeverity.CRITICAL,
                [f"VIM {vim_id} is unreachable: {reason}"],
                project_id=(await self.vims.get(vim_id)).project_id,
                vim_id=vim_id,
            )
            return False
        self.vims.mark_reachable(vim_id)
        if vim_id not in self._vims_ok:
            await self.alarms.clear(vim_id, ProbableCause.VIM_UNREACHABLE, "the VIM answers again")
            self._vims_ok.add(vim_id)
        return True

    # -- one NS ---------------------------------------------------------------------

    async def _busy(self, nsr_id: str) -> bool:
        return await self.ns.runner.locks.holder(nsr_id) is not None

    async def _check_ns(self, nsr_id: str, listed: list[Server] | None = None) -> None:
        if await self._busy(nsr_id):
            return
        nsr = await self.ns.get(nsr_id)
        if nsr.status not in WATCHED_NS or nsr.vim_id in self.vims.unreachable():
            return
        if listed is None:
            driver = await self.vims.driver(nsr.vim_id)
            listed = await asyncio.wait_for(
                driver.list_servers({LABEL_MANAGED: "true", LABEL_NS: nsr.id}),
                self.check_timeout,
            )
        if await self._busy(nsr_id) or (await self.ns.get(nsr_id)).revision != nsr.revision:
            return  # an operation changed the NS meanwhile: look again next time
        servers = {server.id: server for server in listed}
        alarms: dict[str, dict[ProbableCause, Alarm]] = {}
        for alarm in await self.alarms.list(active_only=True, nsr_id=nsr.id):
            if alarm.vnfc_id and alarm.probable_cause in VNFC_ALARMS:
                alarms.setdefault(alarm.vnfc_id, {})[alarm.probable_cause] = alarm
        live = {vnfc.id: (vnfr, vnfc) for vnfr in nsr.vnfr for vnfc in vnfr.vnfcs()}
        for vnfc_id, held in alarms.items():
            if vnfc_id not in live:
                self.restarts.forget(vnfc_id)
                await self._clear(vnfc_id, held, "the VNFC was removed from the NS")
        stopped = await self._stopped_on_purpose(nsr)
        for vnfr, vnfc in live.values():
            held = alarms.get(vnfc.id, {})
            if vnfc.state not in SETTLED:
                continue  # not started yet, or the VIM is in the middle of something
            if vnfc.id in stopped:
                self.restarts.drop(vnfc.id)
                await self._clear(vnfc.id, held, "the VNFC was stopped by an LCM operation")
                continue
            await self._check_vnfc(nsr, vnfr, vnfc, servers.get(vnfc.vc_id), held)

    async def _check_vnfc(
        self,
        nsr: NetworkServiceRecord,
        vnfr: VnfRecord,
        vnfc: VnfcInstance,
        server: Server | None,
        held: dict[ProbableCause, Alarm],
    ) -> None:
        """Compare one VNFC that should run with its server: raise, or clear, its alarms."""
        if server is not None and server.status is ServerStatus.RUNNING:
            down = VNFC_CAUSES & held.keys()
            if vnfc.state != VnfcState.RUNNING and (vnfc.id in self.restarts or down):
                if not await self._record_restart(nsr, vnfc, server.restart_count, held):
                    return  # an operation holds the NS: looked at again next time
                await self._clear(vnfc.id, held, "the VIM restarted the VNFC")
                return
            self.restarts.drop(vnfc.id)
            if held and (
                vnfc.state == VnfcState.RUNNING
                or await self.ns.observe_vnfc(nsr.id, vnfc.id, VnfcState.RUNNING)
            ):
                await self._clear(vnfc.id, held, "the VNFC runs again")
            elif vnfc.state != VnfcState.RUNNING:
                await self.ns.observe_vnfc(nsr.id, vnfc.id, VnfcState.RUNNING)
            return
        fault = fault_of(vnfc, server)
        if fault is None:
            return  # CREATED or STOPPING: the VIM is in the middle of something
        if server is not None:
            self.restarts.observe(vnfc.id, server.restart_count)
        released = False
        if server is not None and server.restarting:
            self.restarts.note(vnfc.id, server.restart_count, fault.cause, fault.detail)
        else:  # gone, or the VIM gave up (or never meant to): the healer's now
            released = self.restarts.drop(vnfc.id) is not None
        down = VNFC_CAUSES & held.keys()
        await self._raise(nsr, vnfr, vnfc, fault)
        for cause in down - {fault.cause}:
            await self.alarms.clear(vnfc.id, cause, f"superseded by {fault.cause.value}")
        if vnfc.state != fault.observed:
            await self.ns.observe_vnfc(nsr.id, vnfc.id, fault.observed)
        if self.on_fault is not None and (fault.cause not in down or released):
            self.on_fault()

    async def _raise(
        self, nsr: NetworkServiceRecord, vnfr: VnfRecord, vnfc: VnfcInstance, fault: Fault
    ) -> None:
        await self.alarms.raise_alarm(
            vnfc.id,
            fault.cause,
            fault.severity,
            [f"VNFC {vnfc.hostname} of VNF {vnfr.name}: {fault.detail}"],
            project_id=nsr.project_id,
            nsr_id=nsr.id,
            vnfr_id=vnfr.id,
            vnfc_id=vnfc.id,
            vim_id=nsr.vim_id,
        )

    async def alarm_death(self, event: ServerEvent) -> None:
        """Raise the alarm of a VNFC whose server's end an event tells, before any listing.

        Listing right after Docker's ``die`` waits for the engine (its inspect
        of the dying container takes tens of milliseconds), so the event's own
        word raises the alarm; the check that follows updates it. Only a VNFC
        RUNNING in its record on that very server, in an NS no operation holds
        (an operation's own stops and removals are no faults). Until that check
        tells whether the VIM restarts the server, the VNFC counts as
        restarting for the healer, so a heal of nubo's never races the VIM's.
        """
        fault = fault_of_death(event)
        nsr_id, vnfc_id = event.labels.get(LABEL_NS), event.labels.get(LABEL_VNFC)
        if fault is None or not nsr_id or not vnfc_id:
            return
        async with self._ns_locks.setdefault(nsr_id, asyncio.Lock()):
            try:
                if await self._busy(nsr_id):
                    return
                nsr = await self.ns.get(nsr_id)
                vnfr, _, vnfc = nsr.find_vnfc(vnfc_id)
            except NotFound:
                return
            if nsr.status not in WATCHED_NS or nsr.vim_id in self.vims.unreachable():
                return
            if vnfc.state != VnfcState.RUNNING or vnfc.vc_id != event.server_id:
                return
            self.restarts.note(vnfc.id, 0, fault.cause, fault.detail)
            await self._raise(nsr, vnfr, vnfc, fault)
            # recorded down: a restart that comes before the next check is recorded too
            await self.ns.observe_vnfc(nsr.id, vnfc.id, fault.observed)

    async def record_start(self, event: ServerEvent) -> None:
        """Record the VIM's restart a ``start`` event tells, of a VNFC noted restarting.

        The engine's own word, as ``alarm_death`` takes its ``die``: no
        listing stands between the start and the HEAL occurrence. Only for
        the VNFC's current server, in an NS no operation holds.
        """
        nsr_id, vnfc_id = event.labels.get(LABEL_NS), event.labels.get(LABEL_VNFC)
        if event.status is not ServerStatus.RUNNING or not nsr_id or vnfc_id not in self.restarts:
            return
        async with self._ns_locks.setdefault(nsr_id, asyncio.Lock()):
            try:
                if await self._busy(nsr_id):
                    return
                nsr = await self.ns.get(nsr_id)
                _, _, vnfc = nsr.find_vnfc(str(vnfc_id))
            except NotFound:
                return
            if nsr.status not in WATCHED_NS or vnfc.vc_id != event.server_id:
                return
            if vnfc.state not in SETTLED - {VnfcState.RUNNING} or vnfc.id not in self.restarts:
                return
            held = {
                a.probable_cause: a
                for a in await self.alarms.list(active_only=True, nsr_id=nsr.id)
                if a.vnfc_id == vnfc.id and a.probable_cause in VNFC_ALARMS
            }
            if await self._record_restart(nsr, vnfc, event.restart_count, held):
                await self._clear(vnfc.id, held, "the VIM restarted the VNFC")

    async def _record_restart(
        self,
        nsr: NetworkServiceRecord,
        vnfc: VnfcInstance,
        restart_count: int,
        held: dict[ProbableCause, Alarm],
    ) -> bool:
        """Record the VIM's restart of a VNFC seen running again; False when the NS is busy.

        Without a restart noted under way (the watcher started anew, or the
        VIM brought its servers back itself after its own restart), a VNFC
        alarmed down and found running, with no operation of nubo's, was
        restarted by the VIM all the same.
        """
        restart = self.restarts.get(vnfc.id)
        if restart is None:
            alarm = next(a for c, a in held.items() if c in VNFC_CAUSES)
            restart = VimRestart(
                self.clock(),
                alarm.alarm_raised_time,
                restart_count,
                alarm.probable_cause,
                "found running again without a heal of nubo's",
            )
        try:
            op = await self.ns.record_vim_restart(
                nsr.id,
                vnfc.id,
                cause=restart.cause.value,
                detail=restart.detail,
                restart_count=max(restart.restart_count, restart_count),
                died_at=restart.died_at,
                nsr=nsr,
            )
        except Busy:
            return False
        except Conflict as exc:  # recorded meanwhile, or no longer down
            log.info("fault.restart_not_recorded vnfc=%s reason=%s", vnfc.id, exc.detail)
        else:
            log.info(
                "fault.vim_restarted ns=%s vnfc=%s op=%s restart_count=%d",
                nsr.id,
                vnfc.id,
                op.id,
                restart.restart_count,
            )
        self.restarts.drop(vnfc.id)
        return True

    async def _stopped_on_purpose(self, nsr: NetworkServiceRecord) -> set[str]:
        """VNFCs (not RUNNING) whose newest LCM operation is STOP_VNFC.

        A VNFC the VIM is restarting was not stopped on purpose (a stop cancels
        the restart): while only such VNFCs are down, the history is not read.
        """
        if all(c.state == VnfcState.RUNNING or c.id in self.restarts for c in nsr.all_vnfcs()):
            return set()
        newest: dict[str, LcmOperationType] = {}
        for op in await self.ns.operations(nsr.id):  # newest first
            vnfc_id = op.params.get("vnfcInstanceId")
            if isinstance(vnfc_id, str):
                newest.setdefault(vnfc_id, op.operation)
        return {
            vnfc.id
            for vnfc in nsr.all_vnfcs()
            if vnfc.state != VnfcState.RUNNING and newest.get(vnfc.id) == LcmOperationType.STOP_VNFC
        }

    async def _clear(self, vnfc_id: str, held: dict[ProbableCause, Alarm], reason: str) -> None:
        for cause in held:
            await self.alarms.clear(vnfc_id, cause, reason)

    async def _clear_orphans(self, active: list[Alarm], nsrs: set[str], vims: set[str]) -> None:
        """Alarms of NSs that are gone, or of VIMs no longer registered, clear."""
        for alarm in active:
            if alarm.nsr_id is not None and alarm.nsr_id not in nsrs:
                reason = f"NS {alarm.nsr_id} was terminated"
            elif alarm.probable_cause == ProbableCause.VIM_UNREACHABLE and alarm.vim_id not in vims:
                reason = f"VIM {alarm.vim_id} is no longer registered"
            else:
                continue
            await self.alarms.clear(alarm.managed_object_id, alarm.probable_cause, reason)

    # -- events ---------------------------------------------------------------------

    async def follow_events(self, vim_id: str) -> None:
        """Follow one VIM's events until cancelled, reconnecting with bounded backoff.

        Before each (re)connection the VIM and its NSs are checked, so what
        happened while the stream was down is seen at once; when the stream
        breaks the VIM is checked at once, so a dead engine is flagged (and
        operations on it fail fast) while the follower waits to reconnect.
        """
        first, most = self.reconnect_backoff
        delay = first
        while True:
            started, seen = self.clock(), self.events_seen.get(vim_id, 0)
            try:
                if await self.check_vim(vim_id):
                    await self.check_vim_services(vim_id)
                    await self._follow(vim_id)
                    await self.check_vim(vim_id)
            except NotFound:
                log.info("fault.events_stopped vim=%s reason=VIM not registered", vim_id)
                return
            except VimError as exc:
                log.warning("fault.events_broken vim=%s error=%s", vim_id, exc.detail)
                await self.check_vim(vim_id)
            except Exception:  # a follower never dies of one bad pass
                log.exception("fault.events_failed vim=%s", vim_id)
            if self.events_seen.get(vim_id, 0) > seen or self.clock() - started >= most:
                delay = first
            await asyncio.sleep(delay)
            delay = min(delay * 2, most)

    async def _follow(self, vim_id: str) -> None:
        """Check the NS of each event, until the stream ends (or raises when it breaks).

        Events are coalesced per NS: one check looks at the whole NS, so the
        events that arrive while it waits or runs (a deployment sends several
        per VNFC) need one more check between them, not one each. An NS an
        operation holds (one query per batch tells) is looked at again every
        ``BUSY_RECHECK`` seconds until the operation has ended: what happened
        to it meanwhile, beyond what the operation did, is not lost.
        """
        driver = await self.vims.driver(vim_id)
        pending: dict[str, None] = {}  # NS ids in arrival order
        deferred: dict[str, None] = {}  # held by an operation when their events came
        died: dict[str, ServerEvent] = {}  # ends of servers, alarmed before the checks
        started: dict[str, ServerEvent] = {}  # the VIM's restarts, recorded before them too
        # servers asked to end through the VIM's API (Docker's ``kill`` before a stop, a
        # kill or a removal): their end is no crash the VIM restarts, the checks alarm it
        asked: set[str] = set()
        arrived = asyncio.Event()
        closing = False

        async def check_pending() -> None:
            while not closing:
                if deferred:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(arrived.wait(), BUSY_RECHECK)
                else:
                    await arrived.wait()
                arrived.clear()
                ends = list(died.values())
                died.clear()
                for event in ends:
                    if closing:
                        return
                    await self.alarm_death(event)
                starts = list(started.values())
                started.clear()
                for event in starts:
                    if closing:
                        return
                    await self.record_start(event)
                batch = list(pending | deferred)
                pending.clear()
                deferred.clear()
                held = await self.ns.runner.locks.holders(batch) if batch else {}
                for nsr_id in batch:
                    if closing:
                        return
                    if nsr_id in held:
                        deferred[nsr_id] = None  # looked at once the operation ends
                    else:
                        await self.run_once_for(nsr_id)

        async with contextlib.aclosing(driver.events()) as events:
            log.info("fault.events_following vim=%s", vim_id)
            self.following.add(vim_id)
            self.full_due = True
            checker = asyncio.create_task(check_pending(), name=f"fault-checks-{vim_id}")
            try:
                async for event in events:
                    self.events_seen[vim_id] = self.events_seen.get(vim_id, 0) + 1
                    nsr_id = event.labels.get(LABEL_NS)
                    if nsr_id:
                        if event.status is ServerStatus.STOPPING:
                            asked.add(event.server_id)
                        elif fault_of_death(event) is not None:
                            if event.server_id not in asked:
                                died[event.server_id] = event
                        elif event.labels.get(LABEL_VNFC) in self.restarts:
                            started[event.server_id] = event
                        if event.status is not ServerStatus.STOPPING:
                            asked.discard(event.server_id)
                        pending[nsr_id] = None
                        arrived.set()
                    if checker.done():
                        checker.result()  # a check that raised ends the stream like a pass
            finally:
                self.following.discard(vim_id)
                self._unseen_since.setdefault(vim_id, time.time())
                # let the check under way end rather than cut a query in the middle
                closing = True
                arrived.set()
                try:
                    await asyncio.wait_for(asyncio.shield(checker), self.check_timeout)
                except Exception:  # a failed or slow check: the stream ends anyway
                    pass
                finally:
                    await cancel_and_wait([checker])
        log.warning("fault.events_ended vim=%s", vim_id)
