"""Agenda: the auto-scaler's tracks, and which of them the next passes must look at.

A pass evaluates only the VNFs that may decide anything new. Besides those
with new values and those of an NS whose record is new to the pass (both the
pass learns from its inputs), they are: the VNFs with an action under way or
a busy NS (looked at every pass), and those whose awaited moment came (a
period's or cooldown's end, a reminder, a value ageing out). Keeping these
as sets and heaps, updated as each track is looked at (``note``), spares a
pass at rest a scan of every track; heap entries a later look made stale
are skipped when they come up.
"""

from __future__ import annotations

import heapq
import math

from nubo.autoscale.tracks import VnfTrack, memory_key
from nubo.autoscale.watched import Watched

#: (nsr id, vnfr id)
Key = tuple[str, str]


class Agenda:
    """Per VNF with policies its ``VnfTrack``, and what later passes look at."""

    def __init__(self) -> None:
        self.tracks: dict[Key, VnfTrack] = {}
        #: an action under way or a busy NS: looked at on every pass
        self._active: set[Key] = set()
        #: in a cooldown (what is remembered for the next leader)
        self._cooling: set[Key] = set()
        #: (time, key): when a track's last look may no longer hold
        self._wakes: list[tuple[float, Key]] = []
        #: (time, key): when a holding policy's period ends (the loop wakes for it)
        self._dues: list[tuple[float, Key]] = []
        self._view: Watched | None = None

    def track(self, key: Key) -> VnfTrack:
        return self.tracks.setdefault(key, VnfTrack())

    def following(self) -> set[str]:
        """The NSs with an action under way."""
        return {key[0] for key in self._active if self.tracks[key].plan is not None}

    def scaling(self) -> bool:
        """Whether an action of several steps is under way."""
        return any(self.tracks[key].plan is not None for key in self._active)

    def next_due(self, now: float) -> float | None:
        """The earliest time after ``now`` a holding policy's period ends."""
        dues = self._dues
        while dues and dues[0][0] <= now:
            heapq.heappop(dues)  # passed: the pass that came then looked
        return dues[0][0] if dues else None

    def follow(self, view: Watched) -> None:
        """Forget the tracks of NSs no longer watched (when the watched NSs changed)."""
        if view is not self._view:
            self._view = view
            for key in [key for key in self.tracks if key[0] not in view.services]:
                self.forget(key)

    def candidates(self, view: Watched, fresh: set[str], now: float) -> list[Key]:
        """The VNFs a pass may find due, in the NSs' order: those with new values
        (``fresh``: vnfr ids), of an NS whose record is new to the pass, or with a
        track that waits for nothing but a pass or whose time came."""
        keys = {(view.owners[vnfr_id], vnfr_id) for vnfr_id in fresh if vnfr_id in view.owners}
        for nsr_id in view.changed:
            if nsr_id in view.services:
                keys.update((nsr_id, vnfr.id) for vnfr in view.services[nsr_id][0].vnfr)
        keys.update(self._active)
        wakes = self._wakes
        while wakes and wakes[0][0] <= now:
            when, key = heapq.heappop(wakes)
            track = self.tracks.get(key)
            if track is not None and track.wake_at == when:  # else a later one replaced it
                keys.add(key)

        def place(key: Key) -> tuple[int, int]:
            vnfrs = view.services[key[0]][0].vnfr
            return view.order[key[0]], next(
                (i for i, vnfr in enumerate(vnfrs) if vnfr.id == key[1]), len(vnfrs)
            )

        return sorted((key for key in keys if key[0] in view.services), key=place)

    def note(self, key: Key, track: VnfTrack, now: float) -> None:
        """Keep what later passes look at in step with a track just looked at."""
        if track.plan is not None or track.busy:
            self._active.add(key)
        else:
            self._active.discard(key)
        if track.cooldown_until > now:
            self._cooling.add(key)
        if track.wake_at < math.inf:
            heapq.heappush(self._wakes, (track.wake_at, key))
        for ptrack in track.policies.values():
            if ptrack.due is not None and ptrack.due > now:
                heapq.heappush(self._dues, (ptrack.due, key))

    def forget(self, key: Key) -> None:
        self.tracks.pop(key, None)
        self._active.discard(key)
        self._cooling.discard(key)  # the heaps' entries are skipped when they come up

    def cooldowns(self, now: float) -> dict[str, float]:
        """The running cooldowns by memory key (``tracks.memory_key``); ended ones drop."""
        running: dict[str, float] = {}
        for key in list(self._cooling):
            track = self.tracks.get(key)
            if track is None or track.cooldown_until <= now:
                self._cooling.discard(key)
            else:
                running[memory_key(*key)] = track.cooldown_until
        return running
