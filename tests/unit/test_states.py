"""The transition tables and the one gate every state change goes through."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from nubo.model.errors import IllegalTransition
from nubo.model.records import LcmOpOcc, NetworkServiceRecord, StepRecord, VnfcInstance
from nubo.model.states import (
    FINAL_OP_STATES,
    NS_TRANSITIONS,
    OP_TRANSITIONS,
    STEP_TRANSITIONS,
    VNF_TRANSITIONS,
    VNFC_TRANSITIONS,
    LcmOperationType,
    NsStatus,
    OpState,
    StepStatus,
    VnfcState,
)


@pytest.mark.parametrize(
    "table", [NS_TRANSITIONS, VNF_TRANSITIONS, VNFC_TRANSITIONS, OP_TRANSITIONS, STEP_TRANSITIONS]
)
def test_every_state_has_a_row_and_targets_are_states(table: dict) -> None:  # type: ignore[type-arg]
    states = set(type(next(iter(table))))
    assert set(table) == states
    for targets in table.values():
        assert targets <= states


def test_final_operation_states_allow_nothing() -> None:
    for state in FINAL_OP_STATES:
        assert OP_TRANSITIONS[state] == frozenset()
    assert OP_TRANSITIONS[OpState.FAILED_TEMP] == {
        OpState.PROCESSING,
        OpState.ROLLING_BACK,
        OpState.FAILED,
    }


def test_ns_lifecycle_path_and_refusals() -> None:
    nsr = NetworkServiceRecord(project_id="default", id="n", name="n", descriptor_reference="d")
    assert nsr.status == NsStatus.INITIALIZED
    for status in (
        NsStatus.ACTIVE,
        NsStatus.SCALING,
        NsStatus.ACTIVE,
        NsStatus.TERMINATING,
        NsStatus.TERMINATED,
    ):
        nsr.set_status(status)
    assert nsr.status == NsStatus.TERMINATED
    with pytest.raises(IllegalTransition) as caught:
        nsr.set_status(NsStatus.ACTIVE)
    assert caught.value.status == 409
    assert caught.value.extra == {"current_state": "TERMINATED", "requested_state": "ACTIVE"}
    assert nsr.status == NsStatus.TERMINATED


def test_initialized_ns_cannot_scale() -> None:
    nsr = NetworkServiceRecord(project_id="default", id="n", name="n", descriptor_reference="d")
    with pytest.raises(IllegalTransition, match="INITIALIZED to SCALING"):
        nsr.set_status(NsStatus.SCALING)


def test_vnfc_follows_pop_states() -> None:
    vnfc = VnfcInstance(id="c", vdu_id="v", hostname="h")
    assert vnfc.state == VnfcState.PENDING
    with pytest.raises(IllegalTransition):
        vnfc.set_state(VnfcState.RUNNING)  # must be CREATED (address reserved) first
    for state in (
        VnfcState.CREATED,
        VnfcState.RUNNING,
        VnfcState.STOPPING,
        VnfcState.EXITED,
        VnfcState.RUNNING,
        VnfcState.FAILED,
        VnfcState.DELETED,
    ):
        vnfc.set_state(state)
    with pytest.raises(IllegalTransition):
        vnfc.set_state(VnfcState.CREATED)


def test_same_state_is_not_a_transition() -> None:
    vnfc = VnfcInstance(id="c", vdu_id="v", hostname="h", state=VnfcState.DELETED)
    vnfc.set_state(VnfcState.DELETED)
    assert vnfc.state == VnfcState.DELETED


def test_operation_occurrence_records_when_state_changed() -> None:
    op = LcmOpOcc(project_id="default", id="o", nsr_id="n", operation=LcmOperationType.INSTANTIATE)
    entered = op.state_entered_time
    op.set_state(OpState.ROLLING_BACK)
    op.set_state(OpState.ROLLED_BACK)
    assert op.state_entered_time >= entered
    with pytest.raises(IllegalTransition):
        op.set_state(OpState.PROCESSING)


def test_no_code_can_assign_a_state_around_the_gate() -> None:
    nsr = NetworkServiceRecord(project_id="default", id="n", name="n", descriptor_reference="d")
    vnfc = VnfcInstance(id="c", vdu_id="v", hostname="h")
    op = LcmOpOcc(project_id="default", id="o", nsr_id="n", operation=LcmOperationType.HEAL)
    step = StepRecord(name="start")
    for record, field, value in (
        (nsr, "status", NsStatus.TERMINATED),
        (vnfc, "state", VnfcState.RUNNING),
        (op, "state", OpState.COMPLETED),
        (step, "status", StepStatus.DONE),
    ):
        with pytest.raises(ValidationError, match="frozen"):
            setattr(record, field, value)
    # through the gate: allowed moves apply, others are refused and change nothing
    step.finish(StepStatus.DONE)
    assert step.status == StepStatus.DONE and step.finished_at is not None
    with pytest.raises(IllegalTransition, match="step start cannot go from DONE to FAILED"):
        step.finish(StepStatus.FAILED)
    with pytest.raises(IllegalTransition):
        vnfc.set_state(VnfcState.EXITED)  # PENDING -> EXITED is no Pop transition
    assert vnfc.state == VnfcState.PENDING
    # a record read back from storage keeps its state (validation is not a transition)
    again = LcmOpOcc.model_validate(op.model_dump(mode="json") | {"state": "FAILED_TEMP"})
    assert again.state == OpState.FAILED_TEMP
