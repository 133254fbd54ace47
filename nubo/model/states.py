"""State machines of the records, one transition table per entity.

``transition`` is the one gate through which every state change passes: it
refuses a move the table does not allow with ``IllegalTransition``, so that a
record can never be driven into a state its lifecycle does not know. The
state fields of the records are frozen: assigning one anywhere else raises,
so no code can change a state around the gate. The store then writes the
changed record with compare-and-set on the revision it was read at.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from nubo.model.errors import IllegalTransition


class NsStatus(StrEnum):
    """Status of a Network Service Record (Open Baton's names).

    NOT_INSTANTIATED is SOL005's: an NS instance identifier created before it
    is instantiated; it has no VNF records yet.
    """

    NOT_INSTANTIATED = "NOT_INSTANTIATED"
    INITIALIZED = "INITIALIZED"
    ACTIVE = "ACTIVE"
    SCALING = "SCALING"
    ERROR = "ERROR"
    TERMINATING = "TERMINATING"
    TERMINATED = "TERMINATED"


class VnfStatus(StrEnum):
    INITIALIZED = "INITIALIZED"
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    SCALING = "SCALING"
    ERROR = "ERROR"
    TERMINATED = "TERMINATED"


class VnfcState(StrEnum):
    """A VNFC instance follows the container states of the Pop protocol (003 §4.2).

    PENDING is nubo's own: the record exists but the VIM has not reserved the
    server yet. DELETED marks a VNFC whose server is gone for good.
    """

    PENDING = "PENDING"
    CREATED = "CREATED"
    RUNNING = "RUNNING"
    STOPPING = "STOPPING"
    EXITED = "EXITED"
    FAILED = "FAILED"
    DELETED = "DELETED"


class OpState(StrEnum):
    """LCM operation occurrence states of ETSI GS NFV-SOL 005."""

    PROCESSING = "PROCESSING"
    COMPLETED = "COMPLETED"
    FAILED_TEMP = "FAILED_TEMP"
    FAILED = "FAILED"
    ROLLING_BACK = "ROLLING_BACK"
    ROLLED_BACK = "ROLLED_BACK"


class StepStatus(StrEnum):
    """Progress of one workflow step of an LCM operation occurrence."""

    STARTED = "STARTED"
    DONE = "DONE"
    FAILED = "FAILED"


class LcmOperationType(StrEnum):
    INSTANTIATE = "INSTANTIATE"
    SCALE_OUT = "SCALE_OUT"
    SCALE_IN = "SCALE_IN"
    START_VNFC = "START_VNFC"
    STOP_VNFC = "STOP_VNFC"
    HEAL = "HEAL"
    TERMINATE = "TERMINATE"


NS_TRANSITIONS: Mapping[NsStatus, frozenset[NsStatus]] = {
    NsStatus.NOT_INSTANTIATED: frozenset({NsStatus.INITIALIZED}),
    # INITIALIZED -> NOT_INSTANTIATED: a SOL005 instantiation rolled back
    NsStatus.INITIALIZED: frozenset(
        {NsStatus.ACTIVE, NsStatus.ERROR, NsStatus.TERMINATING, NsStatus.NOT_INSTANTIATED}
    ),
    NsStatus.ACTIVE: frozenset({NsStatus.SCALING, NsStatus.TERMINATING, NsStatus.ERROR}),
    NsStatus.SCALING: frozenset({NsStatus.ACTIVE, NsStatus.ERROR, NsStatus.TERMINATING}),
    NsStatus.ERROR: frozenset({NsStatus.ACTIVE, NsStatus.SCALING, NsStatus.TERMINATING}),
    NsStatus.TERMINATING: frozenset({NsStatus.TERMINATED, NsStatus.ERROR}),
    # SOL005: a terminated NS instance is NOT_INSTANTIATED again and may be instantiated anew
    NsStatus.TERMINATED: frozenset({NsStatus.INITIALIZED}),
}

VNF_TRANSITIONS: Mapping[VnfStatus, frozenset[VnfStatus]] = {
    VnfStatus.INITIALIZED: frozenset({VnfStatus.ACTIVE, VnfStatus.ERROR, VnfStatus.TERMINATED}),
    VnfStatus.ACTIVE: frozenset(
        {VnfStatus.SCALING, VnfStatus.INACTIVE, VnfStatus.ERROR, VnfStatus.TERMINATED}
    ),
    VnfStatus.INACTIVE: frozenset({VnfStatus.ACTIVE, VnfStatus.ERROR, VnfStatus.TERMINATED}),
    VnfStatus.SCALING: frozenset({VnfStatus.ACTIVE, VnfStatus.ERROR, VnfStatus.TERMINATED}),
    VnfStatus.ERROR: frozenset(
        {VnfStatus.ACTIVE, VnfStatus.SCALING, VnfStatus.INACTIVE, VnfStatus.TERMINATED}
    ),
    VnfStatus.TERMINATED: frozenset(),
}

VNFC_TRANSITIONS: Mapping[VnfcState, frozenset[VnfcState]] = {
    VnfcState.PENDING: frozenset({VnfcState.CREATED, VnfcState.FAILED, VnfcState.DELETED}),
    VnfcState.CREATED: frozenset(
        {VnfcState.RUNNING, VnfcState.FAILED, VnfcState.STOPPING, VnfcState.DELETED}
    ),
    VnfcState.RUNNING: frozenset(
        {VnfcState.STOPPING, VnfcState.EXITED, VnfcState.FAILED, VnfcState.DELETED}
    ),
    VnfcState.STOPPING: frozenset({VnfcState.EXITED, VnfcState.FAILED, VnfcState.DELETED}),
    # EXITED/FAILED -> CREATED: healing re-creates the server in place (same address)
    VnfcState.EXITED: frozenset(
        {VnfcState.RUNNING, VnfcState.FAILED, VnfcState.CREATED, VnfcState.DELETED}
    ),
    VnfcState.FAILED: frozenset({VnfcState.RUNNING, VnfcState.CREATED, VnfcState.DELETED}),
    VnfcState.DELETED: frozenset(),
}

OP_TRANSITIONS: Mapping[OpState, frozenset[OpState]] = {
    OpState.PROCESSING: frozenset(
        {OpState.COMPLETED, OpState.FAILED_TEMP, OpState.FAILED, OpState.ROLLING_BACK}
    ),
    OpState.ROLLING_BACK: frozenset({OpState.ROLLED_BACK, OpState.FAILED_TEMP, OpState.FAILED}),
    OpState.FAILED_TEMP: frozenset({OpState.PROCESSING, OpState.ROLLING_BACK, OpState.FAILED}),
    OpState.COMPLETED: frozenset(),
    OpState.FAILED: frozenset(),
    OpState.ROLLED_BACK: frozenset(),
}

STEP_TRANSITIONS: Mapping[StepStatus, frozenset[StepStatus]] = {
    StepStatus.STARTED: frozenset({StepStatus.DONE, StepStatus.FAILED}),
    StepStatus.DONE: frozenset(),
    StepStatus.FAILED: frozenset(),
}

FINAL_OP_STATES = frozenset({OpState.COMPLETED, OpState.FAILED, OpState.ROLLED_BACK})

#: SOL005's operation names (LcmOperationType of the NS LCM interface)
SOL005_OPERATION: Mapping[LcmOperationType, str] = {
    LcmOperationType.INSTANTIATE: "INSTANTIATE",
    LcmOperationType.SCALE_OUT: "SCALE",
    LcmOperationType.SCALE_IN: "SCALE",
    LcmOperationType.START_VNFC: "UPDATE",
    LcmOperationType.STOP_VNFC: "UPDATE",
    LcmOperationType.HEAL: "HEAL",
    LcmOperationType.TERMINATE: "TERMINATE",
}

S = TypeVar("S", bound=StrEnum)


def check_transition(table: Mapping[S, frozenset[S]], current: S, new: S, what: str) -> None:
    """Raise ``IllegalTransition`` unless ``table`` allows ``current -> new``."""
    if new == current:
        return
    if new not in table[current]:
        raise IllegalTransition(
            f"{what} cannot go from {current.value} to {new.value}",
            current_state=current.value,
            requested_state=new.value,
        )


def can_transition(table: Mapping[S, frozenset[S]], current: S, new: S) -> bool:
    return new == current or new in table[current]


class HasState(Protocol):
    """A record (pydantic model) whose state fields are frozen."""

    __dict__: dict[str, Any]


def transition(
    record: HasState, field: str, table: Mapping[S, frozenset[S]], new: S, what: str
) -> None:
    """The one gate: apply ``field -> new`` if ``table`` allows it, else ``IllegalTransition``.

    The field is frozen on the model, so this is the only place it is set.
    """
    check_transition(table, record.__dict__[field], new, what)
    record.__dict__[field] = new
