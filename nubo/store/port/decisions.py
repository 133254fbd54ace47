"""The auto-scaler's decisions, kept as bodies the store does not interpret.

The decision model lives in a layer above (``nubo.autoscale``); the store
reads the columns it filters on off any object that has them.
"""

from __future__ import annotations

import builtins
from typing import Any, Protocol

from nubo.model.tenancy import SYSTEM, Scope


class DecisionLike(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def time(self) -> float: ...
    @property
    def nsr_id(self) -> str: ...
    @property
    def vnfr_id(self) -> str: ...
    @property
    def policy(self) -> str: ...
    @property
    def outcome(self) -> str: ...

    def to_body(self) -> dict[str, Any]: ...


class DecisionRepository(Protocol):
    async def save(self, decision: DecisionLike) -> None: ...

    async def prune(self, before: float) -> int:
        """Delete the decisions taken before ``before`` (epoch seconds); how many."""
        ...

    async def list(
        self,
        nsr_id: str | None = None,
        vnfr_id: str | None = None,
        since: float | None = None,
        limit: int = 100,
        scope: Scope = SYSTEM,
    ) -> builtins.list[dict[str, Any]]:
        """Bodies of the matching decisions, newest first, at most ``limit``."""
        ...
