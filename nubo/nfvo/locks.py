"""Per-NS locks: one LCM operation at a time on a network service."""

from __future__ import annotations

from nubo.model.errors import Conflict


class NsLocks:
    """Non-blocking locks keyed by NSR id; a held lock means 409 for the caller."""

    def __init__(self) -> None:
        self._holders: dict[str, str] = {}

    def acquire(self, nsr_id: str, op_id: str) -> None:
        holder = self._holders.get(nsr_id)
        if holder is not None:
            raise Conflict(
                f"NS {nsr_id} is busy with operation {holder}; retry when it has finished",
                busy_operation=holder,
            )
        self._holders[nsr_id] = op_id

    def release(self, nsr_id: str, op_id: str) -> None:
        if self._holders.get(nsr_id) == op_id:
            del self._holders[nsr_id]

    def holder(self, nsr_id: str) -> str | None:
        return self._holders.get(nsr_id)
