"""MetricsReader: the query interface over stored VNFC metrics.

Auto-scaling, the API and the CLI read metrics only through this Protocol, so
the store behind it (SQL today) can change without touching them.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

from nubo.model.metrics import Aggregate, Metric, Sample


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

    async def series(
        self,
        metric: Metric,
        *,
        since: float,
        until: float,
        nsr_id: str | None = None,
        vnfr_id: str | None = None,
        vnfc_id: str | None = None,
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
    ) -> float | None:
        """One value over the samples in the window, None when there are none."""
        ...
