"""VimRestarts: the VNFCs a VIM is restarting by itself, as the fault watcher saw them.

A VIM with a restart policy (Docker's ``on-failure``) starts a crashed
server again in place, faster than nubo's healer could. The watcher notes
each such restart when it sees the server ``restarting`` (the engine's
``die``), records it as a HEAL occurrence once it sees the server run again
(the engine's ``start``), and the healer leaves a VNFC alone while its
restart is under way, for at most a bounded wait. Notes live in the
process: a watcher that starts anew sees a restarting server again on its
first full pass, and one that missed a restart altogether finds the VNFC
running and just clears its alarm.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from nubo.model.alarms import ProbableCause
from nubo.model.records import utcnow

Clock = Callable[[], float]


@dataclass(frozen=True)
class VimRestart:
    """One restart of a VNFC's server by the VIM, from its death on."""

    #: when the watcher saw it restarting (the watcher's monotonic clock)
    noted_at: float
    #: nubo's wall clock at that moment: the HEAL occurrence's start
    died_at: datetime
    #: the VIM's count of its own restarts of the server, this one included
    restart_count: int
    cause: ProbableCause
    detail: str


class VimRestarts:
    """The restarts under way, by VNFC id; ``on_new`` hears how many the VIM made."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._notes: dict[str, VimRestart] = {}
        #: the VIM's restart count last seen per VNFC (it counts since nubo's last start)
        self._counts: dict[str, int] = {}
        #: called with a VNFC id and how many restarts the VIM made since last seen
        #: (the healer counts them as attempts)
        self.on_new: Callable[[str, int], None] | None = None

    def observe(self, vnfc_id: str, restart_count: int) -> None:
        """The VIM's restart count of a VNFC's server that is down (dead or restarting).

        Counted from the difference with the last count seen, so that a restart
        the watcher never saw under way (a server that died again before it was
        looked at, in a crash loop) counts all the same. A lower count means
        nubo started the server since (the VIM counts from there): nothing new.
        """
        last = self._counts.get(vnfc_id, 0)
        self._counts[vnfc_id] = restart_count
        if restart_count > last and self.on_new is not None:
            self.on_new(vnfc_id, restart_count - last)

    def note(self, vnfc_id: str, restart_count: int, cause: ProbableCause, detail: str) -> None:
        """The VIM is restarting the VNFC's server (kept from its first sight on)."""
        known = self._notes.get(vnfc_id)
        if known is None or restart_count > known.restart_count:
            self._notes[vnfc_id] = VimRestart(self.clock(), utcnow(), restart_count, cause, detail)

    def forget(self, vnfc_id: str) -> None:
        """The VNFC is gone from its NS."""
        self._notes.pop(vnfc_id, None)
        self._counts.pop(vnfc_id, None)

    def get(self, vnfc_id: str) -> VimRestart | None:
        return self._notes.get(vnfc_id)

    def age(self, vnfc_id: str) -> float | None:
        """Seconds since the VIM began restarting the VNFC, None when it is not."""
        known = self._notes.get(vnfc_id)
        return None if known is None else self.clock() - known.noted_at

    def drop(self, vnfc_id: str) -> VimRestart | None:
        """Forget the VNFC's restart: recorded, taken over, or no longer the VIM's."""
        return self._notes.pop(vnfc_id, None)

    def __contains__(self, vnfc_id: object) -> bool:
        return vnfc_id in self._notes

    def __len__(self) -> int:
        return len(self._notes)
