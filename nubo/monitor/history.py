"""Configuration history: an NS's lifecycle events, read beside its metrics.

The LCM operation occurrences are already persisted (and outlive a deleted
NSR), so the history is derived from them rather than kept twice: each
operation that overlaps the window becomes one event with the VNF/VNFC it
touched. Asked for a metric, the history adds the metric's aggregate per
bucket over the window, and for each event the aggregate just before it
started and just after it ended (for the VNF it touched, else the whole NS),
so "scale-out at t, CPU before/after" reads off one answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from nubo.model.metrics import Aggregate, Metric, Sample, aggregate_values
from nubo.model.records import LcmOpOcc
from nubo.model.states import FINAL_OP_STATES, LcmOperationType, OpState
from nubo.monitor.query import MetricsReader

#: window when none is given and the NS has no operation to start it at
DEFAULT_WINDOW = 3600.0
#: the default number of metric buckets over the window
DEFAULT_BUCKETS = 60
#: seconds before an operation's start and after its end that "before"/"after" cover
DEFAULT_AROUND = 60.0


class ConfigEvent(BaseModel):
    """One LCM operation of the NS as a configuration event."""

    model_config = ConfigDict(frozen=True)

    op_id: str
    operation: LcmOperationType
    state: OpState
    #: start, seconds since the epoch
    time: float
    #: when it reached a final state; None while it runs
    end_time: float | None = None
    vnfr_id: str | None = None
    vdu_id: str | None = None
    vnfc_id: str | None = None
    cause: str | None = None
    steps: int = 0
    error_code: str | None = None
    metric_before: float | None = None
    metric_after: float | None = None


class MetricBucket(BaseModel):
    model_config = ConfigDict(frozen=True)

    time: float
    value: float | None


class NsHistory(BaseModel):
    """The configuration events of a window, oldest first, with a metric when asked."""

    nsr_id: str
    since: float
    until: float
    events: list[ConfigEvent]
    metric: Metric | None = None
    aggregate: Aggregate | None = None
    step: float | None = None
    around: float | None = None
    buckets: list[MetricBucket] = []


def _param(op: LcmOpOcc, name: str) -> str | None:
    value = op.params.get(name)
    return str(value) if value not in (None, "") else None


def config_event(op: LcmOpOcc) -> ConfigEvent:
    error_code = op.error.get("code") if op.error else None
    return ConfigEvent(
        op_id=op.id,
        operation=op.operation,
        state=op.state,
        time=op.start_time.timestamp(),
        end_time=op.state_entered_time.timestamp() if op.state in FINAL_OP_STATES else None,
        vnfr_id=_param(op, "vnfrId"),
        vdu_id=_param(op, "vduId"),
        vnfc_id=_param(op, "vnfcInstanceId"),
        cause=_param(op, "cause"),
        steps=len(op.steps),
        error_code=str(error_code) if error_code is not None else None,
    )


def configuration_events(ops: Sequence[LcmOpOcc], since: float, until: float) -> list[ConfigEvent]:
    """Events of the operations that overlap ``[since, until]``, oldest first."""
    events = [config_event(op) for op in ops]
    overlapping = [
        e for e in events if e.time <= until and (e.end_time is None or e.end_time >= since)
    ]
    return sorted(overlapping, key=lambda e: (e.time, e.op_id))


def default_since(ops: Sequence[LcmOpOcc], until: float) -> float:
    """The start of the NS's first operation: its whole life; else an hour back."""
    starts = [op.start_time.timestamp() for op in ops]
    return min(starts) if starts else until - DEFAULT_WINDOW


async def ns_history(
    nsr_id: str,
    ops: Sequence[LcmOpOcc],
    since: float,
    until: float,
    *,
    reader: MetricsReader | None = None,
    metric: Metric | None = None,
    aggregate: Aggregate = Aggregate.AVG,
    step: float | None = None,
    around: float = DEFAULT_AROUND,
) -> NsHistory:
    """The NS's configuration history of the window, with ``metric`` read through ``reader``."""
    events = configuration_events(ops, since, until)
    if metric is None or reader is None:
        return NsHistory(nsr_id=nsr_id, since=since, until=until, events=events)
    step = step or max((until - since) / DEFAULT_BUCKETS, 1.0)
    samples = await reader.series(metric, since=since, until=until, nsr_id=nsr_id)
    with_metric = [
        await _before_after(e, reader, nsr_id, metric, aggregate, around) for e in events
    ]
    return NsHistory(
        nsr_id=nsr_id,
        since=since,
        until=until,
        events=with_metric,
        metric=metric,
        aggregate=aggregate,
        step=step,
        around=around,
        buckets=buckets(samples, aggregate, since, step),
    )


async def _before_after(
    event: ConfigEvent,
    reader: MetricsReader,
    nsr_id: str,
    metric: Metric,
    aggregate: Aggregate,
    around: float,
) -> ConfigEvent:
    # the VNF the operation touched, when it names one; else the whole NS
    vnfr_id = event.vnfr_id
    before = await reader.aggregate(
        metric,
        aggregate,
        since=event.time - around,
        until=event.time,
        nsr_id=nsr_id,
        vnfr_id=vnfr_id,
    )
    after = None
    if event.end_time is not None:
        after = await reader.aggregate(
            metric,
            aggregate,
            since=event.end_time,
            until=event.end_time + around,
            nsr_id=nsr_id,
            vnfr_id=vnfr_id,
        )
    return event.model_copy(update={"metric_before": before, "metric_after": after})


def buckets(
    samples: Sequence[Sample], aggregate: Aggregate, since: float, step: float
) -> list[MetricBucket]:
    """One aggregate per ``step`` seconds from ``since``; buckets without samples are left out."""
    grouped: dict[int, list[float]] = {}
    for sample in samples:
        grouped.setdefault(int((sample.time - since) // step), []).append(sample.value)
    return [
        MetricBucket(time=since + index * step, value=aggregate_values(values, aggregate))
        for index, values in sorted(grouped.items())
    ]
