"""The SIPp service written in ETSI SOL001/SOL004, on the real Docker Engine, over SOL005.

Two VNF packages (CSARs zipped from examples/sipp-tosca/packages) and the
SOL001 NSD are onboarded through /vnfpkgm/v1 and /nsd/v1; an NS instance is
created, instantiated, scaled and terminated through /nslcm/v1, while a
subscriber on loopback receives the lifecycle notifications. The deployed
service must pass the same real-SIP-calls check as the Open Baton JSON one.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from nubo.app import Nubo
from nubo.cli.packages import zip_directory
from tests.callback_server import CallbackServer
from tests.conftest import api_client, docker_nubo, running
from tests.per_flavour import per_flavour_csar
from tests.sip_checks import labelled, vnfc_container, wait_for_calls
from tests.unit.test_subscriptions import LIFECYCLE, steps

pytestmark = pytest.mark.docker

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "sipp-tosca"
LCM = "/nslcm/v1"


@pytest.fixture
async def nubo(tmp_path: Path, docker_client: Any) -> AsyncIterator[Nubo]:
    async with running(docker_nubo(tmp_path), docker_client) as app:
        yield app


@pytest.fixture
async def http(nubo: Nubo) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(nubo) as client:
        yield client


async def settle(http: httpx.AsyncClient, response: httpx.Response) -> dict[str, Any]:
    """Follow a 202's Location until the occurrence leaves PROCESSING/ROLLING_BACK (bounded)."""
    assert response.status_code == 202, response.text
    for _ in range(1200):
        op: dict[str, Any] = (await http.get(response.headers["location"])).json()
        if op["operationState"] not in ("PROCESSING", "ROLLING_BACK"):
            return op
        await asyncio.sleep(0.1)
    raise AssertionError(f"{response.headers['location']} did not settle in 120 s")


async def onboard(http: httpx.AsyncClient, pack: Callable[[Path], bytes] = zip_directory) -> str:
    for name in ("sipp-server", "sipp-client"):
        created = await http.post("/vnfpkgm/v1/vnf_packages", json={})
        assert created.status_code == 201, created.text
        uploaded = await http.put(
            f"/vnfpkgm/v1/vnf_packages/{created.json()['id']}/package_content",
            content=pack(EXAMPLE / "packages" / name),
            headers={"Content-Type": "application/zip"},
        )
        assert uploaded.status_code == 204, uploaded.text
    nsd = await http.post("/nsd/v1/ns_descriptors", json={})
    assert nsd.status_code == 201, nsd.text
    nsd_id: str = nsd.json()["id"]
    uploaded = await http.put(
        f"/nsd/v1/ns_descriptors/{nsd_id}/nsd_content",
        content=(EXAMPLE / "nsd.yaml").read_bytes(),
        headers={"Content-Type": "application/yaml"},
    )
    assert uploaded.status_code == 204, uploaded.text
    info = (await http.get(f"/nsd/v1/ns_descriptors/{nsd_id}")).json()
    assert len(info["vnfPkgIds"]) == 2
    return nsd_id


async def test_tosca_sipp_service_calls_scales_and_terminates(
    nubo: Nubo, http: httpx.AsyncClient, docker_client: Any
) -> None:
    with CallbackServer() as subscriber:
        subscription = await http.post(
            f"{LCM}/subscriptions",
            json={
                "callbackUri": subscriber.url,
                "filter": {"notificationTypes": ["NsLcmOperationOccurrenceNotification"]},
            },
        )
        assert subscription.status_code == 201, subscription.text

        nsd_id = await onboard(http)
        created = await http.post(
            f"{LCM}/ns_instances", json={"nsdId": nsd_id, "nsName": "sipp-tosca"}
        )
        assert created.status_code == 201, created.text
        ns_id = created.json()["id"]

        body = {"nsFlavourId": "default"}
        op = await settle(
            http, await http.post(f"{LCM}/ns_instances/{ns_id}/instantiate", json=body)
        )
        assert op["operationState"] == "COMPLETED", op.get("error")
        nsr = await nubo.ns.get(ns_id)
        server = nsr.vnfr_by_name("sipp-server").vnfcs()[0]
        client = nsr.vnfr_by_name("sipp-client").vnfcs()[0]
        # the same running result as the Open Baton JSON version
        client_env = vnfc_container(docker_client, client.id).attrs["Config"]["Env"]
        assert f"SERVER_PRIVATE={server.addresses['private']}" in client_env
        assert "SIPP_RATE=10" in client_env
        assert "SIPP_EXTRA_NOTE=from-env-file" in client_env  # the package's env file
        successful, failed = wait_for_calls(vnfc_container(docker_client, client.id), minimum=5)
        assert successful >= 5 and failed == 0

        client_vnf = nsr.vnfr_by_name("sipp-client").id
        scale = {
            "scaleType": "SCALE_VNF",
            "scaleVnfData": [
                {
                    "vnfInstanceId": client_vnf,
                    "scaleVnfType": "SCALE_OUT",
                    "scaleByStepData": {"aspectId": "sipp_calls", "numberOfSteps": 1},
                }
            ],
        }
        op = await settle(http, await http.post(f"{LCM}/ns_instances/{ns_id}/scale", json=scale))
        assert op["operationState"] == "COMPLETED", op.get("error")
        clients = (await nubo.ns.get(ns_id)).vnfr_by_name("sipp-client").vnfcs()
        assert len(clients) == 2
        wait_for_calls(vnfc_container(docker_client, clients[1].id), minimum=3)

        op = await settle(http, await http.post(f"{LCM}/ns_instances/{ns_id}/terminate"))
        assert op["operationState"] == "COMPLETED", op.get("error")
        containers, networks = labelled(docker_client, ns_id)
        assert containers == [] and networks == []
        assert (await http.delete(f"{LCM}/ns_instances/{ns_id}")).status_code == 204

        received = await subscriber.wait_for(6, timeout=10)
        assert steps([n for n in received if n["nsInstanceId"] == ns_id]) == LIFECYCLE


async def test_tosca_sipp_in_the_per_flavour_layout_deploys_scales_and_terminates(
    nubo: Nubo, http: httpx.AsyncClient, docker_client: Any
) -> None:
    """The same packages written as Tacker's are: a top-level VNFD, one file per flavour."""
    nsd_id = await onboard(http, per_flavour_csar)
    created = await http.post(f"{LCM}/ns_instances", json={"nsdId": nsd_id, "nsName": "per-df"})
    assert created.status_code == 201, created.text
    ns_id = created.json()["id"]
    url = f"{LCM}/ns_instances/{ns_id}/instantiate"
    op = await settle(http, await http.post(url, json={"nsFlavourId": "default"}))
    assert op["operationState"] == "COMPLETED", op.get("error")
    nsr = await nubo.ns.get(ns_id)
    server = nsr.vnfr_by_name("sipp-server").vnfcs()[0]
    client = nsr.vnfr_by_name("sipp-client").vnfcs()[0]
    client_env = vnfc_container(docker_client, client.id).attrs["Config"]["Env"]
    assert f"SERVER_PRIVATE={server.addresses['private']}" in client_env
    assert "SIPP_EXTRA_NOTE=from-env-file" in client_env
    wait_for_calls(vnfc_container(docker_client, client.id), minimum=3)

    scale = {
        "scaleType": "SCALE_VNF",
        "scaleVnfData": [
            {
                "vnfInstanceId": nsr.vnfr_by_name("sipp-client").id,
                "scaleVnfType": "SCALE_OUT",
                "scaleByStepData": {"aspectId": "sipp_calls", "numberOfSteps": 1},
            }
        ],
    }
    op = await settle(http, await http.post(f"{LCM}/ns_instances/{ns_id}/scale", json=scale))
    assert op["operationState"] == "COMPLETED", op.get("error")
    assert len((await nubo.ns.get(ns_id)).vnfr_by_name("sipp-client").vnfcs()) == 2

    op = await settle(http, await http.post(f"{LCM}/ns_instances/{ns_id}/terminate"))
    assert op["operationState"] == "COMPLETED", op.get("error")
    assert labelled(docker_client, ns_id) == ([], [])


async def test_a_held_instantiation_is_retried_or_rolled_back_on_docker(
    tmp_path: Path, docker_client: Any
) -> None:
    """FAILED_TEMP with real containers up: retry finishes the NS, rollback removes it all."""
    armed = {"on": True}

    async def fail_once_before_verify(operation: str, where: str) -> None:
        if armed["on"] and operation == "INSTANTIATE" and where == "before:verify":
            armed["on"] = False
            raise RuntimeError("injected fault before verify")

    app = docker_nubo(tmp_path, fault_hook=fail_once_before_verify)
    async with running(app, docker_client), api_client(app) as http:
        nsd_id = await onboard(http)
        instances = []
        for name in ("retried", "rolled-back"):
            armed["on"] = True
            created = await http.post(f"{LCM}/ns_instances", json={"nsdId": nsd_id, "nsName": name})
            ns_id = created.json()["id"]
            instances.append(ns_id)
            url = f"{LCM}/ns_instances/{ns_id}/instantiate"
            op = await settle(http, await http.post(url, json={"nsFlavourId": "default"}))
            assert op["operationState"] == "FAILED_TEMP" and op["error"]["step"] == "verify"
            containers, _ = labelled(docker_client, ns_id)
            assert len(containers) == 2  # started before the fault, left for the decision

        retried, rolled_back = instances
        ops = f"{LCM}/ns_lcm_op_occs"
        op_id = (await http.get(ops, params={"nsInstanceId": retried})).json()[0]["id"]
        op = await settle(http, await http.post(f"{ops}/{op_id}/retry"))
        assert op["operationState"] == "COMPLETED", op.get("error")
        client = (await app.ns.get(retried)).vnfr_by_name("sipp-client").vnfcs()[0]
        wait_for_calls(vnfc_container(docker_client, client.id), minimum=3)

        op_id = (await http.get(ops, params={"nsInstanceId": rolled_back})).json()[0]["id"]
        op = await settle(http, await http.post(f"{ops}/{op_id}/rollback"))
        assert op["operationState"] == "ROLLED_BACK", op.get("error")
        assert labelled(docker_client, rolled_back) == ([], [])
        shown = (await http.get(f"{LCM}/ns_instances/{rolled_back}")).json()
        assert shown["nsState"] == "NOT_INSTANTIATED"
