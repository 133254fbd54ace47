"""What the rest of nubo needs from persistence.

Every method is one transaction. An NSR is saved whole (it is an aggregate),
under the NS's lease, and every write of an NSR or an occurrence is a
compare-and-set on the revision it was read at (``StaleRecord`` otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from nubo.model.alarms import Alarm
from nubo.model.catalogue import NsdEntry, VimRegistration
from nubo.model.records import LcmOpOcc, NetworkServiceRecord, VnfcLocation
from nubo.model.states import NsStatus, VnfcState


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
        """Insert (revision 0) or compare-and-set the whole aggregate; bumps ``revision``."""
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

    async def get_nsr(self, nsr_id: str) -> NetworkServiceRecord: ...

    async def list_nsrs(self, include_terminated: bool = True) -> list[NetworkServiceRecord]: ...

    async def nsrs_using_nsd(self, nsd_id: str) -> list[NetworkServiceRecord]:
        """NSRs of that NSD whose status is not TERMINATED."""
        ...

    async def delete_nsr(self, nsr_id: str) -> None: ...

    async def vnfc_locations(
        self,
        *,
        vim_id: str | None = None,
        ns_statuses: Iterable[NsStatus] | None = None,
        nsr_ids: Iterable[str] | None = None,
        states: Iterable[VnfcState] | None = None,
    ) -> list[VnfcLocation]:
        """VNFCs from the index (no NSR loaded)."""
        ...

    async def vnfc_on_server(self, vim_id: str, vc_id: str) -> VnfcLocation | None: ...

    async def ns_statuses(self, nsr_ids: Iterable[str] | None = None) -> dict[str, NsStatus]: ...

    async def nsr_revisions_by_nsd(
        self, ns_statuses: Iterable[NsStatus]
    ) -> dict[str, dict[str, int]]: ...

    async def nsrs_with_ids(self, nsr_ids: Iterable[str]) -> list[NetworkServiceRecord]: ...

    # LCM operation occurrences
    async def save_op(self, op: LcmOpOcc) -> None:
        """Insert (revision 0) or compare-and-set; bumps ``revision``."""
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


class NsLeases(Protocol):
    """The per-NS lock, shared by every replica (see ``nubo.store.leases``)."""

    owner: str
    ttl: float

    async def acquire(self, nsr_id: str, holder: str) -> None:
        """Take the NS for ``holder``; raise ``Busy`` naming the live holder."""
        ...

    async def release(self, nsr_id: str, holder: str) -> None: ...

    async def holder(self, nsr_id: str) -> str | None: ...

    async def holders(self, nsr_ids: Iterable[str] | None = None) -> dict[str, str]:
        """Live leases by NS, in one query."""
        ...

    async def renew(self) -> int:
        """Extend the leases this replica owns."""
        ...

    async def release_owned(self) -> int:
        """Drop what an earlier process of this replica held."""
        ...

    async def request_cancel(self, nsr_id: str, holder: str) -> str | None:
        """Flag ``holder``'s live lease for cancelling; the replica that owns it."""
        ...

    async def cancel_requests(self) -> list[str]:
        """Holders of this replica's leases flagged for cancelling."""
        ...


class LoopMemory(Protocol):
    """What a background loop remembers across processes (see ``nubo.store.memory``)."""

    async def load(self, kind: str) -> dict[str, dict[str, Any]]: ...

    async def put(self, kind: str, key: str, body: dict[str, Any]) -> None: ...

    async def forget(self, kind: str, key: str) -> None: ...
