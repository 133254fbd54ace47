"""MetricSampler: reads the resource use of every running VNFC from its VIM.

A reconciler: ``run_once`` asks the VIM for the stats of every RUNNING VNFC
of every NS that is not terminated, concurrently, and writes one sample per
metric. Each VIM call is bounded by ``timeout`` and the number of calls in
flight by ``concurrency``, so a slow or hung container costs one missing
sample, never a late round for the others. VIMs the fault watcher marked
unreachable are skipped: their calls would only time out.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from nubo.model.errors import NuboError
from nubo.model.metrics import Metric, Sample
from nubo.model.records import VnfcLocation
from nubo.model.states import NsStatus, VnfcState
from nubo.nfvo.service import NsService
from nubo.nfvo.vims import VimService
from nubo.vim.port import ServerStats

#: NSs whose running VNFCs are sampled: every one not terminated
SAMPLED_NS = frozenset(set(NsStatus) - {NsStatus.TERMINATED})

log = logging.getLogger("nubo.monitor")

Clock = Callable[[], float]


class SampleWriter(Protocol):
    async def write(self, samples: Sequence[Sample]) -> None: ...


@dataclass
class SamplingReport:
    """What one round did: samples written, VNFCs asked, and the ones that gave nothing."""

    samples: int = 0
    vnfcs: int = 0
    #: vnfc id -> why no stats came (timeout, VIM error)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def samples_of(
    stats: ServerStats, nsr_id: str, vnfr_id: str, vnfc_id: str, at: float
) -> list[Sample]:
    """The metric samples of one stats reading (CPU only when the VIM could tell it)."""
    values: list[tuple[Metric, float]] = []
    if stats.cpu_percent is not None:
        values += [
            (Metric.CPU_PERCENT, stats.cpu_percent),
            (Metric.CPU_IDLE, 100.0 - stats.cpu_percent),
        ]
    values.append((Metric.MEMORY_BYTES, float(stats.memory_bytes)))
    if stats.memory_limit_bytes > 0:
        values.append(
            (Metric.MEMORY_PERCENT, 100.0 * stats.memory_bytes / stats.memory_limit_bytes)
        )
    values += [
        (Metric.NET_RX_BYTES, float(stats.rx_bytes)),
        (Metric.NET_TX_BYTES, float(stats.tx_bytes)),
    ]
    return [Sample(at, nsr_id, vnfr_id, vnfc_id, metric, value) for metric, value in values]


class MetricSampler:
    """Samples every running VNFC once per ``run_once``."""

    def __init__(
        self,
        ns: NsService,
        vims: VimService,
        store_writer: SampleWriter,
        interval: float = 5.0,
        clock: Clock = time.time,
        *,
        timeout: float = 3.0,
        concurrency: int = 32,
    ) -> None:
        self.ns = ns
        self.vims = vims
        self.writer = store_writer
        self.interval = interval
        self.clock = clock
        self.timeout = timeout
        #: stats calls in flight at most
        self.concurrency = concurrency

    async def run_once(self) -> SamplingReport:
        started = time.monotonic()
        report = SamplingReport()
        # from the VNFC index: no NSR is loaded to find what runs
        targets = [
            vnfc
            for vnfc in await self.ns.vnfc_locations(ns_statuses=SAMPLED_NS)
            if vnfc.state is VnfcState.RUNNING and vnfc.vc_id
        ]
        report.vnfcs = len(targets)
        down = self.vims.unreachable()
        for vnfc in targets:
            if vnfc.vim_id in down:
                report.failed[vnfc.vnfc_id] = "VIM unreachable"
        queue = iter([vnfc for vnfc in targets if vnfc.vim_id not in down])
        samples: list[Sample] = []

        async def worker() -> None:
            # a few workers take the VNFCs in turn: a task per VNFC would cost more
            # than its stats call on a fast VIM
            for vnfc in queue:
                samples.extend(await self._sample(vnfc, report))

        async with asyncio.TaskGroup() as group:
            for _ in range(min(self.concurrency, len(targets))):
                group.create_task(worker())
        await self.writer.write(samples)
        report.samples = len(samples)
        report.seconds = time.monotonic() - started
        if report.failed:
            log.info(
                "monitor.sampled vnfcs=%d samples=%d failed=%d",
                report.vnfcs,
                report.samples,
                len(report.failed),
            )
        return report

    async def _sample(self, vnfc: VnfcLocation, report: SamplingReport) -> list[Sample]:
        try:
            driver = await self.vims.driver(vnfc.vim_id)
            async with asyncio.timeout(self.timeout):
                stats = await driver.server_stats(vnfc.vc_id)
        except TimeoutError:
            report.failed[vnfc.vnfc_id] = f"no answer within {self.timeout} s"
            return []
        except NuboError as exc:
            # a VNFC stopping or vanishing between the listing and the call
            report.failed[vnfc.vnfc_id] = exc.detail
            log.debug("monitor.no_stats ns=%s vnfc=%s reason=%s", vnfc.nsr_id, vnfc.vnfc_id, exc)
            return []
        return samples_of(stats, vnfc.nsr_id, vnfc.vnfr_id, vnfc.vnfc_id, self.clock())
