"""Metric time series and KPIs."""

from __future__ import annotations

import builtins
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

from nubo.model.kpis import Kpi, KpiEvent
from nubo.model.metrics import Aggregate, Metric, Sample
from nubo.model.tenancy import SYSTEM, Scope


class SampleFeed:
    """The samples of some metrics written by this process since the feed was opened.

    A reader that keeps the newest values in memory takes what is new from
    here instead of querying the table on every pass. The feed holds at most
    ``limit`` samples; beyond, it drops them and says so (``overflowed``): its
    reader was not taking them and must read the table again.
    """

    def __init__(self, metrics: Collection[Metric], limit: int = 200_000) -> None:
        self.metrics = frozenset(metrics)
        self.limit = limit
        self.overflowed = False
        self._samples: list[Sample] = []

    def put(self, samples: Sequence[Sample]) -> None:
        """Keep the samples of the feed's metrics (called once they are stored)."""
        if self.overflowed:
            return
        metrics = self.metrics
        self._samples += [s for s in samples if s.metric in metrics]
        if len(self._samples) > self.limit:
            self.overflowed, self._samples = True, []

    def take(self) -> builtins.list[Sample]:
        """The samples put since the last call, in the order written."""
        taken, self._samples = self._samples, []
        return taken


@dataclass(frozen=True)
class PruneReport:
    rollups_written: int
    raw_deleted: int
    rollups_deleted: int


class MetricsReader(Protocol):
    """Reads the time series of VNFC metrics."""

    async def latest(
        self, metric: Metric, *, vnfr_id: str, max_age: float, now: float
    ) -> dict[str, float]:
        """Newest value per VNFC of the VNF, ignoring samples older than max_age seconds."""
        ...

    async def newest_time(
        self, metric: Metric, *, vnfr_id: str, max_age: float, now: float
    ) -> float | None:
        """When the newest sample of the VNF was taken (None without one within max_age)."""
        ...

    async def written_after(
        self,
        cursor: int | None,
        metrics: Collection[Metric],
        *,
        since: float,
        limit: int = 10_000,
    ) -> tuple[list[Sample], int | None]:
        """Samples of ``metrics`` stored after ``cursor`` (None: the first call), in the
        order written and none taken before ``since``; and the cursor for the next call."""
        ...

    def follow(self, metrics: Collection[Metric]) -> SampleFeed | None:
        """A feed of the samples of ``metrics`` this process writes from now on, until
        ``unfollow``; None when the reader cannot tell (its reader polls ``written_after``)."""
        ...

    def unfollow(self, feed: SampleFeed) -> None:
        """Stop putting samples into ``feed``."""
        ...

    async def series(
        self,
        metric: Metric,
        *,
        since: float,
        until: float,
        nsr_id: str | None = None,
        vnfr_id: str | None = None,
        vnfc_id: str | None = None,
        scope: Scope = SYSTEM,
    ) -> list[Sample]:
        """Samples with ``since <= time <= until``, oldest first."""
        ...

    async def aggregate(
        self,
        metric: Metric,
        aggregate: Aggregate,
        *,
        since: float,
        until: float,
        nsr_id: str | None = None,
        vnfr_id: str | None = None,
        vnfc_id: str | None = None,
        scope: Scope = SYSTEM,
    ) -> float | None:
        """One value over the samples in the window, None when there are none."""
        ...


class MetricRepository(MetricsReader, Protocol):
    """Samples of VNFC metrics: written raw, read as series or aggregates, rolled up."""

    async def write(self, samples: Sequence[Sample]) -> None: ...

    async def prune(self, now: float) -> PruneReport:
        """Roll old raw samples into per-minute rows; drop old rollups."""
        ...


class KpiRepository(Protocol):
    async def add(self, kpi: Kpi) -> None:
        """Insert a new KPI; ``Conflict`` when its id is taken."""
        ...

    async def get(self, kpi_id: str, scope: Scope = SYSTEM) -> Kpi: ...

    async def list(self, nsr_id: str | None = None, scope: Scope = SYSTEM) -> builtins.list[Kpi]:
        """Oldest first."""
        ...

    async def delete(self, kpi_id: str) -> None:
        """Remove the KPI and its events; ``NotFound`` when there is none."""
        ...

    async def record(self, kpi: Kpi, event: KpiEvent | None = None) -> bool:
        """Save an evaluated KPI and its event; False (nothing written) when it was deleted."""
        ...

    async def events(
        self,
        *,
        kpi_id: str | None = None,
        nsr_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
        limit: int = 100,
        scope: Scope = SYSTEM,
    ) -> builtins.list[KpiEvent]:
        """The matching events, newest first, at most ``limit``."""
        ...
