"""VNF packages in the catalogue, and the SOL005 states packages and NSDs share."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from nubo.model.records import utcnow
from nubo.model.states import transition


class OnboardingState(StrEnum):
    """SOL005 PackageOnboardingState (shared by NSDs: nsdOnboardingState)."""

    CREATED = "CREATED"
    UPLOADING = "UPLOADING"
    PROCESSING = "PROCESSING"
    ONBOARDED = "ONBOARDED"
    ERROR = "ERROR"


class OperationalState(StrEnum):
    """SOL005 PackageOperationalState: a DISABLED package (or NSD) may not be used anew."""

    ENABLED = "ENABLED"
    DISABLED = "DISABLED"


ONBOARDING_TRANSITIONS: Mapping[OnboardingState, frozenset[OnboardingState]] = {
    OnboardingState.CREATED: frozenset(
        {OnboardingState.UPLOADING, OnboardingState.PROCESSING, OnboardingState.ONBOARDED}
        | {OnboardingState.ERROR}
    ),
    OnboardingState.UPLOADING: frozenset(
        {OnboardingState.PROCESSING, OnboardingState.ONBOARDED, OnboardingState.ERROR}
    ),
    OnboardingState.PROCESSING: frozenset({OnboardingState.ONBOARDED, OnboardingState.ERROR}),
    OnboardingState.ONBOARDED: frozenset(),
    OnboardingState.ERROR: frozenset(),
}

OPERATIONAL_TRANSITIONS: Mapping[OperationalState, frozenset[OperationalState]] = {
    OperationalState.ENABLED: frozenset({OperationalState.DISABLED}),
    OperationalState.DISABLED: frozenset({OperationalState.ENABLED}),
}


class UsageState(StrEnum):
    IN_USE = "IN_USE"
    NOT_IN_USE = "NOT_IN_USE"


class VnfPackage(BaseModel):
    """A VNF package: its states, and once onboarded what its VNFD says."""

    id: str
    project_id: str
    onboarding_state: OnboardingState = Field(default=OnboardingState.CREATED, frozen=True)
    operational_state: OperationalState = Field(default=OperationalState.DISABLED, frozen=True)
    user_defined_data: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime = Field(default_factory=utcnow)
    vnfd_id: str | None = None
    vnf_provider: str = ""
    vnf_product_name: str = ""
    vnf_software_version: str = ""
    vnfd_version: str = ""
    #: the VNF node type its VNFD substitutes
    vnf_node_type: str = ""
    #: lower-case hex SHA-256 of the archive
    checksum: str | None = None
    #: SOL005 VnfPackageSoftwareImageInfo documents
    software_images: list[dict[str, Any]] = Field(default_factory=list)
    #: SOL005 VnfPackageArtifactInfo documents
    additional_artifacts: list[dict[str, Any]] = Field(default_factory=list)
    #: path of the entry VNFD in the archive
    entry_definitions: str = ""
    #: the entry VNFD by its name relative to its folder (as NSDs import it)
    vnfd_file: str = ""
    #: the YAML definitions by name relative to the entry's folder
    definitions: dict[str, str] = Field(default_factory=dict)
    #: why the last fetch of its content from a URI failed (a problem document), if it did
    onboarding_failure: dict[str, Any] | None = None

    def set_operational_state(self, new: OperationalState) -> None:
        transition(
            self, "operational_state", OPERATIONAL_TRANSITIONS, new, f"VNF package {self.id}"
        )

    def onboarded(self, **content: Any) -> VnfPackage:
        """This package ONBOARDED and ENABLED with its content (``IllegalTransition`` unless
        its state allows it)."""
        copy = self.model_copy(update=content)
        transition(
            copy,
            "onboarding_state",
            ONBOARDING_TRANSITIONS,
            OnboardingState.ONBOARDED,
            f"VNF package {self.id}",
        )
        if copy.operational_state != OperationalState.ENABLED:
            copy.set_operational_state(OperationalState.ENABLED)
        return copy
