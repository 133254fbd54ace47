"""MetricSampler: reads the resource use of every running VNFC from its VIM.

A reconciler: ``run_once`` asks each VIM for the stats of its RUNNING VNFCs
of every NS that is not terminated, in one batch per VIM (the VIMs at once),
and writes one sample per metric. Which VNFCs run comes from the VNFC
index, read again only when the sampled NSs' fingerprint moved
(``NsService.fingerprint``: one row), and every ``reindex`` seconds in any
case. The driver bounds each server's answer by ``timeout``
(``VimDriver.servers_stats``), so a slow or hung container costs one missing
sample, never a late round for the others. VIMs the fault watcher marked
unreachable are skipped: their calls would only time out.
"""

from __future__ import annotations

import asyncio
import logging
import math
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
_RUNNING = frozenset({VnfcState.RUNNING})

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
    # built directly: a round makes six per running VNFC
    memory = float(stats.memory_bytes)
    found = [Sample(at, nsr_id, vnfr_id, vnfc_id, Metric.MEMORY_BYTES, memory)]
    if stats.cpu_percent is not None:
        cpu = stats.cpu_percent
        found.append(Sample(at, nsr_id, vnfr_id, vnfc_id, Metric.CPU_PERCENT, cpu))
        found.append(Sample(at, nsr_id, vnfr_id, vnfc_id, Metric.CPU_IDLE, 100.0 - cpu))
    if stats.memory_limit_bytes > 0:
        share = 100.0 * stats.memory_bytes / stats.memory_limit_bytes
        found.append(Sample(at, nsr_id, vnfr_id, vnfc_id, Metric.MEMORY_PERCENT, share))
    found.append(Sample(at, nsr_id, vnfr_id, vnfc_id, Metric.NET_RX_BYTES, float(stats.rx_bytes)))
    found.append(Sample(at, nsr_id, vnfr_id, vnfc_id, Metric.NET_TX_BYTES, float(stats.tx_bytes)))
    return found


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
        reindex: float = 30.0,
    ) -> None:
        self.ns = ns
        self.vims = vims
        self.writer = store_writer
        self.interval = interval
        self.clock = clock
        self.timeout = timeout
        self.reindex = reindex
        self._located: list[VnfcLocation] = []
        self._fingerprint: tuple[int, int] | None = None
        self._reindex_by = -math.inf

    async def run_once(self) -> SamplingReport:
        started = time.monotonic()
        report = SamplingReport()
        targets = await self._targets(started)
        report.vnfcs = len(targets)
        down = self.vims.unreachable()
        by_vim: dict[str, list[VnfcLocation]] = {}
        for vnfc in targets:
            if vnfc.vim_id in down:
                report.failed[vnfc.vnfc_id] = "VIM unreachable"
            else:
                by_vim.setdefault(vnfc.vim_id, []).append(vnfc)
        samples: list[Sample] = []
        # one batch per VIM, the VIMs at once: the driver reads what it can in one
        # pass and bounds the calls it still has to make
        async with asyncio.TaskGroup() as group:
            for vim_id, located in by_vim.items():
                group.create_task(self._sample_vim(vim_id, located, samples, report))
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

    async def _targets(self, now: float) -> list[VnfcLocation]:
        """The running VNFCs, from the VNFC index (no NSR is loaded); read again only
        when the sampled NSs' fingerprint moved, or every ``reindex`` seconds."""
        # read before the index: a write in between moves it for the next round
        fingerprint = await self.ns.fingerprint(SAMPLED_NS)
        if fingerprint != self._fingerprint or now >= self._reindex_by:
            self._located = [
                vnfc
                for vnfc in await self.ns.vnfc_locations(ns_statuses=SAMPLED_NS, states=_RUNNING)
                if vnfc.vc_id  # RUNNING: the query asked for that state only
            ]
            self._fingerprint, self._reindex_by = fingerprint, now + self.reindex
        return self._located

    async def _sample_vim(
        self,
        vim_id: str,
        located: list[VnfcLocation],
        samples: list[Sample],
        report: SamplingReport,
    ) -> None:
        try:
            driver = await self.vims.driver(vim_id)
            answers = await driver.servers_stats([vnfc.vc_id for vnfc in located], self.timeout)
        except NuboError as exc:  # the whole VIM: e.g. it stopped answering
            for vnfc in located:
                report.failed[vnfc.vnfc_id] = exc.detail
            return
        at = self.clock()
        for vnfc in located:
            stats = answers.get(vnfc.vc_id)
            if isinstance(stats, ServerStats):
                samples.extend(samples_of(stats, vnfc.nsr_id, vnfc.vnfr_id, vnfc.vnfc_id, at))
                continue
            # a VNFC stopping or vanishing between the listing and the call, or too slow
            reason = stats.detail if stats is not None else "the VIM gave no answer for it"
            report.failed[vnfc.vnfc_id] = reason
            log.debug("monitor.no_stats ns=%s vnfc=%s reason=%s", vnfc.nsr_id, vnfc.vnfc_id, reason)
