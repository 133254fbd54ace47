"""The NS record repository: NSRs with the index of their VNFCs and virtual links."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from nubo.model.records import NetworkServiceRecord, VnfcLocation
from nubo.model.states import NsStatus, VnfcState
from nubo.model.tenancy import SYSTEM, Scope


class NsRecordRepository(Protocol):
    async def save_nsr(self, nsr: NetworkServiceRecord) -> None:
        """Insert (revision 0) or compare-and-set the whole aggregate; bumps ``revision``."""
        ...

    async def get_nsr(self, nsr_id: str, scope: Scope = SYSTEM) -> NetworkServiceRecord:
        """``NotFound`` also when the NSR belongs to a project ``scope`` does not see."""
        ...

    async def list_nsrs(
        self, include_terminated: bool = True, scope: Scope = SYSTEM
    ) -> list[NetworkServiceRecord]: ...

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

    async def nsr_fingerprint(self, ns_statuses: Iterable[NsStatus]) -> tuple[int, int]:
        """Two numbers that change whenever an NS in ``ns_statuses`` is written, or one
        enters or leaves them (one row, whatever the number of NSs)."""
        ...

    async def nsrs_with_ids(self, nsr_ids: Iterable[str]) -> list[NetworkServiceRecord]: ...
