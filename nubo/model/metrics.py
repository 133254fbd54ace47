"""Metrics of VNFC instances: names, samples, aggregates.

nubo's own metric names are dotted (``cpu.percent``); the Open Baton names that
descriptors use are accepted as aliases (``system.cpu.util[,idle]`` is the CPU
idle percent, as in Zabbix, which Open Baton's monitoring used).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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


@dataclass(frozen=True)
class Sample:
    """One value of one metric of one VNFC at ``time`` (seconds since the epoch)."""

    time: float
    nsr_id: str
    vnfr_id: str
    vnfc_id: str
    metric: Metric
    value: float
