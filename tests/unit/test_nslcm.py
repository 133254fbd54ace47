"""SOL005 NS lifecycle over the in-memory VIM: NS instances, operation occurrences, tasks."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from nubo.app import Nubo
from nubo.nfvo.operations import FaultHook
from tests.conftest import api_client, fake_nubo, running
from tests.unit.test_api import assert_problem
from tests.unit.test_nsd_sol005 import NSD_YAML, YAML, onboard_nsd, onboard_packages

NSD = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"
LCM = "/nslcm/v1"


class Faults:
    """A fault hook the test arms: raise or hang at one point of one operation."""

    def __init__(self) -> None:
        self.point = ""
        self.action: Callable[[], Awaitable[None]] | None = None
        self.reached = asyncio.Event()

    def arm(self, point: str, action: Callable[[], Awaitable[None]]) -> None:
        self.point, self.action = point, action
        self.reached.clear()

    async def __call__(self, operation: str, where: str) -> None:
        if self.action is not None and f"{operation}:{where}" == self.point:
            action, self.action = self.action, None
            self.reached.set()
            await action()


async def _boom() -> None:
    raise RuntimeError("injected failure")


async def _hang() -> None:
    await asyncio.sleep(60)


@pytest.fixture
def faults() -> Faults:
    return Faults()


@pytest.fixture
async def app(tmp_path: Path, faults: Faults) -> AsyncIterator[Nubo]:
    hook: FaultHook = faults
    async with running(fake_nubo(tmp_path, fault_hook=hook)) as nubo:
        yield nubo


@pytest.fixture
async def http(app: Nubo) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as client:
        yield client


async def onboard(http: httpx.AsyncClient) -> str:
    r = await http.post("/api/v1/ns-descriptors", content=NSD.read_bytes())
    assert r.status_code == 201, r.text
    nsd_id: str = r.json()["id"]
    return nsd_id


async def create(http: httpx.AsyncClient, nsd_id: str, name: str = "sol-ns") -> dict[str, Any]:
    r = await http.post(f"{LCM}/ns_instances", json={"nsdId": nsd_id, "nsName": name})
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    assert r.headers["location"] == f"{LCM}/ns_instances/{body['id']}"
    return body


async def settle(http: httpx.AsyncClient, response: httpx.Response) -> dict[str, Any]:
    """Follow a 202's Location until the occurrence leaves PROCESSING/ROLLING_BACK."""
    assert response.status_code == 202, response.text
    location = response.headers["location"]
    assert location.startswith(f"{LCM}/ns_lcm_op_occs/")
    for _ in range(300):
        op: dict[str, Any] = (await http.get(location)).json()
        if op["operationState"] not in ("PROCESSING", "ROLLING_BACK"):
            return op
        await asyncio.sleep(0.02)
    raise AssertionError(f"{location} did not settle")


async def instantiate(http: httpx.AsyncClient, ns_id: str) -> httpx.Response:
    return await http.post(
        f"{LCM}/ns_instances/{ns_id}/instantiate", json={"nsFlavourId": "default"}
    )


async def test_create_instantiate_scale_terminate_delete(http: httpx.AsyncClient) -> None:
    nsd_id = await onboard(http)
    ns = await create(http, nsd_id)
    assert ns["nsState"] == "NOT_INSTANTIATED" and "vnfInstance" not in ns
    assert ns["nsdId"] == ns["nsdInfoId"] == nsd_id
    assert set(ns["_links"]) == {"self", "instantiate"}
    assert [n["id"] for n in (await http.get(f"{LCM}/ns_instances")).json()] == [ns["id"]]

    op = await settle(http, await instantiate(http, ns["id"]))
    assert op["operationState"] == "COMPLETED", op
    assert op["lcmOperationType"] == "INSTANTIATE" and op["nsInstanceId"] == ns["id"]
    assert set(op["_links"]) == {"self", "nsInstance"}
    shown = (await http.get(f"{LCM}/ns_instances/{ns['id']}")).json()
    assert shown["nsState"] == "INSTANTIATED" and shown["nuboStatus"] == "ACTIVE"
    names = sorted(v["vnfInstanceName"] for v in shown["vnfInstance"])
    assert names == ["sipp-client", "sipp-server"]
    assert [vl["nsVirtualLinkDescId"] for vl in shown["virtualLinkInfo"]] == ["private"]
    # the same record through the Open Baton routes: dependency resolved
    nsr = (await http.get(f"/api/v1/ns-records/{ns['id']}")).json()
    client = next(v for v in nsr["vnfr"] if v["name"] == "sipp-client")
    assert client["dependency_env"]["SERVER_PRIVATE"]

    client_id = next(v["id"] for v in shown["vnfInstance"] if v["vnfInstanceName"] == "sipp-client")
    scale = {
        "scaleType": "SCALE_VNF",
        "scaleVnfData": [
            {
                "vnfInstanceId": client_id,
                "scaleVnfType": "SCALE_OUT",
                "scaleByStepData": {"aspectId": "sipp_calls", "numberOfSteps": 1},
            }
        ],
    }
    op = await settle(http, await http.post(f"{LCM}/ns_instances/{ns['id']}/scale", json=scale))
    assert (op["operationState"], op["lcmOperationType"], op["nuboOperation"]) == (
        "COMPLETED",
        "SCALE",
        "SCALE_OUT",
    )
    shown = (await http.get(f"{LCM}/ns_instances/{ns['id']}")).json()
    vnf = next(v for v in shown["vnfInstance"] if v["id"] == client_id)
    assert len(vnf["instantiatedVnfInfo"]["vnfcResourceInfo"]) == 2
    scale["scaleVnfData"][0]["scaleVnfType"] = "SCALE_IN"
    op = await settle(http, await http.post(f"{LCM}/ns_instances/{ns['id']}/scale", json=scale))
    assert (op["operationState"], op["nuboOperation"]) == ("COMPLETED", "SCALE_IN")

    assert_problem(await http.delete(f"{LCM}/ns_instances/{ns['id']}"), 409, "CONFLICT")
    op = await settle(http, await http.post(f"{LCM}/ns_instances/{ns['id']}/terminate", json={}))
    assert op["operationState"] == "COMPLETED"
    shown = (await http.get(f"{LCM}/ns_instances/{ns['id']}")).json()
    assert shown["nsState"] == "NOT_INSTANTIATED"
    ops = (await http.get(f"{LCM}/ns_lcm_op_occs", params={"nsInstanceId": ns["id"]})).json()
    assert [o["nuboOperation"] for o in ops] == [
        "TERMINATE",
        "SCALE_IN",
        "SCALE_OUT",
        "INSTANTIATE",
    ]

    r = await http.delete(f"{LCM}/ns_instances/{ns['id']}")
    assert r.status_code == 204, r.text
    assert_problem(await http.get(f"{LCM}/ns_instances/{ns['id']}"), 404, "NOT_FOUND")


async def test_a_terminated_instance_can_be_instantiated_again(http: httpx.AsyncClient) -> None:
    ns = await create(http, await onboard(http))
    for _ in range(2):
        assert (await settle(http, await instantiate(http, ns["id"])))["operationState"] == (
            "COMPLETED"
        )
        r = await http.post(f"{LCM}/ns_instances/{ns['id']}/terminate")
        assert (await settle(http, r))["operationState"] == "COMPLETED"


async def test_bad_requests_are_problems_and_change_nothing(http: httpx.AsyncClient) -> None:
    nsd_id = await onboard(http)
    assert_problem(
        await http.post(f"{LCM}/ns_instances", json={"nsdId": "nope", "nsName": "x"}),
        404,
        "NOT_FOUND",
    )
    assert_problem(
        await http.post(f"{LCM}/ns_instances", json={"nsdId": nsd_id}), 400, "BAD_REQUEST"
    )
    assert (await http.get(f"{LCM}/ns_instances")).json() == []
    ns = await create(http, nsd_id)
    url = f"{LCM}/ns_instances/{ns['id']}"
    assert_problem(await http.post(f"{url}/instantiate", json={}), 400, "BAD_REQUEST")
    body = {"nsFlavourId": "default", "additionalParamsForNs": {"vimId": "no-such-vim"}}
    assert_problem(await http.post(f"{url}/instantiate", json=body), 404, "NOT_FOUND")
    assert_problem(await http.post(f"{url}/terminate"), 409, "CONFLICT")
    scale = {
        "scaleType": "SCALE_VNF",
        "scaleVnfData": [{"vnfInstanceId": "sipp-client", "scaleVnfType": "SCALE_OUT"}],
    }
    assert_problem(await http.post(f"{url}/scale", json=scale), 409, "CONFLICT")
    assert (await http.get(f"{LCM}/ns_lcm_op_occs")).json() == []

    await settle(http, await instantiate(http, ns["id"]))
    assert_problem(await instantiate(http, ns["id"]), 409, "CONFLICT")
    scale["scaleVnfData"][0]["vnfInstanceId"] = "nope"
    assert_problem(await http.post(f"{url}/scale", json=scale), 404, "NOT_FOUND")
    scale["scaleVnfData"][0] |= {
        "vnfInstanceId": "sipp-client",
        "scaleByStepData": {"numberOfSteps": 2},
    }
    assert_problem(await http.post(f"{url}/scale", json=scale), 400, "BAD_REQUEST")
    scale["scaleVnfData"][0]["scaleVnfType"] = "SCALE_IN"
    scale["scaleVnfData"][0]["scaleByStepData"] = {"numberOfSteps": 1}
    problem = assert_problem(await http.post(f"{url}/scale", json=scale), 409, "CONFLICT")
    assert "single VNFC" in problem["detail"]
    heal = {"healVnfData": [{"vnfInstanceId": "sipp-server"}]}
    problem = assert_problem(await http.post(f"{url}/heal", json=heal), 409, "CONFLICT")
    assert "RUNNING" in problem["detail"]
    assert_problem(await http.get(f"{LCM}/ns_lcm_op_occs/nope"), 404, "NOT_FOUND")
    op_id = (await http.get(f"{LCM}/ns_lcm_op_occs")).json()[0]["id"]
    for task in ("retry", "rollback", "fail", "cancel"):
        assert_problem(await http.post(f"{LCM}/ns_lcm_op_occs/{op_id}/{task}"), 409, "CONFLICT")


async def test_failure_waits_in_failed_temp_then_retry(
    http: httpx.AsyncClient, faults: Faults
) -> None:
    ns = await create(http, await onboard(http))
    faults.arm("INSTANTIATE:before:configure", _boom)
    op = await settle(http, await instantiate(http, ns["id"]))
    assert op["operationState"] == "FAILED_TEMP", op
    assert op["error"]["step"] == "configure" and "injected failure" in op["error"]["detail"]
    assert set(op["_links"]) == {"self", "nsInstance", "retry", "rollback", "fail"}
    # nothing else may run on the NS while it waits
    problem = assert_problem(
        await http.post(f"{LCM}/ns_instances/{ns['id']}/terminate"), 409, "CONFLICT"
    )
    assert "FAILED_TEMP" in problem["detail"]

    retried = await settle(http, await http.post(f"{LCM}/ns_lcm_op_occs/{op['id']}/retry"))
    assert retried["id"] == op["id"] and retried["operationState"] == "COMPLETED"
    assert "error" not in retried
    shown = (await http.get(f"{LCM}/ns_instances/{ns['id']}")).json()
    assert shown["nuboStatus"] == "ACTIVE"


async def test_rollback_from_failed_temp_leaves_nothing(
    app: Nubo, http: httpx.AsyncClient, faults: Faults
) -> None:
    ns = await create(http, await onboard(http))
    faults.arm("INSTANTIATE:after:allocate", _boom)
    op = await settle(http, await instantiate(http, ns["id"]))
    assert op["operationState"] == "FAILED_TEMP"
    driver = await app.vims.driver((await app.vims.default()).id)
    assert await driver.list_servers({})  # reserved servers exist until rolled back
    rolled = await settle(http, await http.post(f"{LCM}/ns_lcm_op_occs/{op['id']}/rollback"))
    assert rolled["operationState"] == "ROLLED_BACK"
    assert await driver.list_servers({}) == [] and await driver.list_networks({}) == []
    shown = (await http.get(f"{LCM}/ns_instances/{ns['id']}")).json()
    assert shown["nsState"] == "NOT_INSTANTIATED" and shown["nuboStatus"] == "NOT_INSTANTIATED"
    assert (await settle(http, await instantiate(http, ns["id"])))["operationState"] == "COMPLETED"


async def test_fail_gives_up_and_marks_the_ns(http: httpx.AsyncClient, faults: Faults) -> None:
    ns = await create(http, await onboard(http))
    faults.arm("INSTANTIATE:before:verify", _boom)
    op = await settle(http, await instantiate(http, ns["id"]))
    r = await http.post(f"{LCM}/ns_lcm_op_occs/{op['id']}/fail")
    assert r.status_code == 200, r.text
    assert r.json()["operationState"] == "FAILED" and set(r.json()["_links"]) == {
        "self",
        "nsInstance",
    }
    shown = (await http.get(f"{LCM}/ns_instances/{ns['id']}")).json()
    assert shown["nuboStatus"] == "ERROR"
    # an NS in ERROR can be terminated, which removes what the failed instantiation left
    r = await http.post(f"{LCM}/ns_instances/{ns['id']}/terminate")
    assert (await settle(http, r))["operationState"] == "COMPLETED"


async def test_cancel_stops_a_running_operation(
    app: Nubo, http: httpx.AsyncClient, faults: Faults
) -> None:
    ns = await create(http, await onboard(http))
    faults.arm("INSTANTIATE:after:create-networks", _hang)
    r = await instantiate(http, ns["id"])
    await asyncio.wait_for(faults.reached.wait(), 5)
    cancel = await http.post(r.headers["location"] + "/cancel", json={"cancelMode": "FORCEFUL"})
    op = await settle(http, cancel)
    assert op["operationState"] == "FAILED_TEMP" and op["error"]["code"] == "CANCELLED"
    assert "create-networks" in op["error"]["detail"] or op["error"]["step"] == "create-networks"
    rolled = await settle(http, await http.post(f"{LCM}/ns_lcm_op_occs/{op['id']}/rollback"))
    assert rolled["operationState"] == "ROLLED_BACK"
    driver = await app.vims.driver((await app.vims.default()).id)
    assert await driver.list_networks({}) == []


async def test_an_interrupted_sol005_operation_waits_after_a_restart(
    tmp_path: Path, faults: Faults
) -> None:
    first = fake_nubo(tmp_path, fault_hook=faults)
    await first.start()
    nsd = await first.catalogue.onboard(NSD.read_bytes())
    nsr = await first.instances.create_instance(nsd.id, "interrupted")
    faults.arm("INSTANTIATE:before:configure", _hang)
    op = await first.instances.instantiate_instance(nsr.id)
    await asyncio.wait_for(faults.reached.wait(), 5)
    await first.stop()  # the occurrence stays PROCESSING, as after a crash

    second = fake_nubo(tmp_path)
    await second.start()
    try:
        held = await second.ns.operation(op.id)
        assert held.state.value == "FAILED_TEMP"
        assert held.error is not None and held.error["code"] == "INTERRUPTED"
        retried = await second.instances.retry(op.id)
        done = await second.runner.wait(retried.id, timeout=10)
        assert done.state.value == "COMPLETED"
    finally:
        await second.stop()


async def test_open_baton_operations_still_roll_back_at_once(
    http: httpx.AsyncClient, faults: Faults
) -> None:
    nsd_id = await onboard(http)
    faults.arm("INSTANTIATE:before:configure", _boom)
    r = await http.post(f"/api/v1/ns-records/{nsd_id}")
    assert r.status_code == 202, r.text
    op_id = r.headers["location"].rsplit("/", 1)[-1]
    same = httpx.Response(202, headers={"location": f"{LCM}/ns_lcm_op_occs/{op_id}"})
    op = await settle(http, same)
    assert op["operationState"] == "ROLLED_BACK"
    assert op["isAutomaticInvocation"] is False and op["lcmOperationType"] == "INSTANTIATE"


async def test_a_tosca_ns_instance_names_its_descriptor_by_its_own_id(
    http: httpx.AsyncClient,
) -> None:
    await onboard_packages(http)
    info = await onboard_nsd(http, NSD_YAML.read_bytes(), YAML["Content-Type"])
    ns = await create(http, info["id"])
    assert (ns["nsdId"], ns["nsdInfoId"]) == ("3f1f6c1e-docker-test-NS-sipp", info["id"])
    assert (await settle(http, await instantiate(http, ns["id"])))["operationState"] == "COMPLETED"
    listed = (await http.get(f"{LCM}/ns_instances")).json()
    assert [n["nsdId"] for n in listed] == ["3f1f6c1e-docker-test-NS-sipp"]


async def test_a_cancelled_rollback_waits_and_can_be_rolled_back_again(
    app: Nubo, http: httpx.AsyncClient, faults: Faults
) -> None:
    ns = await create(http, await onboard(http))
    faults.arm("INSTANTIATE:before:configure", _boom)
    op = await settle(http, await instantiate(http, ns["id"]))
    assert op["operationState"] == "FAILED_TEMP"
    faults.arm("INSTANTIATE:before:remove-vnfcs", _hang)
    r = await http.post(f"{LCM}/ns_lcm_op_occs/{op['id']}/rollback")
    assert r.status_code == 202, r.text
    await asyncio.wait_for(faults.reached.wait(), 5)
    assert (await http.get(r.headers["location"])).json()["operationState"] == "ROLLING_BACK"
    held = await settle(http, await http.post(f"{LCM}/ns_lcm_op_occs/{op['id']}/cancel"))
    assert held["operationState"] == "FAILED_TEMP" and held["error"]["code"] == "CANCELLED"
    assert "injected failure" in held["error"]["earlier_error"]
    rolled = await settle(http, await http.post(f"{LCM}/ns_lcm_op_occs/{op['id']}/rollback"))
    assert rolled["operationState"] == "ROLLED_BACK"
    driver = await app.vims.driver((await app.vims.default()).id)
    assert await driver.list_servers({}) == [] and await driver.list_networks({}) == []


async def test_create_takes_the_nsds_own_id_as_nsd_id(http: httpx.AsyncClient) -> None:
    await onboard_packages(http)
    info = await onboard_nsd(http, NSD_YAML.read_bytes(), YAML["Content-Type"])
    ns = await create(http, info["nsdId"])
    assert (ns["nsdId"], ns["nsdInfoId"]) == (info["nsdId"], info["id"])
    # the NsdInfo id, as earlier releases read nsdId, still names the same NSD
    old = await create(http, info["id"], name="by-nsd-info-id")
    assert (old["nsdId"], old["nsdInfoId"]) == (info["nsdId"], info["id"])
    problem = assert_problem(
        await http.post(f"{LCM}/ns_instances", json={"nsdId": "nope", "nsName": "x"}),
        404,
        "NOT_FOUND",
    )
    assert problem["field"] == "nsdId" and "'nope'" in problem["detail"]


async def test_an_nsd_id_of_several_enabled_nsds_is_ambiguous(http: httpx.AsyncClient) -> None:
    await onboard_packages(http)
    first = await onboard_nsd(http, NSD_YAML.read_bytes(), YAML["Content-Type"])
    second = await onboard_nsd(http, NSD_YAML.read_bytes(), YAML["Content-Type"])
    assert first["nsdId"] == second["nsdId"]
    problem = assert_problem(
        await http.post(f"{LCM}/ns_instances", json={"nsdId": first["nsdId"], "nsName": "x"}),
        409,
        "CONFLICT",
    )
    assert first["id"] in problem["detail"] and second["id"] in problem["detail"]
    # with one of them disabled, the nsdId names the other
    disable = {"nsdOperationalState": "DISABLED"}
    r = await http.patch(f"/nsd/v1/ns_descriptors/{first['id']}", json=disable)
    assert r.status_code == 200, r.text
    ns = await create(http, first["nsdId"])
    assert ns["nsdInfoId"] == second["id"]
    # an NsdInfo id still picks exactly that one
    assert (await create(http, second["id"], name="x2"))["nsdInfoId"] == second["id"]


async def test_vnf_instances_name_their_vnfd_and_package(http: httpx.AsyncClient) -> None:
    package_ids = await onboard_packages(http)
    packages = {p: (await http.get(f"/vnfpkgm/v1/vnf_packages/{p}")).json() for p in package_ids}
    info = await onboard_nsd(http, NSD_YAML.read_bytes(), YAML["Content-Type"])
    ns = await create(http, info["nsdId"])
    op = await settle(http, await instantiate(http, ns["id"]))
    assert op["operationState"] == "COMPLETED"
    assert op["operationParams"]["nsFlavourId"] == "default" and "vimId" in op["nuboParams"]
    shown = (await http.get(f"{LCM}/ns_instances/{ns['id']}")).json()
    for vnf in shown["vnfInstance"]:
        package = packages[vnf["vnfPkgId"]]
        assert (vnf["vnfdId"], vnf["vnfdVersion"]) == (package["vnfdId"], package["vnfdVersion"])
        for vnfc in vnf["instantiatedVnfInfo"]["vnfcResourceInfo"]:
            for cp in vnfc["vnfcCpInfo"]:
                assert cp["id"] and cp["cpdId"]
                [protocol] = cp["cpProtocolInfo"]
                [ip] = protocol["ipOverEthernet"]["ipAddresses"]
                assert protocol["layerProtocol"] == "IP_OVER_ETHERNET" and ip["addresses"]
    for vl in shown["virtualLinkInfo"]:
        assert vl["nsVirtualLinkProfileId"] and isinstance(vl["resourceHandle"], list)


async def test_operation_params_are_the_request(http: httpx.AsyncClient) -> None:
    ns = await create(http, await onboard(http))
    await settle(http, await instantiate(http, ns["id"]))
    shown = (await http.get(f"{LCM}/ns_instances/{ns['id']}")).json()
    client = next(v for v in shown["vnfInstance"] if v["vnfInstanceName"] == "sipp-client")
    assert client["vnfPkgId"] == ns["nsdInfoId"]  # an Open Baton VNF came inside its NSD
    scale = {
        "scaleType": "SCALE_VNF",
        "scaleVnfData": [{"vnfInstanceId": client["id"], "scaleVnfType": "SCALE_OUT"}],
    }
    op = await settle(http, await http.post(f"{LCM}/ns_instances/{ns['id']}/scale", json=scale))
    assert op["lcmOperationType"] == "SCALE"
    [data] = op["operationParams"]["scaleVnfData"]
    assert (data["vnfInstanceId"], data["scaleVnfType"]) == (client["id"], "SCALE_OUT")
    assert data["scaleByStepData"]["numberOfSteps"] == 1
    vnfc = client["instantiatedVnfInfo"]["vnfcResourceInfo"][0]["id"]
    heal = {
        "healVnfData": [
            {"vnfInstanceId": client["id"], "additionalParams": {"vnfcInstanceId": vnfc}}
        ]
    }
    healed = await settle(http, await http.post(f"{LCM}/ns_instances/{ns['id']}/heal", json=heal))
    assert healed["lcmOperationType"] == "HEAL", healed
    [data] = healed["operationParams"]["healVnfData"]
    assert data["vnfInstanceId"] == client["id"]
    assert data["additionalParams"] == {"vnfcInstanceId": vnfc}
    listed = (await http.get(f"{LCM}/ns_lcm_op_occs", params={"fields": "operationParams"})).json()
    assert all("operationParams" in o for o in listed)
    assert any(o["operationParams"] == healed["operationParams"] for o in listed)
