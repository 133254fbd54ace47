"""The operation repository: LCM operation occurrences and the NSR writes they make.

Writing an NSR together with the occurrence changing it is the operation's
business (see ``nubo.store.operations``): these transactions span both
aggregates and must stay one transaction each.
"""

from __future__ import annotations

from typing import Protocol

from nubo.model.records import LcmOpOcc, NetworkServiceRecord
from nubo.model.tenancy import SYSTEM, Scope


class OperationRepository(Protocol):
    async def save_op(self, op: LcmOpOcc) -> None:
        """Insert (revision 0) or compare-and-set; bumps ``revision``."""
        ...

    async def save_progress(
        self, nsr: NetworkServiceRecord, op: LcmOpOcc, *, release: bool = False
    ) -> None:
        """Write the NSR and the occurrence changing it in one transaction (``release``:
        and drop the occurrence's lease on the NS)."""
        ...

    async def create_ns_operation(
        self,
        nsr: NetworkServiceRecord,
        op: LcmOpOcc,
        idempotency: tuple[str, str] | None = None,
    ) -> None:
        """Store a new NSR with its first occurrence and ``(key, request)``, all or nothing."""
        ...

    async def get_op(self, op_id: str, scope: Scope = SYSTEM) -> LcmOpOcc: ...

    async def list_ops(self, nsr_id: str | None = None, scope: Scope = SYSTEM) -> list[LcmOpOcc]:
        """Newest first."""
        ...

    async def unfinished_ops(self) -> list[LcmOpOcc]:
        """Operations not in a final state (for the start-up sweep)."""
        ...

    async def held_op(self, nsr_id: str) -> LcmOpOcc | None:
        """The NS's operation waiting in FAILED_TEMP, if any."""
        ...

    async def find_idempotency_key(self, key: str) -> tuple[str, str, str] | None:
        """``(request, nsr_id, op_id)`` recorded for the key, or None."""
        ...
