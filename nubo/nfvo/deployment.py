"""The VIM work of an instantiation: images, networks, reservations, containers, starts.

What an NS needs from the VIM is asked all at once wherever the records
allow (see ``waves``); each method records on the NSR what the VIM did and
saves once, so that the steps of ``NsWorkflows.instantiate`` stay idempotent:
run again after an interruption, each finds done what was done.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from nubo.model.descriptors import Nsd
from nubo.model.errors import ImageNotFound, NotFound
from nubo.model.records import NetworkServiceRecord, VnfcInstance, VnfRecord
from nubo.model.states import VnfcState, VnfStatus
from nubo.nfvo.operations import OperationContext
from nubo.nfvo.planning import links_for
from nubo.nfvo.waves import raise_first, settle
from nubo.vim.port import LABEL_VL, Network, NetworkSpec, ServerStatus, VimDriver
from nubo.vnfm.generic import GenericVnfm, ns_labels

log = logging.getLogger("nubo.nfvo")


@dataclass(frozen=True)
class Timeouts:
    """Bounds of every wait on a VIM, in seconds."""

    start: float = 60.0
    stop: float = 10.0
    #: each lifecycle script
    script: float = 300.0


def nubo_env(nsr: NetworkServiceRecord, vnfr: VnfRecord, vnfc: VnfcInstance) -> dict[str, str]:
    """Variables every VNFC gets so that it can tell who and where it is."""
    return {
        "NUBO_NS_ID": nsr.id,
        "NUBO_VNF_NAME": vnfr.name,
        "NUBO_VNFC_ID": vnfc.id,
        "NUBO_VNFC_HOSTNAME": vnfc.hostname,
    }


class NsDeployment:
    """The instantiation's VIM steps, for one VNFM and its timeouts."""

    def __init__(self, vnfm: GenericVnfm, timeouts: Timeouts) -> None:
        self.vnfm = vnfm
        self.timeouts = timeouts

    async def forget_lost(self, ctx: OperationContext, driver: VimDriver) -> None:
        """Make again the reservations the VIM lost, with the addresses the record keeps.

        A VIM keeps CREATED servers in memory (the Pop semantics), so an
        orchestrator or VIM restart between two runs loses them, while the
        NSR still holds each VNFC's addresses: they are reserved again on the
        same networks, so dependants keep what they were told. A VNFC whose
        network is gone too (removed by hand) is dropped, and the run plans it
        anew on a new network. A container prepared but never started is
        removed and reserved again the same way: the run that made it may have
        stopped before it was on all of its networks. Started servers are left
        to the steps.
        """
        nsr = ctx.nsr
        async with ctx.step("check-reservations"):
            known = {network.id for network in await driver.list_networks(ns_labels(nsr.id))}
            for vlr in nsr.vlr:
                if vlr.vim_network_id and vlr.vim_network_id not in known:
                    log.warning("retry.network_lost ns=%s link=%s", nsr.id, vlr.name)
                    vlr.vim_network_id, vlr.cidr, vlr.gateway = "", "", ""
            lost_links = {vlr.name for vlr in nsr.vlr if not vlr.vim_network_id}
            for vnfr in nsr.vnfr:
                for vdu in vnfr.vdu:
                    for vnfc in list(vdu.vnfc_instance):
                        if vnfc.state not in (VnfcState.PENDING, VnfcState.CREATED):
                            continue
                        if vnfc.vc_id and await _still_usable(driver, vnfc.vc_id):
                            continue
                        if vnfc.state == VnfcState.CREATED and not lost_links & set(vnfc.addresses):
                            log.warning(
                                "retry.reserve_again ns=%s vnfc=%s addresses=%s",
                                nsr.id,
                                vnfc.hostname,
                                vnfc.addresses,
                            )
                            links = list(vnfc.addresses)
                            await self.vnfm.allocate(driver, nsr, vnfr, vdu, vnfc, links)
                            continue
                        log.warning("retry.reservation_lost ns=%s vnfc=%s", nsr.id, vnfc.hostname)
                        vdu.forget(vnfc.id)
            await ctx.save()

    async def check_images(self, driver: VimDriver, nsd: Nsd) -> None:
        """Ask the VIM about each image once, all at once; the first missing one is named."""
        vdus = [(vnfd, i, vdu) for vnfd in nsd.vnfds for i, vdu in enumerate(vnfd.vdus)]
        images = list(dict.fromkeys(vdu.image for _, _, vdu in vdus))
        results = await settle([driver.has_image(image) for image in images])
        raise_first(results)
        missing = {image for image, found in zip(images, results, strict=True) if not found}
        for vnfd, index, vdu in vdus:
            if vdu.image in missing:
                raise ImageNotFound(
                    f"image {vdu.image!r} of VNF {vnfd.name} is not available on the VIM",
                    image=vdu.image,
                    field=f"vnfd[{vnfd.name}].vdu[{index}].vm_image",
                )

    async def create_networks(self, ctx: OperationContext, driver: VimDriver) -> None:
        """Create the NS's missing networks at once; what was created is saved, then any error."""
        nsr = ctx.nsr
        missing = [vlr for vlr in nsr.vlr if not vlr.vim_network_id]
        specs = [
            NetworkSpec(
                name=f"nubo-{nsr.id[:8]}-{vlr.name}",
                labels=ns_labels(nsr.id) | {LABEL_VL: vlr.name},
            )
            for vlr in missing
        ]
        results = await settle([driver.create_network(spec) for spec in specs])
        for vlr, network in zip(missing, results, strict=True):
            if isinstance(network, Network):
                vlr.vim_network_id, vlr.cidr = network.id, network.cidr
                vlr.gateway = network.gateway
        await ctx.save()
        raise_first(results)

    async def allocate_all(self, ctx: OperationContext, driver: VimDriver, nsd: Nsd) -> None:
        """Plan every VNFC the NS still lacks and reserve them all at once, then save once.

        The planned records are not saved before their reservations: a
        reservation is the VIM's memory only (the Pop semantics), so a crash in
        between leaves nothing to find, and the run again plans them anew.
        """
        nsr = ctx.nsr
        calls = []
        for vnfr in nsr.vnfr:
            vnfd = nsd.vnfd(vnfr.name)
            for vdu_rec, vdu in zip(vnfr.vdu, vnfd.vdus, strict=True):
                while len(vdu_rec.live_vnfcs()) < vdu.initial_instances:
                    links = links_for(vnfd, vdu.template(len(vdu_rec.live_vnfcs())))
                    vnfc = self.vnfm.new_vnfc(nsr, vnfr, vdu_rec)
                    calls.append(self.vnfm.allocate(driver, nsr, vnfr, vdu_rec, vnfc, links))
        results = await settle(calls)
        await ctx.save()
        raise_first(results)

    async def prepared(self, driver: VimDriver, nsr: NetworkServiceRecord) -> set[str]:
        """Servers of the NS that have a container already: their environment is fixed."""
        return {s.id for s in await driver.list_servers(ns_labels(nsr.id)) if s.ext_id}

    async def prepare_all(
        self, ctx: OperationContext, driver: VimDriver, prepared: set[str]
    ) -> None:
        """Configure every CREATED VNFC and have the VIM create its container, all at once.

        A VNFC a stopped run prepared already keeps the container it has; its
        environment is recorded again, the same as the container's (the
        addresses and dependencies it is made of are the ones recorded).
        """
        nsr = ctx.nsr
        calls = []
        for vnfr in nsr.vnfr:
            for vnfc in vnfr.vnfcs():
                if vnfc.state != VnfcState.CREATED:
                    continue
                extra = nubo_env(nsr, vnfr, vnfc)
                if vnfc.vc_id in prepared:
                    vnfc.environment = self.vnfm.environment(vnfr, vnfc, extra)
                else:
                    calls.append(self.vnfm.prepare(driver, vnfr, vnfc, extra))
        results = await settle(calls)
        await ctx.save()
        raise_first(results)

    async def start_vnf(
        self, driver: VimDriver, vnfr: VnfRecord, scripts: Callable[[], Awaitable[None]]
    ) -> None:
        """Start the CREATED VNFCs of one VNF together and run ``scripts``; the VNF is
        ACTIVE once all run."""
        pending = [c for c in vnfr.vnfcs() if c.state == VnfcState.CREATED]
        timeout = self.timeouts.start
        raise_first(await settle([self.vnfm.start(driver, c, timeout) for c in pending]))
        await scripts()
        if vnfr.status != VnfStatus.ACTIVE:
            vnfr.set_status(VnfStatus.ACTIVE)


async def _still_usable(driver: VimDriver, server_id: str) -> bool:
    """Whether a run again can use the server as it is (see ``forget_lost``)."""
    try:
        server = await driver.get_server(server_id)
    except NotFound:
        return False
    if server.status == ServerStatus.CREATED and server.ext_id:
        log.warning("retry.prepare_again server=%s", server.name)
        await driver.delete_server(server_id)
        return False
    return True
