"""Metrics of VNFC instances: names, samples, aggregates and how they are computed.

nubo's own metric names are dotted (``cpu.percent``); the Open Baton names that
descriptors use are accepted as aliases (``system.cpu.util[,idle]`` is the CPU
idle percent, as in Zabbix, which Open Baton's monitoring used).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from enum import StrEnum
from typing import NamedTuple


class Metric(StrEnum):
    #: CPU used, percent of the VNFC's CPU share (its limit, else one core): 0..100
    CPU_PERCENT = "cpu.percent"
    #: 100 - cpu.percent
    CPU_IDLE = "cpu.idle"
    MEMORY_BYTES = "memory.bytes"
    #: memory used, percent of the VNFC's memory limit
    MEMORY_PERCENT = "memory.percent"
    #: cumulative counters since the container started
    NET_RX_BYTES = "net.rx_bytes"
    NET_TX_BYTES = "net.tx_bytes"


#: descriptor metric names (Open Baton / Zabbix keys) -> nubo's names
ALIASES: dict[str, Metric] = {
    "system.cpu.util[,idle]": Metric.CPU_IDLE,
    "system.cpu.util": Metric.CPU_PERCENT,
    "system.cpu.util[,user]": Metric.CPU_PERCENT,
    "vm.memory.size[used]": Metric.MEMORY_BYTES,
    "vm.memory.size[pused]": Metric.MEMORY_PERCENT,
}


def metric_named(name: str) -> Metric | None:
    """nubo's metric for a nubo or descriptor name, or None when unknown."""
    if name in ALIASES:
        return ALIASES[name]
    try:
        return Metric(name)
    except ValueError:
        return None


class Aggregate(StrEnum):
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    SUM = "sum"
    COUNT = "count"
    LAST = "last"
    P50 = "p50"
    P90 = "p90"
    P95 = "p95"
    P99 = "p99"


class Sample(NamedTuple):
    """One value of one metric of one VNFC at ``time`` (seconds since the epoch).

    A named tuple rather than a dataclass: sampling and the auto-scaler make
    tens of thousands a round, and a tuple is built in a third of the time.
    """

    time: float
    nsr_id: str
    vnfr_id: str
    vnfc_id: str
    metric: Metric
    value: float


_PERCENTILES = {Aggregate.P50: 50.0, Aggregate.P90: 90.0, Aggregate.P95: 95.0, Aggregate.P99: 99.0}


def percentile(values: Sequence[float], rank: float) -> float | None:
    """The ``rank``-th percentile with linear interpolation (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * rank / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def aggregate_values(values: Sequence[float], aggregate: Aggregate) -> float | None:
    """One aggregate of values in time order; None for no values (count: 0)."""
    if aggregate is Aggregate.COUNT:
        return float(len(values))
    if not values:
        return None
    if aggregate is Aggregate.AVG:
        return math.fsum(values) / len(values)
    if aggregate is Aggregate.SUM:
        return math.fsum(values)
    if aggregate is Aggregate.MIN:
        return min(values)
    if aggregate is Aggregate.MAX:
        return max(values)
    if aggregate is Aggregate.LAST:
        return values[-1]
    return percentile(values, _PERCENTILES[aggregate])
