"""A SOL001 VNF package with VNF-internal virtual links, an external connection point over
one, a VDU that starts with no VNFC and Vnflcm scripts, on the real Docker Engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from nubo.app import Nubo
from nubo.model.records import LcmOpOcc
from nubo.model.states import OpState
from nubo.vim.port import LABEL_NS
from tests.conftest import docker_nubo, running
from tests.sip_checks import labelled, vnfc_container
from tests.unit.test_sol001_deploy import media_csar
from tests.unit.test_sol001_layouts import definitions, external_cp, internal_pair, nsd_text

pytestmark = pytest.mark.docker

WRITE_PEER = "#!/bin/sh\nmkdir -p /var/lib/relay\nprintenv relay_media > /var/lib/relay/edge\n"
WRITE_SELF = '#!/bin/sh\nmkdir -p /var/lib/relay\necho "$hostname" > /var/lib/relay/self\n'


def with_script(flavour: dict[str, Any], script: str) -> None:
    vnf = flavour["topology_template"]["node_templates"]["VNF"]
    vnf.setdefault("interfaces", {})["Vnflcm"] = {"instantiate": {"implementation": "configure"}}
    vnf["artifacts"] = {
        "configure": {"type": "tosca.artifacts.Implementation.Bash", "file": script}
    }


def media_files(image: str) -> dict[str, str]:
    def pair(d: dict[str, Any]) -> None:
        internal_pair(d)
        with_script(d, "../Scripts/peer.sh")

    def simple(d: dict[str, Any]) -> None:
        external_cp(d)
        with_script(d, "../Scripts/self.sh")

    files = definitions(media_df_pair=pair, media_df_simple=simple)
    for name, text in files.items():
        document = yaml.safe_load(text)
        files[name] = (
            yaml.safe_dump(document, sort_keys=False)
            .replace("nubo/media-relay:2.1", image)
            .replace("nubo/media-recorder:1.0", image)
        )
    return files | {"../Scripts/peer.sh": WRITE_PEER, "../Scripts/self.sh": WRITE_SELF}


@pytest.fixture
async def nubo(tmp_path: Path, docker_client: Any) -> AsyncIterator[Nubo]:
    async with running(docker_nubo(tmp_path), docker_client) as app:
        yield app


async def run(app: Nubo, op: LcmOpOcc) -> LcmOpOcc:
    return await app.runner.wait(op.id, timeout=120)


def networks_of(container: Any) -> dict[str, str]:
    """Docker network name -> the container's address on it."""
    container.reload()
    attached = container.attrs["NetworkSettings"]["Networks"]
    return {name: endpoint["IPAddress"] for name, endpoint in attached.items()}


def read(container: Any, path: str) -> str:
    code, output = container.exec_run(["cat", path])
    assert code == 0, output
    text: str = output.decode()
    return text


async def test_internal_links_external_cp_empty_vdu_and_scripts_on_docker(
    nubo: Nubo, docker_client: Any, stub_image: str
) -> None:
    package = await nubo.packages.create()
    await nubo.packages.upload(package.id, media_csar(media_files(stub_image)))
    entry = await nubo.catalogue.create()
    await nubo.catalogue.upload(entry.id, nsd_text().encode(), "application/yaml")
    nsr, op = await nubo.ns.instantiate(entry.id, name="media-it")
    done = await run(nubo, op)
    assert done.state == OpState.COMPLETED, done.error
    nsr = await nubo.ns.get(nsr.id)
    prefix = f"nubo-{nsr.id[:8]}-"
    _, networks = labelled(docker_client, nsr.id)
    assert sorted(n.name for n in networks) == sorted(
        f"{prefix}{link}" for link in ("media", "core-relay.INTERNAL", "edge-relay.INTERNAL")
    )
    [core] = nsr.vnfr_by_name("core-relay").vdu[0].live_vnfcs()
    [edge] = nsr.vnfr_by_name("edge-relay").vdu[0].live_vnfcs()
    assert nsr.vnfr_by_name("core-relay").vdu[1].live_vnfcs() == []  # RECORDER: none yet
    core_box = vnfc_container(docker_client, core.id)
    edge_box = vnfc_container(docker_client, edge.id)
    assert networks_of(core_box) == {
        f"{prefix}media": core.addresses["media"],
        f"{prefix}core-relay.INTERNAL": core.addresses["core-relay.INTERNAL"],
    }
    # the external connection point: on its internal link and, through it, on the NS link
    assert networks_of(edge_box) == {
        f"{prefix}edge-relay.INTERNAL": edge.addresses["edge-relay.INTERNAL"],
        f"{prefix}media": edge.addresses["media"],
    }
    # the Vnflcm scripts ran in the containers, the core's with its source's values
    assert read(edge_box, "/var/lib/relay/self") == f"{edge.hostname}\n"
    assert read(core_box, "/var/lib/relay/edge") == f"{edge.addresses['media']}\n"

    core_vnf = nsr.vnfr_by_name("core-relay")
    out = await run(nubo, await nubo.ns.scale_out(nsr.id, core_vnf.id, core_vnf.vdu[1].id))
    assert out.state == OpState.COMPLETED, out.error
    nsr = await nubo.ns.get(nsr.id)
    [recorder] = nsr.vnfr_by_name("core-relay").vdu[1].live_vnfcs()
    recorder_box = vnfc_container(docker_client, recorder.id)
    assert networks_of(recorder_box) == {
        f"{prefix}core-relay.INTERNAL": recorder.addresses["core-relay.INTERNAL"]
    }
    code, _ = recorder_box.exec_run(["cat", "/var/lib/relay/edge"])
    assert code == 0  # a new VNFC of the VNF runs the VNF's scripts too

    term = await run(nubo, await nubo.ns.terminate(nsr.id))
    assert term.state == OpState.COMPLETED, term.error
    containers, networks = labelled(docker_client, nsr.id)
    assert containers == [] and networks == []
    assert not docker_client.networks.list(filters={"label": f"{LABEL_NS}={nsr.id}"})
