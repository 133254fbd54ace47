"""Alarms of fault management, shaped after ETSI GS NFV-SOL 005 (NFV-FM).

An alarm is raised on a managed object (a VNFC instance, or a VIM), stays
active until the fault is gone, and is then cleared; an operator may
acknowledge it at any time. At most one active alarm exists per managed object
and probable cause.

``AlarmView`` is the SOL005 rendering of an alarm; the alarm routes answer it
and the notifications to subscribers carry it, so both show the same fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from nubo.model.records import utcnow
from nubo.model.states import transition

#: where the SOL005 alarm routes serve alarms
ALARMS_HREF = "/nsfm/v1/alarms"


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


ACK_TRANSITIONS: Mapping[AckState, frozenset[AckState]] = {
    AckState.UNACKNOWLEDGED: frozenset({AckState.ACKNOWLEDGED}),
    AckState.ACKNOWLEDGED: frozenset(),
}


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
    """One alarm; ``managed_object_id`` is the VNFC instance id or the VIM id: what it is
    raised and cleared by (SOL005's ``managedObjectId`` is the NS instance, see ``AlarmView``)."""

    id: str
    #: the project of the NS (or VIM) it is about
    project_id: str
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
    ack_state: AckState = Field(default=AckState.UNACKNOWLEDGED, frozen=True)

    @property
    def active(self) -> bool:
        return self.alarm_cleared_time is None

    def acknowledge(self) -> None:
        transition(self, "ack_state", ACK_TRANSITIONS, AckState.ACKNOWLEDGED, f"alarm {self.id}")
        self.alarm_changed_time = utcnow()


class AlarmView(BaseModel):
    """An alarm as SOL005 names its fields."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)

    id: str
    managed_object_id: str
    ns_instance_id: str | None = None
    vnf_instance_id: str | None = None
    vnfc_instance_id: str | None = None
    vim_id: str | None = None
    alarm_raised_time: datetime
    alarm_changed_time: datetime
    alarm_cleared_time: datetime | None = None
    ack_state: AckState
    perceived_severity: PerceivedSeverity
    event_time: datetime
    event_type: EventType
    probable_cause: ProbableCause
    is_root_cause: bool = True
    #: SOL005 FaultyComponentInfo: the VNF instance at fault, when it is one
    root_cause_faulty_component: dict[str, str] = Field(default_factory=dict)
    #: SOL005 FaultyResourceInfo: the VIM's compute resource (the VNFC's server) at fault
    root_cause_faulty_resource: dict[str, Any] | None = None
    fault_details: list[str]
    links: dict[str, dict[str, str]] = Field(alias="_links")

    @classmethod
    def of(cls, alarm: Alarm) -> AlarmView:
        """The SOL005 rendering of an NS alarm; ``ValueError`` for one about no NS instance."""
        if not alarm.nsr_id:
            raise ValueError(f"alarm {alarm.id} is about no NS instance: not an NS alarm")
        resource = None
        if alarm.vnfc_id:
            faulty: dict[str, str] = {"resourceId": alarm.vnfc_id}
            if alarm.vim_id:
                faulty["vimId"] = alarm.vim_id
            resource = {"faultyResource": faulty, "faultyResourceType": "COMPUTE"}
        return cls(
            id=alarm.id,
            # SOL005: the NS instance the alarm affects (the VNFC is the faulty resource)
            managed_object_id=alarm.nsr_id,
            root_cause_faulty_resource=resource,
            ns_instance_id=alarm.nsr_id,
            vnf_instance_id=alarm.vnfr_id,
            vnfc_instance_id=alarm.vnfc_id,
            vim_id=alarm.vim_id,
            alarm_raised_time=alarm.alarm_raised_time,
            alarm_changed_time=alarm.alarm_changed_time,
            alarm_cleared_time=alarm.alarm_cleared_time,
            ack_state=alarm.ack_state,
            perceived_severity=alarm.perceived_severity,
            event_time=alarm.alarm_raised_time,
            event_type=alarm.event_type,
            probable_cause=alarm.probable_cause,
            root_cause_faulty_component=(
                {"faultyVnfInstanceId": alarm.vnfr_id} if alarm.vnfr_id else {}
            ),
            fault_details=list(alarm.fault_details),
            _links={"self": {"href": f"{ALARMS_HREF}/{alarm.id}"}},
        )


def is_ns_alarm(alarm: Alarm) -> bool:
    """Whether SOL005's NS fault management shows the alarm: it is about an NS instance.

    A VIM that does not answer is about no NS instance (``managedObjectId`` must
    name one): nubo keeps that alarm for itself (``/api/v1/vims/{id}/alarms``).
    """
    return bool(alarm.nsr_id)


def sol005_alarm(alarm: Alarm) -> dict[str, Any]:
    """The alarm as a SOL005 JSON document, exactly as ``GET /nsfm/v1/alarms/{id}`` answers it."""
    return AlarmView.of(alarm).model_dump(mode="json", by_alias=True, exclude_none=True)
