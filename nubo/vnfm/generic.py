"""Generic VNFM for container VNFs.

There is no element manager inside a container (003 §3.5.2): configuration
reaches a VNFC as environment, set as server metadata while the server is
CREATED and merged into the environment when it starts (the Pop protocol).
The VNFM owns the VNFC records' state changes; it never saves anything itself,
the calling workflow persists the NSR around each call.
"""

from __future__ import annotations

import re

from nubo.model.ids import new_id
from nubo.model.records import NetworkServiceRecord, VduRecord, VnfcInstance, VnfRecord
from nubo.model.states import VnfcState
from nubo.vim.port import (
    LABEL_MANAGED,
    LABEL_NS,
    LABEL_VNF,
    LABEL_VNF_NAME,
    LABEL_VNFC,
    Server,
    ServerSpec,
    ServerStatus,
    VimDriver,
)

_VNFC_STATE_OF_SERVER = {
    ServerStatus.CREATED: VnfcState.CREATED,
    ServerStatus.RUNNING: VnfcState.RUNNING,
    ServerStatus.EXITED: VnfcState.EXITED,
    ServerStatus.FAILED: VnfcState.FAILED,
    ServerStatus.STOPPING: VnfcState.STOPPING,
}


def vnfc_state_of(status: ServerStatus) -> VnfcState:
    return _VNFC_STATE_OF_SERVER[status]


def _slug(text: str) -> str:
    return re.sub(r"[^a-zA-Z0-9_.-]+", "-", text).strip("-").lower() or "x"


def ns_labels(nsr_id: str) -> dict[str, str]:
    return {LABEL_MANAGED: "true", LABEL_NS: nsr_id}


class GenericVnfm:
    """Allocates, configures, starts, stops and removes the VNFCs of a VNF."""

    def new_vnfc(self, nsr: NetworkServiceRecord, vnfr: VnfRecord, vdu: VduRecord) -> VnfcInstance:
        """Plan a new VNFC record (PENDING); nothing is asked of the VIM yet."""
        index = vdu.next_index()
        # each VDU counts its own VNFCs: the VDUs after the first name themselves,
        # so that hostnames (and the VIM's server names) stay unique in the VNF
        first = not vnfr.vdu or vnfr.vdu[0].id == vdu.id
        stem = _slug(vnfr.name) if first else f"{_slug(vnfr.name)}-{_slug(vdu.name)}"
        vnfc = VnfcInstance(
            id=new_id(),
            vdu_id=vdu.id,
            index=index,
            hostname=f"{stem}-{index}",
            vim_id=nsr.vim_id,
        )
        vdu.vnfc_instance.append(vnfc)
        return vnfc

    async def allocate(
        self,
        driver: VimDriver,
        nsr: NetworkServiceRecord,
        vnfr: VnfRecord,
        vdu: VduRecord,
        vnfc: VnfcInstance,
        links: list[str],
    ) -> Server:
        """Reserve the VNFC's server and its addresses on each of ``links``: CREATED."""
        networks = {link: nsr.find_vlr(link).vim_network_id for link in links}
        labels = ns_labels(nsr.id) | {
            LABEL_VNF: vnfr.id,
            LABEL_VNF_NAME: vnfr.name,
            LABEL_VNFC: vnfc.id,
        }
        spec = ServerSpec(
            name=f"nubo-{nsr.id[:8]}-{vnfc.hostname}",
            hostname=vnfc.hostname,
            image=vdu.image,
            networks=networks,
            labels=labels,
            fixed_addresses=dict(vnfc.addresses),
        )
        server = await driver.create_server(spec)
        vnfc.vc_id = server.id
        vnfc.addresses = dict(server.addresses)
        vnfc.set_state(VnfcState.CREATED)
        return server

    def environment(
        self, vnfr: VnfRecord, vnfc: VnfcInstance, extra: dict[str, str]
    ) -> dict[str, str]:
        """The environment of a VNFC; on a name clash the later source wins:

        1. its VDU's env files (defaults an image's packager ships),
        2. the VNF's configuration parameters (what the NSD's author chose),
        3. the variables resolved from VNF dependencies (peer addresses),
        4. ``extra``: nubo's own ``NUBO_*`` variables, which nothing may forge.
        """
        vdu_env = vnfr.find_vdu(vnfc.vdu_id).environment
        return dict(vdu_env) | dict(vnfr.configuration) | dict(vnfr.dependency_env) | extra

    async def configure(
        self, driver: VimDriver, vnfr: VnfRecord, vnfc: VnfcInstance, extra: dict[str, str]
    ) -> None:
        """Give a CREATED VNFC its ``environment``, recorded on the VNFC.

        The record is what a re-created VNFC (heal) gets, exactly the same.
        """
        env = self.environment(vnfr, vnfc, extra)
        await driver.set_metadata(vnfc.vc_id, env)
        vnfc.environment = env

    async def prepare(
        self, driver: VimDriver, vnfr: VnfRecord, vnfc: VnfcInstance, extra: dict[str, str]
    ) -> None:
        """Configure a CREATED VNFC and have the VIM make it ready to start at once."""
        await self.configure(driver, vnfr, vnfc, extra)
        await driver.prepare_server(vnfc.vc_id)

    async def reconfigure(self, driver: VimDriver, vnfc: VnfcInstance) -> None:
        """Give a re-created VNFC exactly the environment it had before."""
        await driver.set_metadata(vnfc.vc_id, dict(vnfc.environment))

    async def start(self, driver: VimDriver, vnfc: VnfcInstance, timeout: float) -> None:
        try:
            server = await driver.start_server(vnfc.vc_id, timeout)
        except Exception:
            vnfc.set_state(VnfcState.FAILED)
            raise
        vnfc.set_state(vnfc_state_of(server.status))

    async def stop(self, driver: VimDriver, vnfc: VnfcInstance, timeout: float) -> None:
        if vnfc.state == VnfcState.EXITED:
            return  # already stopped (a repeated stop after an interruption)
        vnfc.set_state(VnfcState.STOPPING)
        server = await driver.stop_server(vnfc.vc_id, timeout)
        vnfc.set_state(vnfc_state_of(server.status))

    async def remove(self, driver: VimDriver, vnfc: VnfcInstance) -> None:
        if vnfc.vc_id:
            await driver.delete_server(vnfc.vc_id)
        vnfc.set_state(VnfcState.DELETED)
