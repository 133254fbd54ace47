"""``SqlMetricStore``: VNFC metric time series in the ``metric_samples`` table.

Raw samples (``resolution`` 0) are kept for ``raw_retention`` seconds; then
``prune`` rolls each complete minute of a VNFC's metric into one row holding
the average in ``value`` and the extremes in ``min_value``/``max_value``, and
deletes the raw rows. Rollups are deleted after ``rollup_retention``. Queries
read raw rows and rollups alike: a rollup counts as one sample of its average,
except that ``min``/``max`` use its extremes. Percentiles are computed in
Python over the rows of the window (portable across SQLite and PostgreSQL,
and windows are small: minutes of raw rows, or rollups).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, delete, func, insert, select

from nubo.model.metrics import Aggregate, Metric, Sample, aggregate_values
from nubo.model.tenancy import SYSTEM, Scope
from nubo.store.database import Database
from nubo.store.port import PruneReport, SampleFeed
from nubo.store.tables import metric_samples as t
from nubo.store.tables import nsrs

RAW_RETENTION = 3600.0
ROLLUP_RETENTION = 7 * 86400.0
ROLLUP_STEP = 60


#: each metric by its stored name (a dict lookup costs less than the enum's own)
_METRICS = {metric.value: metric for metric in Metric}

#: the columns of a raw sample: a ``Sample``'s fields, in their order; the database
#: fills ``resolution`` (0) and leaves the extremes NULL
_RAW_COLUMNS = ("time", "nsr_id", "vnfr_id", "vnfc_id", "metric", "value")
_INSERT_RAW = (
    f"INSERT INTO {t.name} ({', '.join(_RAW_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _RAW_COLUMNS)})"
)


class SqlMetricStore:
    """The ``MetricRepository`` port: the ``MetricsReader``, the sample writer, retention."""

    def __init__(
        self,
        database: Database,
        *,
        raw_retention: float = RAW_RETENTION,
        rollup_retention: float = ROLLUP_RETENTION,
        rollup_step: int = ROLLUP_STEP,
    ) -> None:
        self._engine = database.engine
        self.raw_retention = raw_retention
        self.rollup_retention = rollup_retention
        self.rollup_step = rollup_step
        #: the feeds ``write`` puts stored samples into
        self._feeds: list[SampleFeed] = []

    async def write(self, samples: Sequence[Sample]) -> None:
        """Insert raw samples, all at once.

        Sampling writes a row per metric per VNFC every interval, tens of
        thousands a round with thousands of VNFCs: the rows go to the driver
        as plain tuples (PostgreSQL: one COPY; SQLite: one executemany),
        without SQLAlchemy's per-row parameter processing, which cost ten
        times the database's own work.
        """
        if not samples:
            return
        # a sample is its row (its metric a str enum, which the drivers take as the
        # string it is): no tuple is built per row
        if self._engine.dialect.name == "postgresql":
            async with self._engine.connect() as conn:  # one COPY is atomic by itself
                raw = await conn.get_raw_connection()
                copy = raw.driver_connection.copy_records_to_table  # type: ignore[union-attr]
                await copy(t.name, records=samples, columns=_RAW_COLUMNS)
        else:
            async with self._engine.begin() as conn:
                await conn.exec_driver_sql(_INSERT_RAW, list(samples))
        for feed in self._feeds:
            feed.put(samples)

    def follow(self, metrics: Collection[Metric]) -> SampleFeed:
        feed = SampleFeed(metrics)
        self._feeds.append(feed)
        return feed

    def unfollow(self, feed: SampleFeed) -> None:
        if feed in self._feeds:
            self._feeds.remove(feed)

    # -- MetricsReader --------------------------------------------------------------
    async def latest(
        self, metric: Metric, *, vnfr_id: str, max_age: float, now: float
    ) -> dict[str, float]:
        newest = (
            select(t.c.vnfc_id, func.max(t.c.time).label("time"))
            .where(
                t.c.metric == metric.value,
                t.c.vnfr_id == vnfr_id,
                t.c.time >= now - max_age,
                t.c.time <= now,
            )
            .group_by(t.c.vnfc_id)
            .subquery()
        )
        query = (
            select(t.c.vnfc_id, t.c.value)
            .join(newest, and_(t.c.vnfc_id == newest.c.vnfc_id, t.c.time == newest.c.time))
            .where(t.c.metric == metric.value, t.c.vnfr_id == vnfr_id)
            .order_by(t.c.id)
        )
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return {row.vnfc_id: float(row.value) for row in rows}

    async def newest_time(
        self, metric: Metric, *, vnfr_id: str, max_age: float, now: float
    ) -> float | None:
        query = select(func.max(t.c.time)).where(
            t.c.metric == metric.value,
            t.c.vnfr_id == vnfr_id,
            t.c.time >= now - max_age,
            t.c.time <= now,
        )
        async with self._engine.connect() as conn:
            newest = (await conn.execute(query)).scalar()
        return None if newest is None else float(newest)

    async def written_after(
        self,
        cursor: int | None,
        metrics: Collection[Metric],
        *,
        since: float,
        limit: int = 10_000,
    ) -> tuple[list[Sample], int | None]:
        """Raw samples of ``metrics`` stored after row ``cursor``, in the order they were
        written, none taken before ``since``; and the cursor to pass next time.

        A reader that keeps the newest values itself asks only for what is new:
        one range scan of the primary key, whatever the number of VNFCs.
        """
        if not metrics:
            return [], cursor
        query = (
            select(t.c.id, t.c.time, t.c.nsr_id, t.c.vnfr_id, t.c.vnfc_id, t.c.metric, t.c.value)
            .where(
                t.c.resolution == 0,
                t.c.metric.in_(sorted(m.value for m in metrics)),
                t.c.time >= since,
            )
            .order_by(t.c.id)
            .limit(limit)
        )
        if cursor is not None:
            query = query.where(t.c.id > cursor)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        samples = [
            Sample(r.time, r.nsr_id, r.vnfr_id, r.vnfc_id, _METRICS[r.metric], float(r.value))
            for r in rows
        ]
        return samples, (rows[-1].id if rows else cursor)

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
        rows = await self._rows(metric, since, until, nsr_id, vnfr_id, vnfc_id, scope)
        return [
            Sample(r.time, r.nsr_id, r.vnfr_id, r.vnfc_id, metric, float(r.value)) for r in rows
        ]

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
        rows = await self._rows(metric, since, until, nsr_id, vnfr_id, vnfc_id, scope)
        if aggregate is Aggregate.MIN:
            values = [r.min_value if r.min_value is not None else r.value for r in rows]
        elif aggregate is Aggregate.MAX:
            values = [r.max_value if r.max_value is not None else r.value for r in rows]
        else:
            values = [r.value for r in rows]
        return aggregate_values([float(v) for v in values], aggregate)

    async def _rows(
        self,
        metric: Metric,
        since: float,
        until: float,
        nsr_id: str | None,
        vnfr_id: str | None,
        vnfc_id: str | None,
        scope: Scope,
    ) -> list[Any]:
        where: list[ColumnElement[bool]] = [
            t.c.metric == metric.value,
            t.c.time >= since,
            t.c.time <= until,
        ]
        if scope.visible is not None:
            # samples belong to their NS's project (see ``nubo.model.tenancy``)
            where.append(t.c.nsr_id.in_(_nsrs_of(scope.visible)))
        for column, wanted in (
            (t.c.nsr_id, nsr_id),
            (t.c.vnfr_id, vnfr_id),
            (t.c.vnfc_id, vnfc_id),
        ):
            if wanted is not None:
                where.append(column == wanted)
        query = (
            select(
                t.c.time,
                t.c.nsr_id,
                t.c.vnfr_id,
                t.c.vnfc_id,
                t.c.value,
                t.c.min_value,
                t.c.max_value,
            )
            .where(*where)
            .order_by(t.c.time, t.c.id)
        )
        async with self._engine.connect() as conn:
            return list((await conn.execute(query)).all())

    # -- retention --------------------------------------------------------------------
    async def prune(self, now: float) -> PruneReport:
        """Roll raw rows older than ``raw_retention`` into per-minute rows; drop old rollups.

        Only whole minutes are rolled up (the cut-off is aligned down to the
        step), so a minute is never split into two rollup rows. The transaction
        starts with a DELETE so SQLite takes its write lock first (see ``rows``).
        """
        step = self.rollup_step
        cutoff = math.floor((now - self.raw_retention) / step) * step
        async with self._engine.begin() as conn:
            gone = await conn.execute(
                delete(t).where(t.c.resolution > 0, t.c.time < now - self.rollup_retention)
            )
            raw = (
                await conn.execute(
                    select(
                        t.c.time, t.c.nsr_id, t.c.vnfr_id, t.c.vnfc_id, t.c.metric, t.c.value
                    ).where(t.c.resolution == 0, t.c.time < cutoff)
                )
            ).all()
            rollups = _rollups(raw, step)
            if rollups:
                await conn.execute(insert(t), rollups)
            deleted = 0
            if raw:
                result = await conn.execute(delete(t).where(t.c.resolution == 0, t.c.time < cutoff))
                deleted = result.rowcount
        return PruneReport(len(rollups), deleted, gone.rowcount)


def _rollups(rows: Sequence[Any], step: int) -> list[dict[str, Any]]:
    """One row per (VNFC, metric, minute) with the average, minimum and maximum."""
    buckets: dict[tuple[str, str, str, str, float], list[float]] = defaultdict(list)
    for row in rows:
        start = math.floor(row.time / step) * step
        key = (row.nsr_id, row.vnfr_id, row.vnfc_id, row.metric, float(start))
        buckets[key].append(float(row.value))
    return [
        {
            "time": start,
            "nsr_id": nsr_id,
            "vnfr_id": vnfr_id,
            "vnfc_id": vnfc_id,
            "metric": metric,
            "value": math.fsum(values) / len(values),
            "min_value": min(values),
            "max_value": max(values),
            "resolution": step,
        }
        for (nsr_id, vnfr_id, vnfc_id, metric, start), values in sorted(buckets.items())
    ]


def _nsrs_of(project_id: str) -> Select[Any]:
    """The ids of the project's NSs, as a subquery on the indexed project column."""
    return select(nsrs.c.id).where(nsrs.c.project_id == project_id)
