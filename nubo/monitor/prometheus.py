"""Prometheus text exposition (format 0.0.4) of the current VNFC metrics.

A scrape shows the newest sample of each metric per VNFC (none older than
``max_age``), labelled so a dashboard can group by NS, VNF or VNFC, plus a
few orchestrator gauges. The stored series stay the source of truth; this is
only a view of their latest values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from nubo.model.metrics import Metric
from nubo.model.records import NetworkServiceRecord
from nubo.model.states import NsStatus
from nubo.monitor.query import MetricsReader

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@dataclass(frozen=True)
class Family:
    name: str
    type: str
    help: str


FAMILIES: dict[Metric, Family] = {
    Metric.CPU_PERCENT: Family(
        "nubo_vnfc_cpu_percent", "gauge", "CPU used, percent of the VNFC's CPU share"
    ),
    Metric.CPU_IDLE: Family(
        "nubo_vnfc_cpu_idle_percent", "gauge", "CPU idle, percent of the VNFC's CPU share"
    ),
    Metric.MEMORY_BYTES: Family(
        "nubo_vnfc_memory_bytes", "gauge", "Memory used by the VNFC without page cache"
    ),
    Metric.MEMORY_PERCENT: Family(
        "nubo_vnfc_memory_percent", "gauge", "Memory used, percent of the VNFC's memory limit"
    ),
    Metric.NET_RX_BYTES: Family(
        "nubo_vnfc_network_receive_bytes_total", "counter", "Bytes received by the VNFC"
    ),
    Metric.NET_TX_BYTES: Family(
        "nubo_vnfc_network_transmit_bytes_total", "counter", "Bytes sent by the VNFC"
    ),
}


def escape(value: str) -> str:
    """A label value as the exposition format wants it."""
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def labels(pairs: dict[str, str]) -> str:
    inner = ",".join(f'{key}="{escape(value)}"' for key, value in pairs.items())
    return "{" + inner + "}" if inner else ""


def number(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value)) if not float(value).is_integer() else str(int(value))


def header(family: Family) -> list[str]:
    return [f"# HELP {family.name} {family.help}", f"# TYPE {family.name} {family.type}"]


async def vnfc_lines(
    reader: MetricsReader, nsrs: Iterable[NetworkServiceRecord], now: float, max_age: float
) -> list[str]:
    """The VNFC metric families, newest value per VNFC."""
    nsrs = [nsr for nsr in nsrs if nsr.status is not NsStatus.TERMINATED]
    out: list[str] = []
    for metric, family in FAMILIES.items():
        out += header(family)
        for nsr in nsrs:
            for vnfr in nsr.vnfr:
                values = await reader.latest(metric, vnfr_id=vnfr.id, max_age=max_age, now=now)
                for vnfc in vnfr.vnfcs():
                    if vnfc.id not in values:
                        continue
                    pairs = {
                        "ns_id": nsr.id,
                        "ns_name": nsr.name,
                        "vnf_name": vnfr.name,
                        "vnfc_id": vnfc.id,
                        "vnfc_hostname": vnfc.hostname,
                    }
                    out.append(f"{family.name}{labels(pairs)} {number(values[vnfc.id])}")
    return out


def orchestrator_lines(
    nsrs: Iterable[NetworkServiceRecord], active_alarms: int | None = None
) -> list[str]:
    """Gauges of the orchestrator itself: NSs by status, VNFCs by state, active alarms."""
    nsrs = list(nsrs)
    ns_family = Family("nubo_network_services", "gauge", "Network services by status")
    out = header(ns_family)
    for status in NsStatus:
        count = sum(1 for nsr in nsrs if nsr.status is status)
        out.append(f'{ns_family.name}{{status="{status.value}"}} {count}')
    vnfc_family = Family("nubo_vnfcs", "gauge", "VNFC instances by state")
    out += header(vnfc_family)
    states: dict[str, int] = {}
    for nsr in nsrs:
        for vnfc in nsr.all_vnfcs():
            states[vnfc.state.value] = states.get(vnfc.state.value, 0) + 1
    out += [f'{vnfc_family.name}{{state="{s}"}} {n}' for s, n in sorted(states.items())]
    if active_alarms is not None:
        alarm_family = Family("nubo_alarms_active", "gauge", "Active alarms")
        out += header(alarm_family)
        out.append(f"{alarm_family.name} {active_alarms}")
    return out


async def exposition(
    reader: MetricsReader,
    nsrs: Iterable[NetworkServiceRecord],
    now: float,
    *,
    max_age: float = 60.0,
    active_alarms: int | None = None,
) -> str:
    """The whole scrape: VNFC metrics, then orchestrator gauges; ends with a newline."""
    nsrs = list(nsrs)
    lines = await vnfc_lines(reader, nsrs, now, max_age)
    lines += orchestrator_lines(nsrs, active_alarms)
    return "\n".join(lines) + "\n"
