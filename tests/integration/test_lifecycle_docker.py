"""Open Baton lifecycle scripts in real containers: an NSD in the requires/provides style
whose VNF packages' scripts write what they received into files the test reads back,
deployed, scaled and terminated on the Docker Engine."""

from __future__ import annotations

import copy
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nubo.app import Nubo
from nubo.model.records import LcmOpOcc, NetworkServiceRecord
from nubo.model.states import NsStatus, OpState
from tests import openbaton_packages as iperf
from tests.conftest import docker_nubo, running
from tests.sip_checks import labelled, vnfc_container

pytestmark = pytest.mark.docker


@pytest.fixture
async def nubo(tmp_path: Path, docker_client: Any) -> AsyncIterator[Nubo]:
    async with running(docker_nubo(tmp_path), docker_client) as app:
        yield app


async def run(app: Nubo, op: LcmOpOcc) -> LcmOpOcc:
    return await app.runner.wait(op.id, timeout=120)


async def onboard_packages(nubo: Nubo, image: str, client_scripts: dict[str, str]) -> str:
    for archive in (
        iperf.server_package(image),
        iperf.client_package(image, client_scripts, gzip=True),
    ):
        package = await nubo.packages.create()
        await nubo.packages.upload(package.id, archive)
    entry = await nubo.catalogue.onboard(copy.deepcopy(iperf.NSD))
    return entry.id


def read(docker_client: Any, nsr: NetworkServiceRecord, vnf: str, index: int, name: str) -> str:
    """A file the VNFC's scripts wrote under the state folder."""
    container = vnfc_container(docker_client, nsr.vnfr_by_name(vnf).vnfcs()[index].id)
    code, output = container.exec_run(["cat", f"{iperf.STATE_DIR}/{name}"])
    assert code == 0, output
    text: str = output.decode()
    return text


async def test_scripts_configure_the_client_with_the_servers_values_through_a_scale_out(
    nubo: Nubo, docker_client: Any, stub_image: str
) -> None:
    nsd_id = await onboard_packages(nubo, stub_image, iperf.CLIENT_SCRIPTS)
    nsr, op = await nubo.ns.instantiate(nsd_id, name="iperf-it")
    done = await run(nubo, op)
    assert done.state == OpState.COMPLETED, done.error
    nsr = await nubo.ns.get(nsr.id)
    assert nsr.status == NsStatus.ACTIVE
    [server] = nsr.vnfr_by_name("iperf-server").vnfcs()
    server_ip = server.addresses["private"]
    assert read(docker_client, nsr, "iperf-server", 0, "installed") == (
        f"installed on {server.hostname} at {server_ip}\n"
    )
    assert read(docker_client, nsr, "iperf-server", 0, "started") == "listening on 5201\n"
    assert read(docker_client, nsr, "iperf-client", 0, "servers") == (
        f"{server_ip} {server.hostname} 5201\n"
    )
    assert read(docker_client, nsr, "iperf-client", 0, "started") == "duration 30\n"
    configured = [r for r in done.scripts if r.script == "server_configure.sh"]
    assert [(r.exit_code, r.output) for r in configured] == [
        (0, f"configured for {server.hostname}\n")
    ]
    assert [r.output for r in done.scripts if r.script == "install-srv.sh"] == ["installed\n"]

    vnfr = nsr.vnfr_by_name("iperf-server")
    out = await run(nubo, await nubo.ns.scale_out(nsr.id, vnfr.id, vnfr.vdu[0].id))
    assert out.state == OpState.COMPLETED, out.error
    nsr = await nubo.ns.get(nsr.id)
    first, added = nsr.vnfr_by_name("iperf-server").vnfcs()
    added_ip = added.addresses["private"]
    assert read(docker_client, nsr, "iperf-server", 1, "installed") == (
        f"installed on {added.hostname} at {added_ip}\n"
    )
    # the client's CONFIGURE ran again: once for the new server VNFC, and the summary
    assert read(docker_client, nsr, "iperf-client", 0, "servers") == (
        f"{server_ip} {server.hostname} 5201\n{added_ip} {added.hostname} 5201\n"
    )
    assert read(docker_client, nsr, "iperf-client", 0, "summary") == f"{server_ip},{added_ip}\n"

    term = await run(nubo, await nubo.ns.terminate(nsr.id))
    assert term.state == OpState.COMPLETED, term.error
    stops = [r for r in term.scripts if r.script == "stop-srv.sh"]
    assert sorted(r.vnfc for r in stops) == sorted([first.hostname, added.hostname])
    assert all(r.exit_code == 0 and r.output == "stopping iperf server\n" for r in stops)
    containers, networks = labelled(docker_client, nsr.id)
    assert containers == [] and networks == []


async def test_a_failing_configure_script_rolls_the_ns_back_with_its_exit_code_and_output(
    nubo: Nubo, docker_client: Any, stub_image: str
) -> None:
    failing = iperf.CLIENT_SCRIPTS | {
        "server_configure.sh": '#!/bin/sh\necho "cannot reach $server_private" >&2\nexit 4\n'
    }
    nsd_id = await onboard_packages(nubo, stub_image, failing)
    nsr, op = await nubo.ns.instantiate(nsd_id, name="iperf-fail")
    done = await run(nubo, op)
    assert done.state == OpState.ROLLED_BACK
    assert done.error is not None
    assert done.error["code"] == "LIFECYCLE_SCRIPT_FAILED" and done.error["exit_code"] == 4
    [run_] = [r for r in done.scripts if r.script == "server_configure.sh"]
    assert run_.exit_code == 4 and run_.output.startswith("cannot reach 10.")
    assert str(done.error["detail"]).endswith(run_.output.strip())
    containers, networks = labelled(docker_client, nsr.id)
    assert containers == [] and networks == []


async def test_scale_out_and_in_scripts_tell_the_existing_vnfc_of_its_peer(
    nubo: Nubo, docker_client: Any, stub_image: str
) -> None:
    vnfd = iperf.with_image(iperf.SERVER_VNFD, stub_image)
    vnfd["lifecycle_event"] += [
        {"event": "SCALE_OUT", "lifecycle_events": ["peer-joined.sh"]},
        {"event": "SCALE_IN", "lifecycle_events": ["peer-left.sh"]},
    ]
    scripts = iperf.SERVER_SCRIPTS | {
        "peer-joined.sh": "#!/bin/sh\nset -e\n"
        f'echo "$scaled_hostname $scaled_private" >> {iperf.STATE_DIR}/peers\n',
        "peer-left.sh": f'#!/bin/sh\necho "$removing_hostname" > {iperf.STATE_DIR}/left\n',
    }
    for archive in (
        iperf.package(vnfd, scripts),
        iperf.client_package(stub_image, iperf.CLIENT_SCRIPTS),
    ):
        package = await nubo.packages.create()
        await nubo.packages.upload(package.id, archive)
    entry = await nubo.catalogue.onboard(copy.deepcopy(iperf.NSD))
    assert entry.warnings == []
    nsr, op = await nubo.ns.instantiate(entry.id, name="iperf-peers")
    done = await run(nubo, op)
    assert done.state == OpState.COMPLETED, done.error
    assert not [r for r in done.scripts if r.event in ("SCALE_OUT", "SCALE_IN")]
    vnfr = (await nubo.ns.get(nsr.id)).vnfr_by_name("iperf-server")

    out = await run(nubo, await nubo.ns.scale_out(nsr.id, vnfr.id, vnfr.vdu[0].id))
    assert out.state == OpState.COMPLETED, out.error
    nsr = await nubo.ns.get(nsr.id)
    first, added = nsr.vnfr_by_name("iperf-server").vnfcs()
    # written by the SCALE_OUT script in the VNFC that was already there
    assert read(docker_client, nsr, "iperf-server", 0, "peers") == (
        f"{added.hostname} {added.addresses['private']}\n"
    )
    [joined] = [r for r in out.scripts if r.script == "peer-joined.sh"]
    assert (joined.vnfc, joined.event, joined.exit_code) == (first.hostname, "SCALE_OUT", 0)

    scaled_in = await run(nubo, await nubo.ns.scale_in(nsr.id, vnfr.id, vnfr.vdu[0].id, added.id))
    assert scaled_in.state == OpState.COMPLETED, scaled_in.error
    nsr = await nubo.ns.get(nsr.id)
    assert [c.id for c in nsr.vnfr_by_name("iperf-server").vnfcs()] == [first.id]
    assert read(docker_client, nsr, "iperf-server", 0, "left") == f"{added.hostname}\n"

    term = await run(nubo, await nubo.ns.terminate(nsr.id))
    assert term.state == OpState.COMPLETED, term.error
    containers, networks = labelled(docker_client, nsr.id)
    assert containers == [] and networks == []
