"""Start-up reconciliation: make the records and the VIM agree.

After recovery has finished or rolled back every interrupted operation, each
NS this orchestrator knows is compared with what its VIM reports under the NS
label. Servers and networks that no record owns (left by a crash between a
VIM call and the save that would have recorded it, or duplicated) are
removed; VNFCs whose server is gone or not running are recorded as such, so
that fault management sees and heals them. Only NSs of this orchestrator's
own database are touched: another nubo on the same Docker Engine keeps its
resources.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from nubo.model.errors import VimError
from nubo.model.records import NetworkServiceRecord
from nubo.model.states import NsStatus, VnfcState
from nubo.nfvo.service import NsService
from nubo.vim.port import LABEL_VNFC, ServerStatus, VimDriver
from nubo.vnfm.generic import ns_labels, vnfc_state_of

log = logging.getLogger("nubo.nfvo")


@dataclass
class Difference:
    """One difference found between records and the VIM, and what was done about it."""

    nsr_id: str
    what: str
    action: str


@dataclass
class ReconcileReport:
    differences: list[Difference] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def add(self, nsr_id: str, what: str, action: str) -> None:
        self.differences.append(Difference(nsr_id, what, action))
        log.warning("reconcile ns=%s found=%r action=%s", nsr_id, what, action)


class Reconciler:
    """Compares every NS's records with its VIM by label, and repairs the differences."""

    def __init__(self, ns: NsService) -> None:
        self.ns = ns

    async def run_once(self) -> ReconcileReport:
        report = ReconcileReport()
        nsrs = await self.ns.list(include_terminated=True)
        busy = await self.ns.runner.locks.holders(nsr.id for nsr in nsrs)
        for nsr in nsrs:
            if nsr.id in busy:
                report.skipped.append(nsr.id)  # an operation owns it right now
                continue
            try:
                driver = await self.ns.vims.driver(nsr.vim_id)
                await self._reconcile(driver, nsr, report)
            except VimError as exc:
                report.skipped.append(nsr.id)
                log.warning("reconcile.skipped ns=%s error=%s", nsr.id, exc.detail)
        return report

    async def _reconcile(
        self, driver: VimDriver, nsr: NetworkServiceRecord, report: ReconcileReport
    ) -> None:
        gone = nsr.status == NsStatus.TERMINATED
        owned = {} if gone else {c.vc_id: c for c in nsr.all_vnfcs() if c.vc_id}
        seen: set[str] = set()
        for server in await driver.list_servers(ns_labels(nsr.id)):
            vnfc = owned.get(server.id)
            if vnfc is None or server.labels.get(LABEL_VNFC) != vnfc.id:
                await driver.delete_server(server.id)
                report.add(nsr.id, f"server {server.name} has no VNFC record", "removed")
                continue
            seen.add(server.id)
            observed = vnfc_state_of(server.status)
            stopped = vnfc.state == VnfcState.RUNNING and server.status != ServerStatus.RUNNING
            if stopped and await self.ns.observe_vnfc(nsr.id, vnfc.id, observed):
                report.add(nsr.id, f"VNFC {vnfc.hostname} is {observed.value}", "recorded")
        for vc_id, vnfc in owned.items():
            missing = vc_id not in seen and vnfc.state == VnfcState.RUNNING
            if missing and await self.ns.observe_vnfc(nsr.id, vnfc.id, VnfcState.FAILED):
                report.add(nsr.id, f"VNFC {vnfc.hostname} has no server", "recorded FAILED")
        networks = set() if gone else {v.vim_network_id for v in nsr.vlr if v.vim_network_id}
        for network in await driver.list_networks(ns_labels(nsr.id)):
            if network.id not in networks:
                await driver.delete_network(network.id)
                report.add(nsr.id, f"network {network.name} has no VLR", "removed")
