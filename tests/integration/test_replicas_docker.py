"""Two nubo replicas on one database and one Docker Engine, one of them SIGKILLed mid-work.

Both are real processes (the test server: `nubo serve` plus crash injection).
Deployments go to both; replica A kills itself in the middle of one of its
instantiations, with others of its own under way. Replica B must take every
one of them over once A's leases expire, and in the end every operation is
COMPLETED (or rolled back), the records match the engine exactly, and nothing
is orphaned or duplicated. The run's backend is the suite's (PostgreSQL in
the PostgreSQL run).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from nubo.vim.port import LABEL_NS
from tests.conftest import remove_labelled
from tests.databases import current_databases, database_url_for
from tests.nubo_process import NuboProcess
from tests.sip_checks import labelled

pytestmark = pytest.mark.docker

NSD = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"
SIGKILL_EXIT = -9
DEPLOYMENTS = 20
#: nubo's default lease: B may take A's operations over only once they expired
LEASE_SECONDS = 10


@pytest.fixture
def replicas(tmp_path: Path, docker_client: Any) -> Iterator[tuple[NuboProcess, NuboProcess]]:
    url = database_url_for(tmp_path / "shared")
    a = NuboProcess(tmp_path / "a", test_server=True, database_url=url)
    b = NuboProcess(tmp_path / "b", test_server=True, database_url=url)
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()
        for nsr_id in current_databases().nsr_ids(url):
            remove_labelled(docker_client, f"{LABEL_NS}={nsr_id}")


def deploy(replicas: list[NuboProcess], nsd_id: str, name: str) -> tuple[str, str]:
    """Deploy through the first replica that answers (a killed one does not)."""
    for replica in replicas:
        try:
            response = replica.api("POST", f"/api/v1/ns-records/{nsd_id}", json={"name": name})
        except httpx.TransportError:
            continue
        assert response.status_code == 202, response.text
        return response.json()["id"], response.headers["location"]
    raise AssertionError(f"no replica accepted {name}")


def records_match_the_engine(replica: NuboProcess, docker_client: Any, nsr_id: str) -> None:
    """One running container per live VNFC, one network per link, nothing else."""
    nsr = replica.api("GET", f"/api/v1/ns-records/{nsr_id}").json()
    containers, networks = labelled(docker_client, nsr_id)
    vnfcs = {c["id"] for v in nsr["vnfr"] for d in v["vdu"] for c in d["vnfc_instance"]}
    if nsr["status"] == "ACTIVE":
        running = sorted(c.labels["io.nubo.vnfc-id"] for c in containers if c.status == "running")
        assert running == sorted(vnfcs), (nsr_id, running, vnfcs)
        assert len(containers) == len(vnfcs)
        assert sorted(n.id for n in networks) == sorted(v["vim_network_id"] for v in nsr["vlr"])
    else:  # rolled back: nothing of it is left
        assert (containers, networks) == ([], []), nsr["status"]


def test_a_killed_replicas_operations_are_taken_over_and_match_the_engine(
    replicas: tuple[NuboProcess, NuboProcess], docker_client: Any
) -> None:
    a, b = replicas
    # the first instantiation of A to reach verify kills A: by then every deployment
    # was accepted (an answer takes milliseconds), and A has others of its own in flight
    a.start(crash_at="INSTANTIATE:before:verify")
    b.start()
    response = b.api("POST", "/api/v1/ns-descriptors", content=NSD.read_bytes())
    assert response.status_code == 201, response.text
    nsd_id = response.json()["id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        sent = list(
            pool.map(
                lambda i: (i, *deploy([a, b] if i % 2 else [b], nsd_id, f"svc-{i}")),
                range(DEPLOYMENTS),
            )
        )
    assert a.wait_killed() == SIGKILL_EXIT
    killed_at = time.monotonic()

    finals = {}
    for _, nsr_id, location in sent:
        op = b.wait_op(location, timeout=180)
        finals[nsr_id] = op
    took_over = [op for op in finals.values() if any(s["name"] == "resume" for s in op["steps"])]
    assert took_over, "replica B took none of A's operations over"
    assert time.monotonic() - killed_at < LEASE_SECONDS + 120
    states = sorted({op["state"] for op in finals.values()})
    assert set(states) <= {"COMPLETED", "ROLLED_BACK"}, states
    for nsr_id in finals:
        records_match_the_engine(b, docker_client, nsr_id)
    # nothing the engine runs for this database lacks a record
    nsr_ids = set(current_databases().nsr_ids(b.database_url))
    assert set(finals) == nsr_ids
    for resumed in took_over:
        [step] = [s for s in resumed["steps"] if s["name"] == "resume"]
        assert f":{b.port} runs the operation again" in step["detail"], step


def test_one_key_deploys_once_and_a_busy_ns_is_busy_on_both(
    replicas: tuple[NuboProcess, NuboProcess], docker_client: Any
) -> None:
    a, b = replicas
    a.start()
    b.start()
    response = a.api("POST", "/api/v1/ns-descriptors", content=NSD.read_bytes())
    nsd_id = response.json()["id"]

    headers = {"Idempotency-Key": "deploy-once"}
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(
            pool.map(
                lambda r: r.api(
                    "POST", f"/api/v1/ns-records/{nsd_id}", headers=headers, json={"name": "x"}
                ),
                (a, b),
            )
        )
    assert [r.status_code for r in answers] == [202, 202], [r.text for r in answers]
    assert answers[0].json()["id"] == answers[1].json()["id"]
    nsr_id, location = answers[0].json()["id"], answers[0].headers["location"]
    # while the instantiation runs (it takes far longer than these calls), a second
    # operation is refused on either replica
    busy = [r.api("DELETE", f"/api/v1/ns-records/{nsr_id}") for r in (a, b)]
    assert [r.status_code for r in busy] == [409, 409], [r.text for r in busy]
    assert {r.json()["code"] for r in busy} == {"BUSY"}
    assert a.wait_op(location)["state"] == "COMPLETED"
    assert len(a.api("GET", "/api/v1/ns-records").json()) == 1
    records_match_the_engine(b, docker_client, nsr_id)
    assert len(labelled(docker_client, nsr_id)[0]) == 2
