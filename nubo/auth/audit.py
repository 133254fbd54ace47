"""AuditTrail: records every mutating API call, lists them for administrators.

The API's middleware hands each finished call to ``record``; a failure to
store one is logged, never turned into an error of the call (its answer has
been sent by then). Events are kept ``retention`` seconds: the replica that
leads the background loops deletes older ones about once an hour.
"""

from __future__ import annotations

import builtins
import logging
import math
import time

from nubo.model.audit import AuditEvent
from nubo.model.tenancy import SYSTEM, Scope
from nubo.store.port import AuditQuery, AuditRepository

log = logging.getLogger("nubo.audit")

#: 90 days
RETENTION = 90 * 86400.0
#: seconds between two deletions of events past their retention
PRUNE_INTERVAL = 3600.0


class AuditTrail:
    def __init__(self, store: AuditRepository, retention: float = RETENTION) -> None:
        self.store = store
        self.retention = retention
        self._pruned_at = -math.inf

    async def record(self, event: AuditEvent) -> None:
        try:
            await self.store.record(event)
        except Exception:
            log.exception(
                "audit.not_recorded actor=%s method=%s path=%s status=%d",
                event.actor,
                event.method,
                event.path,
                event.status,
            )

    async def list(self, query: AuditQuery, scope: Scope = SYSTEM) -> builtins.list[AuditEvent]:
        return await self.store.list(query, scope)

    async def prune_once(self, now: float | None = None) -> int:
        """Delete the events past their retention, at most once per ``PRUNE_INTERVAL``."""
        now = time.time() if now is None else now
        if now - self._pruned_at < PRUNE_INTERVAL:
            return 0
        self._pruned_at = now
        deleted = await self.store.prune(now - self.retention)
        if deleted:
            log.info("audit.pruned events=%d", deleted)
        return deleted
