"""SOL001 VNFDs deployed over the in-memory VIM: a VDU that starts with no VNFC,
VNF-internal virtual links and external connection points over them."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nubo.api.nslcm_ops import operation_params
from nubo.api.nslcm_views import NsInstanceView, VnfOrigins
from nubo.app import Nubo
from nubo.model.errors import BadRequest, Conflict
from nubo.model.states import NsStatus, OpState
from nubo.vim.fake import FakeVimDriver
from tests.conftest import api_client, fake_nubo
from tests.unit.test_sol001_layouts import (
    PACKAGE,
    definitions,
    external_cp,
    internal_pair,
    nsd_text,
)


def media_csar(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "TOSCA-Metadata/TOSCA.meta", (PACKAGE / "TOSCA-Metadata/TOSCA.meta").read_text()
        )
        for name, text in files.items():
            path = name.removeprefix("../") if name.startswith("../") else f"Definitions/{name}"
            archive.writestr(path, text)
    return buffer.getvalue()


@pytest.fixture
async def nubo(tmp_path: Path) -> AsyncIterator[Nubo]:
    app = fake_nubo(tmp_path, start_timeout=2, default_vim_endpoint="fake:?images=*")
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def fake_of(nubo: Nubo) -> FakeVimDriver:
    driver = await nubo.vims.driver((await nubo.vims.default()).id)
    assert isinstance(driver, FakeVimDriver)
    return driver


async def onboard_media(nubo: Nubo, files: dict[str, str], nsd: str) -> str:
    package = await nubo.packages.create()
    await nubo.packages.upload(package.id, media_csar(files))
    entry = await nubo.catalogue.create()
    await nubo.catalogue.upload(entry.id, nsd.encode(), "application/yaml")
    return entry.id


async def test_a_vdu_with_no_initial_vnfc_starts_empty_then_scales_out_and_back_to_none(
    nubo: Nubo,
) -> None:
    nsd_id = await onboard_media(nubo, definitions(), nsd_text())
    nsr, op = await nubo.ns.instantiate(nsd_id, name="media")
    done = await nubo.runner.wait(op.id, timeout=10)
    assert done.state == OpState.COMPLETED, done.error
    nsr = await nubo.ns.get(nsr.id)
    core = nsr.vnfr_by_name("core-relay")
    relay, recorder = core.vdu
    assert (len(relay.live_vnfcs()), len(recorder.live_vnfcs())) == (1, 0)
    assert recorder.min_instances == 0
    out = await nubo.runner.wait(
        (await nubo.ns.scale_out(nsr.id, core.id, recorder.id)).id, timeout=10
    )
    assert out.state == OpState.COMPLETED, out.error
    nsr = await nubo.ns.get(nsr.id)
    [added] = nsr.vnfr_by_name("core-relay").vdu[1].live_vnfcs()
    # no connection point of its own: on the VNF's links
    assert list(added.addresses) == ["media"]
    back = await nubo.runner.wait(
        (await nubo.ns.scale_in(nsr.id, core.id, recorder.id)).id, timeout=10
    )
    assert back.state == OpState.COMPLETED, back.error
    nsr = await nubo.ns.get(nsr.id)
    assert nsr.status == NsStatus.ACTIVE
    assert nsr.vnfr_by_name("core-relay").vdu[1].live_vnfcs() == []
    with pytest.raises(Conflict, match="its minimum \\(min_number_of_instances = 0\\)"):
        await nubo.ns.scale_in(nsr.id, core.id, recorder.id)
    relay_id = nsr.vnfr_by_name("core-relay").vdu[0].id
    with pytest.raises(Conflict, match="scale in never removes the last one"):
        await nubo.ns.scale_in(nsr.id, core.id, relay_id)


async def test_an_internal_link_is_a_network_only_its_vnfs_vnfcs_join(nubo: Nubo) -> None:
    files = definitions(media_df_pair=internal_pair, media_df_simple=external_cp)
    nsd_id = await onboard_media(nubo, files, nsd_text())
    nsr, op = await nubo.ns.instantiate(nsd_id, name="media")
    done = await nubo.runner.wait(op.id, timeout=10)
    assert done.state == OpState.COMPLETED, done.error
    nsr = await nubo.ns.get(nsr.id)
    assert sorted(v.name for v in nsr.vlr) == [
        "core-relay.INTERNAL",
        "edge-relay.INTERNAL",
        "media",
    ]
    networks = {n.id: n.name for n in await (await fake_of(nubo)).list_networks()}
    assert sorted(networks[v.vim_network_id] for v in nsr.vlr) == sorted(
        f"nubo-{nsr.id[:8]}-{v.name}" for v in nsr.vlr
    )
    [core] = nsr.vnfr_by_name("core-relay").vdu[0].live_vnfcs()
    [edge] = nsr.vnfr_by_name("edge-relay").vdu[0].live_vnfcs()
    assert sorted(core.addresses) == ["core-relay.INTERNAL", "media"]
    assert sorted(edge.addresses) == ["edge-relay.INTERNAL", "media"]
    core_vnf = nsr.vnfr_by_name("core-relay")
    out = await nubo.runner.wait(
        (await nubo.ns.scale_out(nsr.id, core_vnf.id, core_vnf.vdu[1].id)).id, timeout=10
    )
    assert out.state == OpState.COMPLETED, out.error
    nsr = await nubo.ns.get(nsr.id)
    [recorder] = nsr.vnfr_by_name("core-relay").vdu[1].live_vnfcs()
    assert list(recorder.addresses) == ["core-relay.INTERNAL"]
    terminated = await nubo.runner.wait((await nubo.ns.terminate(nsr.id)).id, timeout=10)
    assert terminated.state == OpState.COMPLETED, terminated.error
    assert await (await fake_of(nubo)).list_networks() == []


async def test_vnfcs_of_a_vnfs_second_vdu_have_hostnames_of_their_own(nubo: Nubo) -> None:
    files = definitions(media_df_pair=internal_pair)
    nsd_id = await onboard_media(nubo, files, nsd_text())
    nsr, op = await nubo.ns.instantiate(nsd_id, name="media")
    assert (await nubo.runner.wait(op.id, timeout=10)).state == OpState.COMPLETED
    nsr = await nubo.ns.get(nsr.id)
    core = nsr.vnfr_by_name("core-relay")
    await nubo.runner.wait((await nubo.ns.scale_out(nsr.id, core.id, core.vdu[1].id)).id, 10)
    nsr = await nubo.ns.get(nsr.id)
    relay, recorder = nsr.vnfr_by_name("core-relay").vdu
    assert [c.hostname for c in relay.live_vnfcs()] == ["core-relay-0"]
    assert [c.hostname for c in recorder.live_vnfcs()] == ["core-relay-recorder-0"]


async def test_ns_flavour_id_must_be_the_nsds_flavour(nubo: Nubo) -> None:
    def gold(d: dict[str, Any]) -> None:
        d["topology_template"]["node_templates"]["media-ns"]["properties"]["flavour_id"] = "gold"

    nsd_id = await onboard_media(nubo, definitions(), nsd_text(gold=gold))
    nsr = await nubo.instances.create_instance(nsd_id, "media")
    with pytest.raises(BadRequest) as refused:
        await nubo.instances.instantiate_instance(nsr.id, flavour="silver")
    assert refused.value.extra["field"] == "nsFlavourId"
    assert refused.value.detail.startswith(
        "NSD media-ns has no NS deployment flavour 'silver': send nsFlavourId 'gold' (the "
        "flavour_id of its NS node, its only flavour)"
    )
    op = await nubo.instances.instantiate_instance(nsr.id, flavour="gold")
    done = await nubo.runner.wait(op.id, timeout=10)
    assert done.state == OpState.COMPLETED, done.error
    assert done.params["nsFlavourId"] == "gold"
    assert operation_params(done, {})["nsFlavourId"] == "gold"


async def test_the_ns_instance_shows_each_vnfs_flavour_and_its_internal_links_under_it(
    nubo: Nubo,
) -> None:
    files = definitions(media_df_pair=internal_pair, media_df_simple=external_cp)
    nsd_id = await onboard_media(nubo, files, nsd_text())
    nsr, op = await nubo.ns.instantiate(nsd_id, name="media")
    done = await nubo.runner.wait(op.id, timeout=10)
    assert done.state == OpState.COMPLETED, done.error
    nsr = await nubo.ns.get(nsr.id)
    networks = {v.name: v for v in nsr.vlr}
    # every answer of this client is checked against ETSI's SOL005 schemas
    async with api_client(nubo) as client:
        answer = await client.get(f"/nslcm/v1/ns_instances/{nsr.id}")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [v["nsVirtualLinkDescId"] for v in body["virtualLinkInfo"]] == ["media"]
    by_name = {v["vnfInstanceName"]: v for v in body["vnfInstance"]}
    assert {n: v["instantiatedVnfInfo"]["flavourId"] for n, v in by_name.items()} == {
        "core-relay": "pair",
        "edge-relay": "simple",
    }
    for name in ("core-relay", "edge-relay"):
        vnf = by_name[name]
        assert vnf["vnfdId"] and vnf["vnfPkgId"] and vnf["vnfdVersion"] is not None
        internal = networks[f"{name}.INTERNAL"]
        assert vnf["instantiatedVnfInfo"]["virtualLinkResourceInfo"] == [
            {
                "id": internal.id,
                "vnfVirtualLinkDescId": "INTERNAL",
                "networkResource": {
                    "vimId": nsr.vim_id,
                    "resourceId": internal.vim_network_id,
                    "vimLevelResourceType": "network",
                },
            }
        ]


async def test_an_internal_link_of_a_record_older_than_its_owner_field_is_still_the_vnfs(
    nubo: Nubo,
) -> None:
    files = definitions(media_df_pair=internal_pair, media_df_simple=external_cp)
    nsd_id = await onboard_media(nubo, files, nsd_text())
    nsr, op = await nubo.ns.instantiate(nsd_id, name="media")
    assert (await nubo.runner.wait(op.id, timeout=10)).state == OpState.COMPLETED
    nsr = await nubo.ns.get(nsr.id)
    for vlr in nsr.vlr:
        vlr.vnf = ""  # as records written before the field existed read
    view = NsInstanceView.of(nsr, VnfOrigins(packages=[], nsd_ids={}, package_ids={}))
    assert [v.ns_virtual_link_desc_id for v in view.virtual_link_info or []] == ["media"]
    [core] = [v for v in view.vnf_instance or [] if v.vnf_instance_name == "core-relay"]
    internal = core.instantiated_vnf_info.virtual_link_resource_info or []
    assert [i.vnf_virtual_link_desc_id for i in internal] == ["INTERNAL"]
