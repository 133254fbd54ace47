"""The SIPp NS on the real Docker Engine, driven in-process through the NFVO services."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nubo.app import Nubo
from nubo.model.records import LcmOpOcc, NetworkServiceRecord
from nubo.model.states import NsStatus, OpState
from nubo.vim.port import LABEL_NS
from tests.conftest import docker_nubo, remove_labelled, running
from tests.sip_checks import labelled, vnfc_container, wait_for_calls

pytestmark = pytest.mark.docker

NSD = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"


@pytest.fixture
async def nubo(tmp_path: Path, docker_client: Any) -> AsyncIterator[Nubo]:
    async with running(docker_nubo(tmp_path), docker_client) as app:
        yield app


async def run(app: Nubo, op: LcmOpOcc) -> LcmOpOcc:
    done = await app.runner.wait(op.id, timeout=120)
    return done


def container_of(docker_client: Any, nsr: NetworkServiceRecord, vnf: str, index: int = 0) -> Any:
    return vnfc_container(docker_client, nsr.vnfr_by_name(vnf).vnfcs()[index].id)


async def test_sipp_ns_instantiates_calls_scales_and_terminates(
    nubo: Nubo, docker_client: Any
) -> None:
    entry = await nubo.catalogue.onboard(NSD.read_bytes())
    nsr, op = await nubo.ns.instantiate(entry.id, name="sipp-it")
    done = await run(nubo, op)
    assert done.state == OpState.COMPLETED, done.error
    nsr = await nubo.ns.get(nsr.id)
    assert nsr.status == NsStatus.ACTIVE

    server = container_of(docker_client, nsr, "sipp-server")
    client = container_of(docker_client, nsr, "sipp-client")
    server_ip = nsr.vnfr_by_name("sipp-server").vnfcs()[0].addresses["private"]
    network = nsr.find_vlr("private")
    assert server.attrs["NetworkSettings"]["Networks"]
    actual_ips = [n["IPAddress"] for n in server.attrs["NetworkSettings"]["Networks"].values()]
    assert actual_ips == [server_ip]
    assert f"SERVER_PRIVATE={server_ip}" in client.attrs["Config"]["Env"]
    assert "SIPP_RATE=10" in client.attrs["Config"]["Env"]
    net = docker_client.networks.get(network.vim_network_id)
    assert net.attrs["IPAM"]["Config"][0]["Subnet"] == network.cidr

    ok, failed = await asyncio.to_thread(wait_for_calls, client)
    assert ok >= 5 and failed == 0

    vnfr = nsr.vnfr_by_name("sipp-client")
    out = await run(nubo, await nubo.ns.scale_out(nsr.id, vnfr.id, vnfr.vdu[0].id))
    assert out.state == OpState.COMPLETED, out.error
    nsr = await nubo.ns.get(nsr.id)
    assert len(nsr.vnfr_by_name("sipp-client").vnfcs()) == 2
    second = container_of(docker_client, nsr, "sipp-client", 1)
    assert f"SERVER_PRIVATE={server_ip}" in second.attrs["Config"]["Env"]
    ok2, failed2 = await asyncio.to_thread(wait_for_calls, second)
    assert ok2 >= 5 and failed2 == 0

    inn = await run(nubo, await nubo.ns.scale_in(nsr.id, vnfr.id, vnfr.vdu[0].id))
    assert inn.state == OpState.COMPLETED, inn.error
    containers, _ = labelled(docker_client, nsr.id)
    assert len(containers) == 2

    term = await run(nubo, await nubo.ns.terminate(nsr.id))
    assert term.state == OpState.COMPLETED, term.error
    assert labelled(docker_client, nsr.id) == ([], [])
    assert (await nubo.ns.get(nsr.id)).status == NsStatus.TERMINATED


async def test_requires_and_provides_reach_the_target_container(
    nubo: Nubo, docker_client: Any
) -> None:
    """The SIPp NSD in the requires/provides style: addresses, hostnames, provided keys."""
    document = json.loads(NSD.read_text())
    del document["vnf_dependency"]
    client, server = document["vnfd"]
    client["requires"] = {"server": {"parameters": ["private", "hostname", "SIP_REALM"]}}
    server["provides"] = ["SIP_REALM"]
    server["configurations"] = {
        "name": "server-conf",
        "configurationParameters": [{"confKey": "SIP_REALM", "value": "nubo.test"}],
    }
    entry = await nubo.catalogue.onboard(document)
    nsr, op = await nubo.ns.instantiate(entry.id, name="sipp-requires")
    done = await run(nubo, op)
    assert done.state == OpState.COMPLETED, done.error
    nsr = await nubo.ns.get(nsr.id)
    vnfc = nsr.vnfr_by_name("sipp-server").vnfcs()[0]
    env = container_of(docker_client, nsr, "sipp-client").attrs["Config"]["Env"]
    assert f"SERVER_PRIVATE={vnfc.addresses['private']}" in env
    assert f"SERVER_HOSTNAME={vnfc.hostname}" in env
    assert "SERVER_SIP_REALM=nubo.test" in env
    ok, failed = await asyncio.to_thread(
        wait_for_calls, container_of(docker_client, nsr, "sipp-client")
    )
    assert ok >= 5 and failed == 0

    term = await run(nubo, await nubo.ns.terminate(nsr.id))
    assert term.state == OpState.COMPLETED, term.error
    assert labelled(docker_client, nsr.id) == ([], [])


@pytest.mark.parametrize(
    "point", ["after:create-networks", "after:allocate", "after:start sipp-server"]
)
async def test_forced_failure_mid_instantiate_rolls_back(
    tmp_path: Path, docker_client: Any, point: str
) -> None:
    async def hook(operation: str, where: str) -> None:
        if operation == "INSTANTIATE" and where == point:
            raise RuntimeError(f"injected fault at {where}")

    app = docker_nubo(tmp_path, fault_hook=hook)
    await app.start()
    nsr_id = ""
    try:
        entry = await app.catalogue.onboard(NSD.read_bytes())
        nsr, op = await app.ns.instantiate(entry.id)
        nsr_id = nsr.id
        done = await run(app, op)
        assert done.state == OpState.ROLLED_BACK
        assert done.error is not None and "injected fault" in str(done.error["detail"])
        assert labelled(docker_client, nsr.id) == ([], [])
        assert (await app.ns.get(nsr.id)).status == NsStatus.ERROR
    finally:
        if nsr_id:
            remove_labelled(docker_client, f"{LABEL_NS}={nsr_id}")
        await app.stop()


async def test_ten_instantiations_in_parallel(nubo: Nubo, docker_client: Any) -> None:
    entry = await nubo.catalogue.onboard(NSD.read_bytes())
    launched = await asyncio.gather(
        *(nubo.ns.instantiate(entry.id, name=f"par-{i}") for i in range(10))
    )
    done = await asyncio.gather(*(run(nubo, op) for _, op in launched))
    assert [d.state for d in done] == [OpState.COMPLETED] * 10, [d.error for d in done]
    subnets = set()
    for nsr, _ in launched:
        record = await nubo.ns.get(nsr.id)
        assert record.status == NsStatus.ACTIVE
        subnets.add(record.find_vlr("private").cidr)
        server_ip = record.vnfr_by_name("sipp-server").vnfcs()[0].addresses["private"]
        client = container_of(docker_client, record, "sipp-client")
        assert f"SERVER_PRIVATE={server_ip}" in client.attrs["Config"]["Env"]
        server = container_of(docker_client, record, "sipp-server")
        ips = [n["IPAddress"] for n in server.attrs["NetworkSettings"]["Networks"].values()]
        assert ips == [server_ip]
    assert len(subnets) == 10
    terminated = await asyncio.gather(*(nubo.ns.terminate(nsr.id) for nsr, _ in launched))
    ends = await asyncio.gather(*(run(nubo, op) for op in terminated))
    assert all(e.state == OpState.COMPLETED for e in ends)
    for nsr, _ in launched:
        assert labelled(docker_client, nsr.id) == ([], [])
