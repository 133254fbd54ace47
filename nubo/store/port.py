"""What the rest of nubo needs from persistence.

Every method is one transaction. An NSR is saved whole (it is an aggregate);
the NS lock held by the orchestrator guarantees a single writer per NSR.
"""

from __future__ import annotations

from typing import Protocol

from nubo.model.alarms import Alarm
from nubo.model.catalogue import NsdEntry, VimRegistration
from nubo.model.records import LcmOpOcc, NetworkServiceRecord


class Store(Protocol):
    async def init(self) -> None:
        """Create or migrate the schema to the newest version."""
        ...

    async def close(self) -> None: ...

    # VIMs
    async def add_vim(self, vim: VimRegistration) -> None:
        """Raise ``Conflict`` when the name is taken."""
        ...

    async def list_vims(self) -> list[VimRegistration]: ...

    async def get_vim(self, id_or_name: str) -> VimRegistration:
        """Raise ``NotFound`` naming the id."""
        ...

    # NSDs
    async def add_nsd(self, nsd: NsdEntry) -> None: ...

    async def update_nsd(self, nsd: NsdEntry) -> None:
        """Replace the entry; raise ``NotFound`` when there is none."""
        ...

    async def list_nsds(self) -> list[NsdEntry]: ...

    async def get_nsd(self, nsd_id: str) -> NsdEntry: ...

    async def delete_nsd(self, nsd_id: str) -> None: ...

    # NSRs
    async def save_nsr(self, nsr: NetworkServiceRecord) -> None:
        """Insert or replace the whole aggregate."""
        ...

    async def get_nsr(self, nsr_id: str) -> NetworkServiceRecord: ...

    async def list_nsrs(self, include_terminated: bool = True) -> list[NetworkServiceRecord]: ...

    async def nsrs_using_nsd(self, nsd_id: str) -> list[NetworkServiceRecord]:
        """NSRs of that NSD whose status is not TERMINATED."""
        ...

    async def delete_nsr(self, nsr_id: str) -> None: ...

    # LCM operation occurrences
    async def save_op(self, op: LcmOpOcc) -> None:
        """Insert or replace."""
        ...

    async def get_op(self, op_id: str) -> LcmOpOcc: ...

    async def list_ops(self, nsr_id: str | None = None) -> list[LcmOpOcc]:
        """Newest first."""
        ...

    async def unfinished_ops(self) -> list[LcmOpOcc]:
        """Operations not in a final state (for the start-up sweep)."""
        ...

    async def held_op(self, nsr_id: str) -> LcmOpOcc | None:
        """The NS's operation waiting in FAILED_TEMP, if any."""
        ...

    # Alarms
    async def save_alarm(self, alarm: Alarm) -> None:
        """Insert or replace."""
        ...

    async def get_alarm(self, alarm_id: str) -> Alarm: ...

    async def list_alarms(
        self, active_only: bool = False, nsr_id: str | None = None
    ) -> list[Alarm]:
        """Newest first."""
        ...

    async def active_alarm(self, managed_object_id: str, probable_cause: str) -> Alarm | None:
        """The active alarm of that object and cause, if any."""
        ...

    # Idempotency keys
    async def find_idempotency_key(self, key: str) -> tuple[str, str, str] | None:
        """``(request, nsr_id, op_id)`` recorded for the key, or None."""
        ...

    async def save_idempotency_key(self, key: str, request: str, nsr_id: str, op_id: str) -> None:
        """Record the answer of the first request that used the key."""
        ...
