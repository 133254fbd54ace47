"""NewestValues: the newest metric values of the VNFCs the auto-scaler watches, in memory.

A pass of the auto-scaler needs, per VNF with policies, the newest value of
each VNFC for the policies' metrics. Asking the store per VNF costs queries
in proportion to the live NSs on every pass; instead each pass reads only the
samples stored since the previous pass (``MetricsReader.written_after``, one
range scan whatever the number of VNFCs) and keeps, per VNFC and metric, the
points of the last ``max_age`` seconds. The pass then also knows which VNFs
got new samples, so it re-evaluates only those (and those whose time has
come: a period's end, a cooldown's end, a value ageing out).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Collection

from nubo.model.metrics import Metric
from nubo.monitor.query import MetricsReader

#: samples read per query, and queries per pass at most (the rest waits for the next pass)
BATCH = 10_000
BATCHES_PER_PASS = 20

#: (time, value), oldest first
_Points = list[tuple[float, float]]


class NewestValues:
    """Newest values per VNFC and metric within ``max_age``, fed from the metric store."""

    def __init__(self, reader: MetricsReader, max_age: float) -> None:
        self.reader = reader
        self.max_age = max_age
        self._cursor: int | None = None
        self._metrics: frozenset[Metric] = frozenset()
        #: (vnfr id, metric) -> vnfc id -> points
        self._points: dict[tuple[str, Metric], dict[str, _Points]] = {}
        self._pruned_at = -math.inf

    async def refresh(self, metrics: Collection[Metric], now: float) -> set[str]:
        """Read the samples stored since the last call; the VNFs (vnfr ids) whose newest
        values changed with them (a sample repeating the newest value of its VNFC changes
        no decision: the value only stays valid longer)."""
        wanted = frozenset(metrics)
        if wanted - self._metrics:
            # a metric not followed so far: read the recent past of all of them again
            self._cursor, self._points = None, {}
        self._metrics = wanted
        fresh: set[str] = set()
        for _ in range(BATCHES_PER_PASS):
            samples, self._cursor = await self.reader.written_after(
                self._cursor, wanted, since=now - self.max_age, limit=BATCH
            )
            for sample in samples:
                series = self._points.setdefault((sample.vnfr_id, sample.metric), {})
                points = series.setdefault(sample.vnfc_id, [])
                if not _repeats(points, sample.time, sample.value, now - self.max_age):
                    fresh.add(sample.vnfr_id)
                bisect.insort(points, (sample.time, sample.value))
            if len(samples) < BATCH:
                break
        if now - self._pruned_at >= self.max_age:
            self._prune(now - self.max_age)
            self._pruned_at = now
        return fresh

    def values(
        self, vnfr_id: str, metric: Metric, live: Collection[str], now: float
    ) -> dict[str, tuple[float, float]]:
        """Per live VNFC of the VNF: (time, value) of its newest point in (now - max_age, now]."""
        found: dict[str, tuple[float, float]] = {}
        for vnfc_id, points in self._points.get((vnfr_id, metric), {}).items():
            if vnfc_id not in live:
                continue
            for when, value in reversed(points):
                if when <= now:
                    if when > now - self.max_age:  # valid until, not at, its age-out
                        found[vnfc_id] = (when, value)
                    break
        return found

    def next_change(self, vnfr_id: str, metrics: Collection[Metric], now: float) -> float:
        """When what ``values`` answers changes with no new sample: a point ages out or one
        taken after ``now`` comes due."""
        soonest = math.inf
        for metric in metrics:
            for points in self._points.get((vnfr_id, metric), {}).values():
                due = bisect.bisect_right(points, (now, math.inf))
                if due < len(points):
                    soonest = min(soonest, points[due][0])
                if due and points[due - 1][0] + self.max_age > now:
                    soonest = min(soonest, points[due - 1][0] + self.max_age)
        return soonest

    def _prune(self, cutoff: float) -> None:
        """Drop the points taken before ``cutoff``: ``values`` never answers them again."""
        for key in list(self._points):
            series = self._points[key]
            for vnfc_id in list(series):
                points = series[vnfc_id]
                keep = bisect.bisect_left(points, (cutoff, -math.inf))
                if keep >= len(points):
                    del series[vnfc_id]
                elif keep:
                    del points[:keep]
            if not series:
                del self._points[key]


def _repeats(points: _Points, when: float, value: float, oldest: float) -> bool:
    """Whether a sample taken at ``when`` follows the newest point, still valid, with its value."""
    if not points:
        return False
    last_time, last_value = points[-1]
    return last_time <= when and last_time >= oldest and last_value == value
