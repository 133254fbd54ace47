"""The NS workflows: instantiate, scale out/in, start/stop a VNFC, terminate.

Each workflow is a sequence of named steps (see ``OperationContext.step``);
each step is written so that running it again after an interruption does not
repeat a side effect that already happened (a network with a VIM id is not
created again, a VNFC with a server id is not allocated again). Rollback and
terminate share one teardown that removes what the records know and then
sweeps the VIM by the NS label, so nothing is left behind even when a record
missed a resource.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from functools import partial
from typing import Protocol

from nubo.model.descriptors import LifecycleEventType, Nsd, VnfcTemplate
from nubo.model.errors import NotFound, VimError
from nubo.model.records import NetworkServiceRecord, VduRecord, VnfcInstance, VnfRecord
from nubo.model.states import LcmOperationType, NsStatus, VnfcState, VnfStatus
from nubo.nfvo.dependencies import resolve_dependencies
from nubo.nfvo.deployment import NsDeployment, Timeouts, nubo_env
from nubo.nfvo.lifecycle import NsLifecycle
from nubo.nfvo.operations import OperationContext
from nubo.nfvo.planning import links_for
from nubo.nfvo.vims import VimService
from nubo.nfvo.waves import raise_first, settle, start_in_waves
from nubo.vim.port import ServerStatus, VimDriver
from nubo.vnfm.generic import GenericVnfm, ns_labels
from nubo.vnfm.lifecycle import LifecycleScripts

log = logging.getLogger("nubo.nfvo")


class NsdLoader(Protocol):
    """The parsed NSD of an id, in an NS deployment flavour (empty: its default one)."""

    def __call__(self, nsd_id: str, flavour: str = "", /) -> Awaitable[Nsd]: ...


class NsWorkflows:
    """The bodies of LCM operations; ``NsService`` checks preconditions and launches them."""

    def __init__(
        self,
        vims: VimService,
        load_nsd: NsdLoader,
        vnfm: GenericVnfm | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.vims = vims
        self.load_nsd = load_nsd
        self.vnfm = vnfm or GenericVnfm()
        self.timeouts = timeouts or Timeouts()
        self.deployment = NsDeployment(self.vnfm, self.timeouts)
        self.lifecycle = NsLifecycle(LifecycleScripts(self.timeouts.script))

    # -- instantiate -------------------------------------------------------------

    async def instantiate(self, ctx: OperationContext) -> None:
        nsr = ctx.nsr
        nsd = await self.load_nsd(nsr.descriptor_reference, nsr.ns_flavour_id)
        driver = await self.vims.driver(nsr.vim_id)
        prepared: set[str] = set()
        if ctx.op.steps:  # run again (a retry): the VIM may have lost what was reserved
            await self.deployment.forget_lost(ctx, driver)
            prepared = await self.deployment.prepared(driver, nsr)
        async with ctx.step("check-images", pure=True):
            await self.deployment.check_images(driver, nsd)
        async with ctx.step("create-networks"):
            await self.deployment.create_networks(ctx, driver)
        async with ctx.step("allocate"):
            await self.deployment.allocate_all(ctx, driver, nsd)
        async with ctx.step("resolve-dependencies", pure=True):
            self._resolve(nsd, nsr)
        async with ctx.step("configure"):
            await self.deployment.prepare_all(ctx, driver, prepared)
        await start_in_waves(ctx, nsd, nsr.vnfr, partial(self._start_vnf, ctx, driver, nsd))
        async with ctx.step("verify", pure=True):
            await self._verify_running(driver, nsr)
        nsr.set_status(NsStatus.ACTIVE)

    async def _start_vnf(
        self, ctx: OperationContext, driver: VimDriver, nsd: Nsd, vnfr: VnfRecord
    ) -> None:
        """Start a VNF's VNFCs, then run their INSTANTIATE, CONFIGURE and START scripts."""
        scripts = partial(self.lifecycle.bring_up, ctx, driver, nsd, vnfr, vnfr.vnfcs())
        await self.deployment.start_vnf(driver, vnfr, scripts)

    async def _allocate(
        self,
        ctx: OperationContext,
        driver: VimDriver,
        nsd: Nsd,
        vnfr: VnfRecord,
        vdu: VduRecord,
        template: VnfcTemplate,
    ) -> VnfcInstance:
        vnfc = self.vnfm.new_vnfc(ctx.nsr, vnfr, vdu)
        if ctx.op.operation == LcmOperationType.SCALE_OUT:
            ctx.op.params["vnfcInstanceId"] = vnfc.id  # what a rollback must remove
        await ctx.save()
        links = links_for(nsd.vnfd(vnfr.name), template)
        await self.vnfm.allocate(driver, ctx.nsr, vnfr, vdu, vnfc, links)
        await ctx.save()
        return vnfc

    def _resolve(self, nsd: Nsd, nsr: NetworkServiceRecord) -> None:
        for name, variables in resolve_dependencies(nsd, nsr).items():
            nsr.vnfr_by_name(name).dependency_env = variables

    async def _verify_running(
        self, driver: VimDriver, nsr: NetworkServiceRecord, only: VnfcInstance | None = None
    ) -> None:
        """An NS is ACTIVE only when the VIM itself reports every VNFC (or ``only``) RUNNING."""
        servers = {s.id: s for s in await driver.list_servers(ns_labels(nsr.id))}
        for vnfc in [only] if only else nsr.all_vnfcs():
            server = servers.get(vnfc.vc_id)
            status = server.status.value if server else "missing"
            if server is None or server.status != ServerStatus.RUNNING:
                raise VimError(
                    f"VNFC {vnfc.hostname} is {status} on the VIM, expected RUNNING"
                    + (f": {server.detail}" if server and server.detail else "")
                )

    # -- scaling -----------------------------------------------------------------

    async def scale_out(
        self, ctx: OperationContext, vnfr_id: str, vdu_id: str, template: VnfcTemplate | None
    ) -> None:
        """Add one VNFC; run again (resumed, retried) it carries on with the same VNFC."""
        nsr = ctx.nsr
        nsd = await self.load_nsd(nsr.descriptor_reference, nsr.ns_flavour_id)
        driver = await self.vims.driver(nsr.vim_id)
        vnfr = nsr.find_vnfr(vnfr_id)
        vdu = vnfr.find_vdu(vdu_id)
        if ctx.op.steps:
            await self.deployment.forget_lost(ctx, driver)
        vnfc = self._added_vnfc(ctx)
        if vnfc is None:
            async with ctx.step("allocate"):
                if template is None:
                    template = nsd.vnfd(vnfr.name).vdus[vnfr.vdu.index(vdu)].template()
                vnfc = await self._allocate(ctx, driver, nsd, vnfr, vdu, template)
        async with ctx.step("resolve-dependencies", pure=True):
            self._resolve(nsd, nsr)
        if vnfc.state == VnfcState.CREATED:
            async with ctx.step("configure"):
                await self.vnfm.configure(driver, vnfr, vnfc, nubo_env(nsr, vnfr, vnfc))
            async with ctx.step("start"):
                await self.vnfm.start(driver, vnfc, self.timeouts.start)
                await ctx.save()
        if self._has_scripts(nsd):
            async with ctx.step("scripts " + vnfc.hostname):
                # saved whatever happens: the scripts that ran are not run again
                try:
                    await self.lifecycle.bring_up(ctx, driver, nsd, vnfr, [vnfc])
                    await self.lifecycle.source_added(ctx, driver, nsd, vnfc)
                    await self.lifecycle.peers_of(
                        ctx, driver, nsd, vnfc, LifecycleEventType.SCALE_OUT
                    )
                finally:
                    await ctx.save()
        async with ctx.step("verify", pure=True):
            await self._verify_running(driver, nsr)
        vnfr.set_status(VnfStatus.ACTIVE)
        nsr.set_status(NsStatus.ACTIVE)

    @staticmethod
    def _has_scripts(nsd: Nsd) -> bool:
        return any(vnfd.scripts for vnfd in nsd.vnfds)

    @staticmethod
    def _added_vnfc(ctx: OperationContext) -> VnfcInstance | None:
        """The VNFC an earlier run of this scale-out planned, if it is still recorded."""
        vnfc_id = ctx.op.params.get("vnfcInstanceId")
        if not isinstance(vnfc_id, str):
            return None
        try:
            return ctx.nsr.find_vnfc(vnfc_id)[2]
        except NotFound:
            return None

    async def undo_scale_out(self, ctx: OperationContext) -> None:
        """Remove the VNFC a failed scale-out added; the rest of the NS is untouched."""
        nsr = ctx.nsr
        driver = await self.vims.driver(nsr.vim_id)
        vnfc_id = ctx.op.params.get("vnfcInstanceId")
        if isinstance(vnfc_id, str):
            _, vdu, vnfc = nsr.find_vnfc(vnfc_id)
            if vnfc.state != VnfcState.DELETED:
                await self.vnfm.remove(driver, vnfc)
            vdu.forget(vnfc.id)
        nsd = await self.load_nsd(nsr.descriptor_reference, nsr.ns_flavour_id)
        self._resolve(nsd, nsr)
        for vnfr in nsr.vnfr:
            if vnfr.status == VnfStatus.SCALING:
                vnfr.set_status(VnfStatus.ACTIVE)
        nsr.set_status(NsStatus.ACTIVE)

    async def scale_in(
        self, ctx: OperationContext, vnfr_id: str, vnfc_id: str, vdu_id: str = ""
    ) -> None:
        nsr = ctx.nsr
        nsd = await self.load_nsd(nsr.descriptor_reference, nsr.ns_flavour_id)
        driver = await self.vims.driver(nsr.vim_id)
        vnfr = nsr.find_vnfr(vnfr_id)
        if not vnfc_id and vdu_id:  # resumed before the choice was recorded: same rule
            vdu_record = vnfr.find_vdu(vdu_id)
            live = vdu_record.live_vnfcs()
            vnfc_id = live[-1].id if len(live) > vdu_record.min_instances else ""
        ctx.op.params["vnfcInstanceId"] = vnfc_id
        try:
            _, vdu, vnfc = nsr.find_vnfc(vnfc_id)
        except NotFound:
            vnfc = None  # removed before an interruption: nothing left to do
        leaving_scripts = nsd.vnfd(vnfr.name).scripts_for(LifecycleEventType.SCALE_IN)
        if vnfc is not None and vnfc.state != VnfcState.DELETED and leaving_scripts:
            async with ctx.step("scale-in scripts " + vnfc.hostname):
                try:
                    await self.lifecycle.peers_of(
                        ctx, driver, nsd, vnfc, LifecycleEventType.SCALE_IN
                    )
                finally:
                    await ctx.save()
        if vnfc is not None:
            async with ctx.step("remove " + vnfc.hostname):
                await self.vnfm.remove(driver, vnfc)
                vdu.forget(vnfc.id)
        async with ctx.step("resolve-dependencies", pure=True):
            self._resolve(nsd, nsr)
        vnfr.set_status(VnfStatus.ACTIVE)
        nsr.set_status(NsStatus.ACTIVE)

    async def mark_error(self, ctx: OperationContext) -> None:
        """After a failed operation that could not be rolled back, the NS shows ERROR."""
        for vnfr in ctx.nsr.vnfr:
            if vnfr.status in (VnfStatus.SCALING, VnfStatus.INITIALIZED):
                vnfr.set_status(VnfStatus.ERROR)
        if ctx.nsr.status != NsStatus.ERROR:
            ctx.nsr.set_status(NsStatus.ERROR)

    # -- start / stop a VNFC -----------------------------------------------------

    async def start_vnfc(self, ctx: OperationContext, vnfc_id: str) -> None:
        nsr = ctx.nsr
        driver = await self.vims.driver(nsr.vim_id)
        vnfr, _, vnfc = nsr.find_vnfc(vnfc_id)
        async with ctx.step("start " + vnfc.hostname):
            await self.vnfm.start(driver, vnfc, self.timeouts.start)
            nsd = await self.load_nsd(nsr.descriptor_reference, nsr.ns_flavour_id)
            await self.lifecycle.run(ctx, driver, nsd, vnfc, LifecycleEventType.START)
        if all(c.state == VnfcState.RUNNING for c in vnfr.vnfcs()):
            vnfr.set_status(VnfStatus.ACTIVE)

    async def stop_vnfc(self, ctx: OperationContext, vnfc_id: str) -> None:
        nsr = ctx.nsr
        driver = await self.vims.driver(nsr.vim_id)
        vnfr, _, vnfc = nsr.find_vnfc(vnfc_id)
        async with ctx.step("stop " + vnfc.hostname):
            nsd = await self.load_nsd(nsr.descriptor_reference, nsr.ns_flavour_id)
            await self.lifecycle.run(ctx, driver, nsd, vnfc, LifecycleEventType.STOP)
            await self.vnfm.stop(driver, vnfc, self.timeouts.stop)
        vnfr.set_status(VnfStatus.INACTIVE)

    # -- healing -----------------------------------------------------------------

    async def heal_vnfc(self, ctx: OperationContext, vnfc_id: str) -> None:
        """Restart a failed VNFC in place; if that is impossible, re-create it.

        The re-created server keeps the VNFC's address on every link and its
        environment, so dependents that hold the address keep working.
        """
        nsr = ctx.nsr
        driver = await self.vims.driver(nsr.vim_id)
        vnfr, vdu, vnfc = nsr.find_vnfc(vnfc_id)
        async with ctx.step("restart " + vnfc.hostname) as step:
            restarted = await self._restart_in_place(driver, vnfc)
            step.detail = "restarted in place" if restarted else "cannot restart: re-creating"
        if not restarted:
            async with ctx.step("recreate " + vnfc.hostname):
                await driver.delete_server(vnfc.vc_id)
                if vnfc.state == VnfcState.RUNNING:
                    vnfc.set_state(VnfcState.FAILED)
                await self.vnfm.allocate(driver, nsr, vnfr, vdu, vnfc, list(vnfc.addresses))
                await ctx.save()
                await self.vnfm.reconfigure(driver, vnfc)
                await self.vnfm.start(driver, vnfc, self.timeouts.start)
                vnfc.scripts_done = []  # a new container: what the scripts did is gone
                await ctx.save()
                nsd = await self.load_nsd(nsr.descriptor_reference, nsr.ns_flavour_id)
                await self.lifecycle.bring_up(ctx, driver, nsd, vnfr, [vnfc])
                await ctx.save()
        nsd = await self.load_nsd(nsr.descriptor_reference, nsr.ns_flavour_id)
        if nsd.vnfd(vnfr.name).scripts_for(LifecycleEventType.HEAL):
            async with ctx.step("heal scripts " + vnfc.hostname):
                try:
                    cause = str(ctx.op.params.get("cause") or "")
                    await self.lifecycle.healed(ctx, driver, nsd, vnfc, cause)
                finally:
                    await ctx.save()
        async with ctx.step("verify", pure=True):
            await self._verify_running(driver, nsr, only=vnfc)
        if vnfr.status != VnfStatus.ACTIVE and all(
            c.state == VnfcState.RUNNING for c in vnfr.vnfcs()
        ):
            vnfr.set_status(VnfStatus.ACTIVE)
        if nsr.status == NsStatus.ERROR and all(
            c.state == VnfcState.RUNNING for c in nsr.all_vnfcs()
        ):
            nsr.set_status(NsStatus.ACTIVE)

    async def _restart_in_place(self, driver: VimDriver, vnfc: VnfcInstance) -> bool:
        try:
            server = await driver.get_server(vnfc.vc_id)
        except NotFound:
            return False
        if server.status == ServerStatus.RUNNING:
            vnfc.set_state(VnfcState.RUNNING)
            return True
        if not server.ext_id:
            return False
        try:
            await self.vnfm.start(driver, vnfc, self.timeouts.start)
        except VimError as exc:
            log.warning("heal.restart_failed vnfc=%s error=%s", vnfc.id, exc.detail)
            return False
        return vnfc.state == VnfcState.RUNNING

    # -- terminate and rollback --------------------------------------------------

    async def terminate(self, ctx: OperationContext) -> None:
        await self._teardown(ctx)
        ctx.nsr.set_status(NsStatus.TERMINATED)

    async def rollback_instantiate(self, ctx: OperationContext) -> None:
        await self._teardown(ctx)
        ctx.nsr.set_status(NsStatus.ERROR)

    async def rollback_instance(self, ctx: OperationContext) -> None:
        """Undo a SOL005 instantiation: the NS instance is NOT_INSTANTIATED again."""
        await self._teardown(ctx)
        ctx.nsr.vnfr = []
        ctx.nsr.vlr = []
        ctx.nsr.set_status(NsStatus.NOT_INSTANTIATED)

    async def _terminate_scripts(self, ctx: OperationContext, driver: VimDriver) -> None:
        nsd = await self.load_nsd(ctx.nsr.descriptor_reference, ctx.nsr.ns_flavour_id)
        if not self._has_scripts(nsd):
            return
        async with ctx.step("terminate scripts") as step:
            failures = await self.lifecycle.terminate(ctx, driver, nsd)
            step.detail = "; ".join(failures)
            await ctx.save()

    async def _teardown(self, ctx: OperationContext) -> None:
        nsr = ctx.nsr
        if not nsr.all_vnfcs() and not any(vlr.vim_network_id for vlr in nsr.vlr):
            # nothing was ever asked of the VIM: nothing to remove, even if it is down
            return
        driver = await self.vims.driver(nsr.vim_id)
        if ctx.op.operation == LcmOperationType.TERMINATE:
            await self._terminate_scripts(ctx, driver)
        # the VNFCs of an NS go at once (nothing depends on another's removal),
        # saved once: removing a server that is gone already is not an error
        async with ctx.step("remove-vnfcs"):
            removed = await settle([self.vnfm.remove(driver, c) for c in nsr.all_vnfcs()])
            await ctx.save()
            raise_first(removed)
            # sweep by label: a server created just before a crash may have no record
            servers = await driver.list_servers(ns_labels(nsr.id))
            raise_first(await settle([driver.delete_server(s.id) for s in servers]))
            for vnfr in nsr.vnfr:
                if vnfr.status != VnfStatus.TERMINATED:
                    vnfr.set_status(VnfStatus.TERMINATED)
        async with ctx.step("remove-networks"):
            recorded = [vlr.vim_network_id for vlr in nsr.vlr if vlr.vim_network_id]
            raise_first(await settle([driver.delete_network(n) for n in recorded]))
            left = await driver.list_networks(ns_labels(nsr.id))
            raise_first(await settle([driver.delete_network(n.id) for n in left]))


def find_vnfc_in(
    nsr: NetworkServiceRecord, vnfr_id: str, vdu_id: str, vnfc_id: str
) -> VnfcInstance:
    """The VNFC at that path of the NSR, or NotFound naming the part that is wrong."""
    vnfr = nsr.find_vnfr(vnfr_id)
    vdu = vnfr.find_vdu(vdu_id)
    for vnfc in vdu.vnfc_instance:
        if vnfc.id == vnfc_id and vnfc.state != VnfcState.DELETED:
            return vnfc
    raise NotFound(f"VNFC instance {vnfc_id} not found in VDU {vdu_id}", field="vnfcId")
