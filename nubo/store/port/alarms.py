"""The alarm repository of fault management."""

from __future__ import annotations

from typing import Protocol

from nubo.model.alarms import Alarm
from nubo.model.tenancy import SYSTEM, Scope


class AlarmRepository(Protocol):
    async def save_alarm(self, alarm: Alarm) -> None:
        """Insert or replace."""
        ...

    async def get_alarm(self, alarm_id: str, scope: Scope = SYSTEM) -> Alarm: ...

    async def list_alarms(
        self, active_only: bool = False, nsr_id: str | None = None, scope: Scope = SYSTEM
    ) -> list[Alarm]:
        """Newest first."""
        ...

    async def active_alarm(self, managed_object_id: str, probable_cause: str) -> Alarm | None:
        """The active alarm of that object and cause, if any."""
        ...
