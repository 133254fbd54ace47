"""Catalogue entries: onboarded descriptors and registered VIMs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from nubo.model.packages import ONBOARDING_TRANSITIONS, OnboardingState
from nubo.model.records import utcnow
from nubo.model.states import transition


class DescriptorWarning(BaseModel):
    """Something an onboarded descriptor carries that nubo does not use, at its path."""

    model_config = ConfigDict(frozen=True)

    path: str
    message: str


class NsdEntry(BaseModel):
    """An onboarded NSD: the document as the user sent it plus catalogue metadata."""

    id: str
    project_id: str
    name: str
    vendor: str = ""
    version: str = ""
    format: str = "openbaton"
    enabled: bool = True
    body: dict[str, Any]
    created_at: datetime = Field(default_factory=utcnow)
    #: SOL005 onboarding state: CREATED (no content yet), ONBOARDED, ...
    onboarding_state: OnboardingState = Field(default=OnboardingState.ONBOARDED, frozen=True)
    #: SOL005 NsdInfo fields beyond the descriptor (userDefinedData, vnfPkgIds, ...)
    info: dict[str, Any] = Field(default_factory=dict)
    #: what the descriptor carries that nubo does not use, reported at onboarding
    warnings: list[DescriptorWarning] = Field(default_factory=list)

    @field_validator("warnings", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        # NSDs onboarded before warnings were kept have none stored.
        return [] if value is None else value

    def onboarded(self, **content: Any) -> NsdEntry:
        """This NSD ONBOARDED with its content (``IllegalTransition`` unless it may be)."""
        copy = self.model_copy(update=content)
        target = OnboardingState.ONBOARDED
        transition(copy, "onboarding_state", ONBOARDING_TRANSITIONS, target, f"NSD {self.id}")
        return copy


class VimRegistration(BaseModel):
    """A registered VIM / point of presence."""

    id: str
    project_id: str
    name: str
    type: str
    endpoint: str = ""
    subnet_pool: str = "10.137.0.0/16"
    subnet_prefix: int = 24
    is_default: bool = False
    created_at: datetime = Field(default_factory=utcnow)
