"""SIGKILL the orchestrator in the middle of operations; on restart it finishes them.

The test server (`python -m nubo.testing serve`: `nubo serve` plus the test
seams) runs as a real process with NUBO_TEST_CRASH_AT set: at that point of
the workflow it kills itself with SIGKILL. A second process on the same
database must then bring every operation to a final state, and what runs on
the Docker Engine must match the records: nothing orphaned, nothing duplicated.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nubo.model.records import NetworkServiceRecord
from nubo.store.database import Database
from nubo.store.records import SqlNsRecordRepository
from nubo.vim.port import LABEL_NS
from tests.conftest import INSTANTIATE_POINTS, remove_labelled
from tests.databases import current_databases
from tests.nubo_process import NuboProcess
from tests.sip_checks import labelled

pytestmark = pytest.mark.docker

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NSD = EXAMPLES / "sipp" / "nsd.json"
INDEPENDENT = EXAMPLES / "topologies" / "independent.json"
CHAIN = EXAMPLES / "topologies" / "chain.json"
SIGKILL_EXIT = -9


@pytest.fixture
def nubo(tmp_path: Path, docker_client: Any) -> Iterator[NuboProcess]:
    process = NuboProcess(tmp_path / "data", test_server=True)
    try:
        yield process
    finally:
        process.stop()
        remove_nsrs(process, docker_client)


def remove_nsrs(process: NuboProcess, docker_client: Any) -> None:
    """Clean up every NS the test's database knows, even if nubo is down."""
    for nsr_id in current_databases().nsr_ids(process.database_url):
        remove_labelled(docker_client, f"{LABEL_NS}={nsr_id}")


def onboard(nubo: NuboProcess, nsd: Path = NSD) -> str:
    response = nubo.api("POST", "/api/v1/ns-descriptors", content=nsd.read_bytes())
    assert response.status_code == 201, response.text
    nsd_id: str = response.json()["id"]
    return nsd_id


def records_match_docker(nubo: NuboProcess, docker_client: Any, nsr_id: str) -> dict[str, Any]:
    """Every live VNFC has exactly one running container, and no container lacks a VNFC."""
    nsr: dict[str, Any] = nubo.api("GET", f"/api/v1/ns-records/{nsr_id}").json()
    live = {
        c["id"]
        for v in nsr["vnfr"]
        for d in v["vdu"]
        for c in d["vnfc_instance"]
        if c["state"] != "DELETED"
    }
    containers, networks = labelled(docker_client, nsr_id)
    running = [c.labels["io.nubo.vnfc-id"] for c in containers if c.status == "running"]
    assert sorted(running) == sorted(live), (running, live)
    assert len(containers) == len(live)
    assert len(networks) == len(nsr["vlr"])
    return nsr


def read_nsr(process: NuboProcess, nsr_id: str) -> NetworkServiceRecord:
    """The NSR as its database holds it, with no orchestrator running."""

    async def read() -> NetworkServiceRecord:
        database = Database(process.database_url)
        try:
            return await SqlNsRecordRepository(database).get_nsr(nsr_id)
        finally:
            await database.close()

    return asyncio.run(read())


@pytest.mark.parametrize("point", INSTANTIATE_POINTS)
def test_killed_during_instantiate_resumes_with_the_same_addresses(
    nubo: NuboProcess, docker_client: Any, point: str
) -> None:
    nubo.start(crash_at=f"INSTANTIATE:{point}")
    nsd_id = onboard(nubo)
    response = nubo.api("POST", f"/api/v1/ns-records/{nsd_id}")
    assert response.status_code == 202
    nsr_id, location = response.json()["id"], response.headers["location"]
    assert nubo.wait_killed() == SIGKILL_EXIT
    reserved = {c.id: c.addresses for c in read_nsr(nubo, nsr_id).all_vnfcs() if c.addresses}

    nubo.start()
    op = nubo.wait_op(location)
    assert op["state"] == "COMPLETED", json.dumps(op, indent=1)
    [resume] = [s for s in op["steps"] if s["name"] == "resume"]
    assert resume["detail"].startswith("the orchestrator stopped "), resume
    nsr = records_match_docker(nubo, docker_client, nsr_id)
    assert nsr["status"] == "ACTIVE"
    after = {c.id: c.addresses for c in read_nsr(nubo, nsr_id).all_vnfcs()}
    # what was reserved before the kill is what runs now: no VNFC planned twice
    assert {k: after[k] for k in reserved} == reserved
    assert len(after) == 2
    server = next(v for v in nsr["vnfr"] if v["name"] == "sipp-server")
    client = next(v for v in nsr["vnfr"] if v["name"] == "sipp-client")
    address = server["vdu"][0]["vnfc_instance"][0]["addresses"]["private"]
    [container] = [
        c
        for c in labelled(docker_client, nsr_id)[0]
        if c.labels["io.nubo.vnfc-id"] == client["vdu"][0]["vnfc_instance"][0]["id"]
    ]
    assert f"SERVER_PRIVATE={address}" in container.attrs["Config"]["Env"]


def test_killed_in_the_middle_of_a_parallel_wave_resumes(
    nubo: NuboProcess, docker_client: Any
) -> None:
    # five independent VNFs start in one wave; the kill comes when the third
    # runs, while the others are starting and nothing of the wave is saved
    nubo.start(crash_at="INSTANTIATE:after:vnf worker-3")
    nsd_id = onboard(nubo, INDEPENDENT)
    response = nubo.api("POST", f"/api/v1/ns-records/{nsd_id}")
    assert response.status_code == 202
    nsr_id, location = response.json()["id"], response.headers["location"]
    assert nubo.wait_killed() == SIGKILL_EXIT
    before = read_nsr(nubo, nsr_id).all_vnfcs()
    assert len(before) == 5
    assert {c.state.value for c in before} == {"CREATED"}  # the wave's starts were not saved
    containers = labelled(docker_client, nsr_id)[0]
    assert len(containers) == 5  # every container was created before the first start
    assert "running" in {c.status for c in containers}

    nubo.start()
    op = nubo.wait_op(location)
    assert op["state"] == "COMPLETED", json.dumps(op, indent=1)
    nsr = records_match_docker(nubo, docker_client, nsr_id)
    assert nsr["status"] == "ACTIVE"
    after = {c.id: c for c in read_nsr(nubo, nsr_id).all_vnfcs()}
    assert {c.id: c.addresses for c in before} == {k: c.addresses for k, c in after.items()}
    # the containers that ran before the kill still do; one never started is made
    # again (its run may have stopped before it was on every network)
    started = {c.id for c in containers if c.status == "running"}
    assert started <= {c.id for c in labelled(docker_client, nsr_id)[0]}
    for container in labelled(docker_client, nsr_id)[0]:
        vnfc = after[container.labels["io.nubo.vnfc-id"]]
        assert f"NUBO_VNFC_ID={vnfc.id}" in container.attrs["Config"]["Env"]
        assert vnfc.environment["NUBO_VNFC_ID"] == vnfc.id


def test_killed_with_prepared_containers_runs_them_on_every_link(
    nubo: NuboProcess, docker_client: Any
) -> None:
    # every container of the chain exists, none started: made again on resume
    nubo.start(crash_at="INSTANTIATE:after:configure")
    response = nubo.api("POST", f"/api/v1/ns-records/{onboard(nubo, CHAIN)}")
    nsr_id, location = response.json()["id"], response.headers["location"]
    assert nubo.wait_killed() == SIGKILL_EXIT
    assert {c.status for c in labelled(docker_client, nsr_id)[0]} == {"created"}

    nubo.start()
    op = nubo.wait_op(location)
    assert op["state"] == "COMPLETED", json.dumps(op, indent=1)
    records_match_docker(nubo, docker_client, nsr_id)
    relay = next(c for c in read_nsr(nubo, nsr_id).all_vnfcs() if c.hostname == "relay-0")
    [container] = [
        c for c in labelled(docker_client, nsr_id)[0] if c.labels["io.nubo.vnfc-id"] == relay.id
    ]
    attached = container.attrs["NetworkSettings"]["Networks"].values()
    assert sorted(n["IPAddress"] for n in attached) == sorted(relay.addresses.values())


def test_killed_during_terminate_completes(nubo: NuboProcess, docker_client: Any) -> None:
    nubo.start(crash_at="TERMINATE:after:remove-vnfcs")
    nsd_id = onboard(nubo)
    response = nubo.api("POST", f"/api/v1/ns-records/{nsd_id}")
    nsr_id = response.json()["id"]
    assert nubo.wait_op(response.headers["location"])["state"] == "COMPLETED"
    records_match_docker(nubo, docker_client, nsr_id)
    terminate = nubo.api("DELETE", f"/api/v1/ns-records/{nsr_id}")
    assert terminate.status_code == 202
    assert nubo.wait_killed() == SIGKILL_EXIT

    nubo.start()
    assert nubo.wait_op(terminate.headers["location"])["state"] == "COMPLETED"
    assert nubo.api("GET", f"/api/v1/ns-records/{nsr_id}").json()["status"] == "TERMINATED"
    assert labelled(docker_client, nsr_id) == ([], [])


def test_killed_during_scale_out_carries_on_with_the_new_vnfc(
    nubo: NuboProcess, docker_client: Any
) -> None:
    nubo.start(crash_at="SCALE_OUT:after:start")
    nsd_id = onboard(nubo)
    response = nubo.api("POST", f"/api/v1/ns-records/{nsd_id}")
    nsr_id = response.json()["id"]
    assert nubo.wait_op(response.headers["location"])["state"] == "COMPLETED"
    nsr = records_match_docker(nubo, docker_client, nsr_id)
    client = next(v for v in nsr["vnfr"] if v["name"] == "sipp-client")
    path = (
        f"/api/v1/ns-records/{nsr_id}/vnfrecords/{client['id']}"
        f"/vduunits/{client['vdu'][0]['id']}/vnfcinstances"
    )
    scale = nubo.api("POST", path)
    assert scale.status_code == 202
    assert nubo.wait_killed() == SIGKILL_EXIT
    assert len(labelled(docker_client, nsr_id)[0]) == 3  # the new client ran before the kill

    nubo.start()
    op = nubo.wait_op(scale.headers["location"])
    assert op["state"] == "COMPLETED", json.dumps(op, indent=1)
    nsr = records_match_docker(nubo, docker_client, nsr_id)
    assert nsr["status"] == "ACTIVE"
    # the client that ran before the kill is the one the record keeps: none added twice
    assert len(labelled(docker_client, nsr_id)[0]) == 3


def test_restart_removes_what_no_record_owns(nubo: NuboProcess, docker_client: Any) -> None:
    nubo.start()
    nsd_id = onboard(nubo)
    response = nubo.api("POST", f"/api/v1/ns-records/{nsd_id}")
    nsr_id = response.json()["id"]
    assert nubo.wait_op(response.headers["location"])["state"] == "COMPLETED"
    nubo.stop()
    # what a crash between "docker create" and saving the record leaves behind
    labels = {
        LABEL_NS: nsr_id,
        "io.nubo.managed": "true",
        "io.nubo.vnfc-id": "unknown",
        "io.nubo.server-id": "lost-server",
    }
    orphan = docker_client.containers.run(
        "nubo/debian:bookworm", ["sleep", "120"], detach=True, labels=labels
    )
    stray = docker_client.networks.create("nubo-test-stray", labels=labels)

    nubo.start()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(labelled(docker_client, nsr_id)[0]) != 2:
        time.sleep(0.2)
    records_match_docker(nubo, docker_client, nsr_id)
    running = {c.id for c in docker_client.containers.list(ignore_removed=True, all=True)}
    assert orphan.id not in running
    assert stray.id not in {n.id for n in docker_client.networks.list()}
