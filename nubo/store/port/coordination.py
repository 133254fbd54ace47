"""What replicas share to take turns: NS leases, leadership of work, loop memory."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


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


class Leadership(Protocol):
    """One replica at a time leads a named kind of work (see ``nubo.store.leases``)."""

    owner: str
    ttl: float

    async def claim(self, name: str) -> bool:
        """Lead ``name`` (or go on leading it) unless another live replica does."""
        ...

    async def leader(self, name: str) -> str | None: ...

    async def resign(self, name: str) -> None:
        """Stop leading at once, so another replica need not wait for the expiry."""
        ...


class LoopMemory(Protocol):
    """What a background loop remembers across processes (see ``nubo.store.memory``)."""

    async def load(self, kind: str) -> dict[str, dict[str, Any]]: ...

    async def put(self, kind: str, key: str, body: dict[str, Any]) -> None: ...

    async def forget(self, kind: str, key: str) -> None: ...
