"""NewestValues: the newest metric values of the VNFCs the auto-scaler watches, in memory.

A pass of the auto-scaler needs, per VNF with policies, the newest value of
each VNFC for the policies' metrics. Asking the store per VNF costs queries
in proportion to the live NSs on every pass. Instead the first pass reads the
samples of the last ``max_age`` seconds (``MetricsReader.written_after``, a
range scan in the order written), and every later pass takes only what this
process wrote since, from a feed the store fills as it writes
(``MetricsReader.follow``): at rest no pass queries the samples at all. A
reader without a feed is read with ``written_after`` on every pass, from the
cursor of the last one. Per VNFC and metric the points of the last ``max_age``
seconds are kept; the pass also learns which VNFs got new values, so it
re-evaluates only those (and those whose time has come: a period's end, a
cooldown's end, a value ageing out).

``close`` drops the feed and what was read: the next pass reads the table
again. The auto-scaler closes when its loop stops (another replica may lead
and sample meanwhile), so a loop started again starts from what is stored.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Collection

from nubo.model.metrics import Metric, Sample
from nubo.monitor.query import MetricsReader
from nubo.store.port import SampleFeed

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
        #: the samples written since the table was read (None: none opened or no feed)
        self._feed: SampleFeed | None = None
        #: whether the feed was asked for since the last ``close``
        self._opened = False
        #: whether the table was read up to the samples the feed holds
        self._caught_up = False
        self._metrics: frozenset[Metric] = frozenset()
        #: (vnfr id, metric) -> vnfc id -> points
        self._points: dict[tuple[str, Metric], dict[str, _Points]] = {}
        self._pruned_at = -math.inf

    def close(self) -> None:
        """Forget the feed and the points: the next ``refresh`` reads the table again."""
        if self._feed is not None:
            self.reader.unfollow(self._feed)
        self._feed, self._opened, self._caught_up = None, False, False
        self._cursor, self._points = None, {}

    async def refresh(self, metrics: Collection[Metric], now: float) -> set[str]:
        """Take the samples stored since the last call; the VNFs (vnfr ids) whose newest
        values changed with them (a sample repeating the newest value of its VNFC changes
        no decision: the value only stays valid longer)."""
        wanted = frozenset(metrics)
        if wanted - self._metrics or (self._feed is not None and self._feed.overflowed):
            # a metric not followed so far, or a feed nobody took from in time:
            # read the recent past of all of them again
            self.close()
        self._metrics = wanted
        fresh: set[str] = set()
        if not self._opened and wanted:
            # opened before the table is read: nothing written meanwhile is missed
            # (what both give is kept once)
            self._feed, self._opened = self.reader.follow(wanted), True
        if self._caught_up and self._feed is not None:
            self._add(self._feed.take(), now, fresh)
        else:
            await self._read_table(wanted, now, fresh)
            if self._caught_up and self._feed is not None:
                self._add(self._feed.take(), now, fresh)
        if now - self._pruned_at >= self.max_age:
            self._prune(now - self.max_age)
            self._pruned_at = now
        return fresh

    async def _read_table(self, wanted: frozenset[Metric], now: float, fresh: set[str]) -> None:
        """Read the samples stored after the cursor, a bounded number of batches a pass."""
        for _ in range(BATCHES_PER_PASS):
            samples, self._cursor = await self.reader.written_after(
                self._cursor, wanted, since=now - self.max_age, limit=BATCH
            )
            self._add(samples, now, fresh)
            if len(samples) < BATCH:
                # with a feed the table is not read again; without, from the cursor
                self._caught_up = True
                return

    def _add(self, samples: Collection[Sample], now: float, fresh: set[str]) -> None:
        oldest = now - self.max_age
        for sample in samples:
            series = self._points.setdefault((sample.vnfr_id, sample.metric), {})
            points = series.setdefault(sample.vnfc_id, [])
            point = (sample.time, sample.value)
            at = bisect.bisect_left(points, point)
            if at < len(points) and points[at] == point:
                continue  # read from the table and taken from the feed
            if not _repeats(points, sample.time, sample.value, oldest):
                fresh.add(sample.vnfr_id)
            points.insert(at, point)

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
