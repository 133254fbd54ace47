"""The HTTP API over the in-memory VIM: routes, status codes, problem details."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nubo.app import Nubo
from tests.conftest import api_client, fake_nubo, running

NSD = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Nubo]:
    async with running(fake_nubo(tmp_path, background=True)) as nubo:
        yield nubo


@pytest.fixture
async def http(app: Nubo) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as client:
        yield client


async def wait_op(http: httpx.AsyncClient, location: str) -> dict[str, Any]:
    for _ in range(200):
        op: dict[str, Any] = (await http.get(location)).json()
        if op["state"] in ("COMPLETED", "FAILED", "ROLLED_BACK", "FAILED_TEMP"):
            return op
        await asyncio.sleep(0.02)
    raise AssertionError(f"operation {location} did not finish")


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["code"] == code and body["detail"]
    return body


async def test_full_lifecycle_over_open_baton_routes(http: httpx.AsyncClient) -> None:
    r = await http.post("/api/v1/ns-descriptors", content=NSD.read_bytes())
    assert r.status_code == 201, r.text
    nsd_id = r.json()["id"]
    assert r.headers["location"] == f"/api/v1/ns-descriptors/{nsd_id}"
    assert [n["id"] for n in (await http.get("/api/v1/ns-descriptors")).json()] == [nsd_id]

    r = await http.post(f"/api/v1/ns-records/{nsd_id}", json={"name": "demo"})
    assert r.status_code == 202, r.text
    nsr = r.json()
    assert nsr["status"] == "INITIALIZED" and nsr["name"] == "demo"
    op = await wait_op(http, r.headers["location"])
    assert op["state"] == "COMPLETED", op

    nsr = (await http.get(f"/api/v1/ns-records/{nsr['id']}")).json()
    assert nsr["status"] == "ACTIVE"
    client = next(v for v in nsr["vnfr"] if v["name"] == "sipp-client")
    server = next(v for v in nsr["vnfr"] if v["name"] == "sipp-server")
    server_ip = server["vdu"][0]["vnfc_instance"][0]["addresses"]["private"]
    vnfc = client["vdu"][0]["vnfc_instance"][0]
    assert vnfc["state"] == "RUNNING"
    assert vnfc["environment"]["SERVER_PRIVATE"] == server_ip

    vdu_id = client["vdu"][0]["id"]
    base = (
        f"/api/v1/ns-records/{nsr['id']}/vnfrecords/{client['id']}/vduunits/{vdu_id}/vnfcinstances"
    )
    r = await http.post(base)
    assert r.status_code == 202, r.text
    assert (await wait_op(http, r.headers["location"]))["state"] == "COMPLETED"
    r = await http.post(base, json={"connection_point": [{"virtual_link_reference": "private"}]})
    assert (await wait_op(http, r.headers["location"]))["state"] == "COMPLETED"
    nsr = (await http.get(f"/api/v1/ns-records/{nsr['id']}")).json()
    client = next(v for v in nsr["vnfr"] if v["name"] == "sipp-client")
    assert len(client["vdu"][0]["vnfc_instance"]) == 3
    newest = client["vdu"][0]["vnfc_instance"][-1]["id"]

    r = await http.delete(f"{base}/{newest}")
    assert r.status_code == 202
    assert (await wait_op(http, r.headers["location"]))["state"] == "COMPLETED"
    r = await http.delete(base)
    assert (await wait_op(http, r.headers["location"]))["state"] == "COMPLETED"

    ops = (await http.get(f"/api/v1/ns-records/{nsr['id']}/lcm-operations")).json()
    assert [o["operation"] for o in ops] == [
        "SCALE_IN",
        "SCALE_IN",
        "SCALE_OUT",
        "SCALE_OUT",
        "INSTANTIATE",
    ]

    r = await http.delete(f"/api/v1/ns-descriptors/{nsd_id}")
    assert_problem(r, 409, "CONFLICT")
    r = await http.delete(f"/api/v1/ns-records/{nsr['id']}")
    assert r.status_code == 202
    assert (await wait_op(http, r.headers["location"]))["state"] == "COMPLETED"
    assert (await http.get("/api/v1/ns-records")).json() == []
    assert len((await http.get("/api/v1/ns-records?all=true")).json()) == 1
    assert (await http.delete(f"/api/v1/ns-descriptors/{nsd_id}")).status_code == 204


async def test_invalid_descriptor_is_refused_with_every_path(http: httpx.AsyncClient) -> None:
    doc = json.loads(NSD.read_text())
    doc["vnf_dependency"].append(
        {
            "source": {"name": "sipp-client"},
            "target": {"name": "sipp-server"},
            "parameters": ["private"],
        }
    )
    doc["vnfd"][0]["vdu"][0]["vnfc"][0]["connection_point"][0]["virtual_link_reference"] = "nope"
    r = await http.post("/api/v1/ns-descriptors", json=doc)
    body = assert_problem(r, 422, "INVALID_DESCRIPTOR")
    paths = {e["path"] for e in body["errors"]}
    assert "$.vnf_dependency" in paths
    assert "$.vnfd[0].vdu[0].vnfc[0].connection_point[0].virtual_link_reference" in paths
    assert (await http.get("/api/v1/ns-descriptors")).json() == []


async def test_malformed_json_and_unknown_ids(http: httpx.AsyncClient) -> None:
    r = await http.post("/api/v1/ns-descriptors", content=b'{"name": ')
    body = assert_problem(r, 422, "INVALID_DESCRIPTOR")
    assert body["errors"][0]["path"] == "$"
    assert_problem(await http.get("/api/v1/ns-records/nope"), 404, "NOT_FOUND")
    assert_problem(await http.post("/api/v1/ns-records/nope"), 404, "NOT_FOUND")
    assert_problem(await http.get("/api/v1/lcm-operations/nope"), 404, "NOT_FOUND")
    assert_problem(await http.get("/no/such/route"), 404, "NOT_FOUND")
    r = await http.post("/api/v1/vims", json={"name": "x"})
    assert_problem(r, 400, "BAD_REQUEST")
    r = await http.post("/api/v1/vims", json={"name": "x", "type": "nonexistent"})
    assert "known types" in assert_problem(r, 400, "BAD_REQUEST")["detail"]


async def test_vims_and_openapi(http: httpx.AsyncClient) -> None:
    vims = (await http.get("/api/v1/vims")).json()
    assert [(v["name"], v["type"], v["is_default"]) for v in vims] == [
        ("local-docker", "fake", True)
    ]
    r = await http.post("/api/v1/vims", json={"name": "edge", "type": "fake"})
    assert r.status_code == 201
    assert_problem(
        await http.post("/api/v1/vims", json={"name": "edge", "type": "fake"}), 409, "CONFLICT"
    )
    spec = (await http.get("/openapi.json")).json()
    for path in (
        "/api/v1/ns-descriptors",
        "/api/v1/ns-records/{nsd_id}",
        "/api/v1/ns-records/{nsr_id}/vnfrecords/{vnfr_id}/vduunits/{vdu_id}/vnfcinstances",
    ):
        assert path in spec["paths"]


async def test_deploy_retried_with_an_idempotency_key_deploys_once(
    http: httpx.AsyncClient,
) -> None:
    nsd_id = (await http.post("/api/v1/ns-descriptors", content=NSD.read_bytes())).json()["id"]
    headers = {"Idempotency-Key": "retry-1"}
    first = await http.post(f"/api/v1/ns-records/{nsd_id}", headers=headers, json={"name": "a"})
    again = await http.post(f"/api/v1/ns-records/{nsd_id}", headers=headers, json={"name": "a"})
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"]
    assert first.headers["location"] == again.headers["location"]
    await wait_op(http, first.headers["location"])
    assert len((await http.get("/api/v1/ns-records")).json()) == 1
    other = await http.post(f"/api/v1/ns-records/{nsd_id}", headers=headers, json={"name": "b"})
    assert "another request" in assert_problem(other, 409, "CONFLICT")["detail"]
    plain = await http.post(f"/api/v1/ns-records/{nsd_id}", json={"name": "a"})
    await wait_op(http, plain.headers["location"])
    assert len((await http.get("/api/v1/ns-records")).json()) == 2
