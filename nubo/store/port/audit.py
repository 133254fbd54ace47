"""The audit trail's port: append, list newest first, prune."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Protocol

from nubo.model.audit import AuditEvent, Outcome
from nubo.model.tenancy import SYSTEM, Scope


@dataclass(frozen=True)
class AuditQuery:
    """What a listing of the trail asks for (all optional but the limit)."""

    since: float | None = None
    until: float | None = None
    actor: str | None = None
    method: str | None = None
    outcome: Outcome | None = None
    #: events whose path starts with this
    path_prefix: str | None = None
    #: events older than this id (the next page of a newest-first listing)
    before_id: int | None = None
    limit: int = 100


class AuditRepository(Protocol):
    async def record(self, event: AuditEvent) -> None: ...

    async def list(self, query: AuditQuery, scope: Scope = SYSTEM) -> builtins.list[AuditEvent]:
        """Matching events of the scope's project (events without a project: system
        administrators only), newest first."""
        ...

    async def prune(self, before: float) -> int:
        """Delete the events older than ``before``; how many."""
        ...
