"""AlarmService: raise, clear, acknowledge and list alarms (SOL005 NFV-FM semantics).

Raising is idempotent: one active alarm exists per managed object and probable
cause, and raising it again only updates it when something changed. Every
raise and clear is logged as one key=value line with the NS/VNF/VNFC ids, and
handed to an optional notifier (the hook for subscriptions).
"""

from __future__ import annotations

import asyncio
import builtins
import logging
from collections.abc import Awaitable, Callable, Sequence

from nubo.model.alarms import (
    AckState,
    Alarm,
    EventType,
    PerceivedSeverity,
    ProbableCause,
)
from nubo.model.ids import new_id
from nubo.model.records import utcnow
from nubo.model.tenancy import SYSTEM, Scope
from nubo.store.port import AlarmRepository

log = logging.getLogger("nubo.fault")

Notify = Callable[[Alarm], Awaitable[None]]

_EVENT_TYPES = {
    ProbableCause.VIM_UNREACHABLE: EventType.COMMUNICATIONS_ALARM,
}


def event_type_of(cause: ProbableCause) -> EventType:
    """The SOL005 event type of a probable cause: VIM reachability is communications."""
    return _EVENT_TYPES.get(cause, EventType.PROCESSING_ERROR_ALARM)


def _ids(alarm: Alarm) -> str:
    return (
        f"alarm={alarm.id} cause={alarm.probable_cause.value} object={alarm.managed_object_id} "
        f"ns={alarm.nsr_id or '-'} vnf={alarm.vnfr_id or '-'} vnfc={alarm.vnfc_id or '-'} "
        f"vim={alarm.vim_id or '-'}"
    )


class AlarmService:
    """Alarms of VNFCs and VIMs, persisted in the store."""

    def __init__(self, store: AlarmRepository, notify: Notify | None = None) -> None:
        self._store = store
        self._notify = notify
        # raise/clear read then write: serialise them so two detections of the
        # same fault (event and periodic check) never make two active alarms
        self._lock = asyncio.Lock()

    async def raise_alarm(
        self,
        managed_object_id: str,
        cause: ProbableCause,
        severity: PerceivedSeverity,
        details: Sequence[str] = (),
        *,
        project_id: str,
        nsr_id: str | None = None,
        vnfr_id: str | None = None,
        vnfc_id: str | None = None,
        vim_id: str | None = None,
    ) -> Alarm:
        """The active alarm of that object and cause: new, updated, or unchanged; a new one
        belongs to ``project_id`` (its NS's, or its VIM's)."""
        async with self._lock:
            alarm = await self._store.active_alarm(managed_object_id, cause.value)
            if alarm is None:
                now = utcnow()
                alarm = Alarm(
                    id=new_id(),
                    project_id=project_id,
                    managed_object_id=managed_object_id,
                    nsr_id=nsr_id,
                    vnfr_id=vnfr_id,
                    vnfc_id=vnfc_id,
                    vim_id=vim_id,
                    perceived_severity=severity,
                    probable_cause=cause,
                    event_type=event_type_of(cause),
                    fault_details=list(details),
                    alarm_raised_time=now,
                    alarm_changed_time=now,
                )
                verb = "raised"
            elif alarm.perceived_severity != severity or alarm.fault_details != list(details):
                # a repeat of the same fault is not a change; new details or severity are
                alarm.perceived_severity = severity
                alarm.fault_details = list(details)
                alarm.alarm_changed_time = utcnow()
                verb = "changed"
            else:
                return alarm
            await self._store.save_alarm(alarm)
        log.warning(
            "alarm.%s %s severity=%s details=%r",
            verb,
            _ids(alarm),
            severity.value,
            "; ".join(alarm.fault_details),
        )
        await self._tell(alarm)
        return alarm

    async def clear(
        self, managed_object_id: str, cause: ProbableCause, reason: str = ""
    ) -> Alarm | None:
        """Clear the active alarm of that object and cause; None when there was none."""
        async with self._lock:
            alarm = await self._store.active_alarm(managed_object_id, cause.value)
            if alarm is None:
                return None
            now = utcnow()
            alarm.alarm_cleared_time = now
            alarm.alarm_changed_time = now
            alarm.perceived_severity = PerceivedSeverity.CLEARED
            if reason:
                alarm.fault_details = [*alarm.fault_details, f"cleared: {reason}"]
            await self._store.save_alarm(alarm)
        log.info("alarm.cleared %s reason=%r", _ids(alarm), reason)
        await self._tell(alarm)
        return alarm

    async def acknowledge(self, alarm_id: str, scope: Scope = SYSTEM) -> Alarm:
        """Mark an alarm acknowledged; ``NotFound`` for an unknown id, a repeat is a no-op."""
        async with self._lock:
            alarm = await self._store.get_alarm(alarm_id, scope)
            if alarm.ack_state == AckState.ACKNOWLEDGED:
                return alarm
            alarm.acknowledge()
            await self._store.save_alarm(alarm)
        log.info("alarm.acknowledged %s", _ids(alarm))
        await self._tell(alarm)
        return alarm

    async def get(self, alarm_id: str, scope: Scope = SYSTEM) -> Alarm:
        return await self._store.get_alarm(alarm_id, scope)

    async def list(
        self, active_only: bool = False, nsr_id: str | None = None, scope: Scope = SYSTEM
    ) -> builtins.list[Alarm]:
        """Newest first."""
        return await self._store.list_alarms(active_only=active_only, nsr_id=nsr_id, scope=scope)

    async def _tell(self, alarm: Alarm) -> None:
        if self._notify is None:
            return
        try:
            await self._notify(alarm)
        except Exception:  # a subscriber's failure never stops fault management
            log.exception("alarm.notify_failed alarm=%s", alarm.id)
