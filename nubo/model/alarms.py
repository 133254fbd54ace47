"""Alarms of fault management, shaped after ETSI GS NFV-SOL 005 (NFV-FM).

An alarm is raised on a managed object (a VNFC instance, or a VIM), stays
active until the fault is gone, and is then cleared; an operator may
acknowledge it at any time. At most one active alarm exists per managed object
and probable cause.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from nubo.model.records import utcnow


class PerceivedSeverity(StrEnum):
    CRITICAL = "CRITICAL"
    MAJOR = "MAJOR"
    MINOR = "MINOR"
    WARNING = "WARNING"
    INDETERMINATE = "INDETERMINATE"
    CLEARED = "CLEARED"


class AckState(StrEnum):
    UNACKNOWLEDGED = "UNACKNOWLEDGED"
    ACKNOWLEDGED = "ACKNOWLEDGED"


class EventType(StrEnum):
    COMMUNICATIONS_ALARM = "COMMUNICATIONS_ALARM"
    PROCESSING_ERROR_ALARM = "PROCESSING_ERROR_ALARM"
    ENVIRONMENTAL_ALARM = "ENVIRONMENTAL_ALARM"
    QOS_ALARM = "QOS_ALARM"
    EQUIPMENT_ALARM = "EQUIPMENT_ALARM"


class ProbableCause(StrEnum):
    VNFC_EXITED = "VNFC_EXITED"
    VNFC_FAILED = "VNFC_FAILED"
    VNFC_VANISHED = "VNFC_VANISHED"
    VIM_UNREACHABLE = "VIM_UNREACHABLE"
    HEAL_FAILED = "HEAL_FAILED"


class Alarm(BaseModel):
    """One alarm; ``managed_object_id`` is the VNFC instance id or the VIM id."""

    id: str
    managed_object_id: str
    nsr_id: str | None = None
    vnfr_id: str | None = None
    vnfc_id: str | None = None
    vim_id: str | None = None
    perceived_severity: PerceivedSeverity
    probable_cause: ProbableCause
    event_type: EventType
    fault_details: list[str] = Field(default_factory=list)
    alarm_raised_time: datetime = Field(default_factory=utcnow)
    alarm_changed_time: datetime = Field(default_factory=utcnow)
    alarm_cleared_time: datetime | None = None
    ack_state: AckState = AckState.UNACKNOWLEDGED

    @property
    def active(self) -> bool:
        return self.alarm_cleared_time is None
