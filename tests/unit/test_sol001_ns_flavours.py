"""An SOL001 NSD of several NS deployment flavours, one file each, chosen at instantiation
(SOL005 nsFlavourId); over the in-memory VIM."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from nubo.app import Nubo
from nubo.descriptors.tosca import read_tosca_nsd
from nubo.model.errors import BadRequest, InvalidDescriptor
from nubo.model.states import OpState
from tests.conftest import api_client, fake_nubo
from tests.unit.test_sol001_deploy import media_csar
from tests.unit.test_sol001_layouts import definitions

FLAVOURS = Path(__file__).parent / "fixtures" / "sol001" / "media-ns-flavours"
TOP = (FLAVOURS / "media_ns.yaml").read_text()


def flavour_files() -> dict[str, str]:
    return {p.name: p.read_text() for p in FLAVOURS.glob("*.yaml") if p.name != "media_ns.yaml"}


def problems(top: str = TOP, **changed: str) -> list[tuple[str, str]]:
    with pytest.raises(InvalidDescriptor) as info:
        read_tosca_nsd(top, extra_files=definitions() | flavour_files() | changed)
    return [(p.path, p.message) for p in info.value.problems]


def test_each_flavour_file_is_the_topology_of_its_flavour() -> None:
    files = definitions() | flavour_files()
    small = read_tosca_nsd(TOP, extra_files=files)
    large = read_tosca_nsd(TOP, extra_files=files, flavour="large")
    assert (small.nsd.flavour_id, small.nsd.flavours) == ("small", ("small", "large"))
    assert [v.name for v in small.nsd.vnfds] == ["edge-relay"]
    assert [v.name for v in large.nsd.vnfds] == ["edge-relay", "core-relay"]
    assert [(d.source, d.target) for d in large.nsd.dependencies] == [("edge-relay", "core-relay")]
    # the NS itself is the top-level NSD's
    assert (large.nsd.name, large.nsd.version) == ("media-ns", "2.0")
    assert large.ns_properties["descriptor_id"] == "5b1f7c2e-media-ns-flavours"
    assert large.ns_properties["flavour_id"] == "large"
    assert {"media_ns_df_small.yaml", "media_ns_df_large.yaml"} <= set(small.files)


def test_flavour_files_without_or_with_the_same_flavour_id_are_refused() -> None:
    large = flavour_files()["media_ns_df_large.yaml"]
    assert problems(**{"media_ns_df_large.yaml": large.replace("flavour_id: large", "")}) == [
        (
            "media_ns_df_large.yaml:topology_template.substitution_mappings.properties.flavour_id",
            "required: the NS deployment flavour this file describes",
        )
    ]
    same = large.replace("flavour_id: large", "flavour_id: small")
    assert problems(**{"media_ns_df_large.yaml": same}) == [
        (
            "media_ns_df_large.yaml:topology_template.substitution_mappings.properties.flavour_id",
            "flavour 'small' is described by media_ns_df_small.yaml too",
        )
    ]


def test_several_flavours_and_none_chosen_is_refused_at_the_ns_nodes_flavour_id() -> None:
    top = TOP.replace("      default: small\n", "")
    [(path, message)] = problems(top)
    assert path == "topology_template.node_templates.media-ns.properties.flavour_id"
    assert message.startswith("several NS deployment flavours (small, large) and none chosen")


# --- chosen at instantiation ------------------------------------------------------------


def nsd_csar() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "TOSCA-Metadata/TOSCA.meta",
            "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: nubo-tests\n"
            "Entry-Definitions: Definitions/media_ns.yaml\n",
        )
        archive.writestr("Definitions/media_ns.yaml", TOP)
        for name, text in flavour_files().items():
            archive.writestr(f"Definitions/{name}", text)
    return buffer.getvalue()


@pytest.fixture
async def nubo(tmp_path: Path) -> AsyncIterator[Nubo]:
    app = fake_nubo(tmp_path, start_timeout=2, default_vim_endpoint="fake:?images=*")
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def test_ns_flavour_id_picks_the_flavour_and_its_operations_keep_to_it(nubo: Nubo) -> None:
    package = await nubo.packages.create()
    await nubo.packages.upload(package.id, media_csar(definitions()))
    entry = await nubo.catalogue.create()
    onboarded = await nubo.catalogue.upload(entry.id, nsd_csar(), "application/zip")
    # the warnings of every flavour: any may be instantiated
    assert {w.path for w in onboarded.warnings} >= {
        "media_ns_df_small.yaml:topology_template.node_templates.media.properties.vl_profile",
        "media_ns_df_large.yaml:topology_template.node_templates.media.properties.vl_profile",
    }
    assert onboarded.info["vnfPkgIds"] == [package.id]

    small = await nubo.instances.create_instance(entry.id, "small")
    done = await nubo.runner.wait((await nubo.instances.instantiate_instance(small.id)).id, 10)
    assert done.state == OpState.COMPLETED, done.error
    assert [v.name for v in (await nubo.ns.get(small.id)).vnfr] == ["edge-relay"]
    assert (await nubo.ns.get(small.id)).ns_flavour_id == "small"

    large = await nubo.instances.create_instance(entry.id, "large")
    with pytest.raises(BadRequest) as refused:
        await nubo.instances.instantiate_instance(large.id, flavour="huge")
    assert refused.value.extra["field"] == "nsFlavourId"
    assert "send nsFlavourId one of 'small', 'large'" in refused.value.detail
    op = await nubo.instances.instantiate_instance(large.id, flavour="large")
    done = await nubo.runner.wait(op.id, 10)
    assert done.state == OpState.COMPLETED, done.error
    assert done.params["nsFlavourId"] == "large"
    nsr = await nubo.ns.get(large.id)
    assert nsr.ns_flavour_id == "large"
    assert [v.name for v in nsr.vnfr] == ["edge-relay", "core-relay"]
    edge_ip = nsr.vnfr_by_name("edge-relay").vnfcs()[0].addresses["media"]
    assert nsr.vnfr_by_name("core-relay").dependency_env == {"RELAY_MEDIA": edge_ip}
    # a later operation reads the NSD in the NS's flavour (core-relay is only in 'large')
    core = nsr.vnfr_by_name("core-relay")
    out = await nubo.runner.wait((await nubo.ns.scale_out(nsr.id, core.id, core.vdu[1].id)).id, 10)
    assert out.state == OpState.COMPLETED, out.error
    async with api_client(nubo) as http:
        shown = await http.get(f"/nslcm/v1/ns_instances/{nsr.id}", headers={"Version": "1.2.0"})
        assert shown.json()["flavourId"] == "large"
        op_view = await http.get(
            f"/nslcm/v1/ns_lcm_op_occs/{done.id}", headers={"Version": "1.2.0"}
        )
        assert op_view.json()["operationParams"]["nsFlavourId"] == "large"
    term = await nubo.runner.wait((await nubo.ns.terminate(nsr.id)).id, 10)
    assert term.state == OpState.COMPLETED, term.error
