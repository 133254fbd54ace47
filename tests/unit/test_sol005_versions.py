"""SOL013 version negotiation on the SOL005 APIs: the Version header and api_versions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from nubo.app import Nubo
from tests.auth import token_for
from tests.conftest import fake_nubo, running
from tests.sol005 import SOL005_VERSION, asgi_client
from tests.unit.test_api import assert_problem

APIS = ("nsd", "vnfpkgm", "nslcm", "nsfm")
LISTS = {
    "nsd": "/nsd/v1/ns_descriptors",
    "vnfpkgm": "/vnfpkgm/v1/vnf_packages",
    "nslcm": "/nslcm/v1/ns_instances",
    "nsfm": "/nsfm/v1/alarms",
}


@pytest.fixture
async def raw(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client that sends no Version header unless the test does."""
    app: Nubo = fake_nubo(tmp_path, fault_management=True)
    async with running(app):
        token = await token_for(app)
        async with asgi_client(app.api(), version=None, token=token) as client:
            yield client


@pytest.mark.parametrize("api", APIS)
async def test_api_versions_answers_without_a_version_header(
    raw: httpx.AsyncClient, api: str
) -> None:
    for path in (f"/{api}/api_versions", f"/{api}/v1/api_versions"):
        r = await raw.get(path)
        assert r.status_code == 200, r.text
        assert r.headers["version"] == SOL005_VERSION
        assert r.json() == {
            "uriPrefix": f"/{api}/v1",
            "apiVersions": [{"version": SOL005_VERSION, "isDeprecated": False}],
        }


@pytest.mark.parametrize("api", APIS)
async def test_every_answer_carries_the_version(raw: httpx.AsyncClient, api: str) -> None:
    headers = {"Version": SOL005_VERSION}
    listed = await raw.get(LISTS[api], headers=headers)
    assert listed.status_code == 200, listed.text
    assert listed.headers["version"] == SOL005_VERSION
    # problem documents too, whoever raised them
    missing = await raw.get(f"{LISTS[api]}/no-such-id", headers=headers)
    assert missing.status_code == 404 and missing.headers["version"] == SOL005_VERSION
    unknown = await raw.get(f"/{api}/v1/no_such_resource", headers=headers)
    assert unknown.status_code == 404 and unknown.headers["version"] == SOL005_VERSION


@pytest.mark.parametrize("api", APIS)
async def test_a_request_without_version_is_refused(raw: httpx.AsyncClient, api: str) -> None:
    r = await raw.get(LISTS[api])
    problem = assert_problem(r, 400, "VERSION_MISSING")
    assert problem["supportedVersions"] == [SOL005_VERSION]
    assert "Version" in problem["detail"] and r.headers["version"] == SOL005_VERSION


@pytest.mark.parametrize("requested", ["2.0.0", "1.9.0", "garbage", ""])
async def test_an_unsupported_version_is_not_acceptable(
    raw: httpx.AsyncClient, requested: str
) -> None:
    r = await raw.post(
        "/nslcm/v1/ns_instances", json={"nsdId": "x", "nsName": "y"}, headers={"Version": requested}
    )
    problem = assert_problem(r, 406, "VERSION_NOT_SUPPORTED")
    assert SOL005_VERSION in problem["detail"] and "/nslcm/v1/api_versions" in problem["detail"]


async def test_other_apis_need_no_version(raw: httpx.AsyncClient) -> None:
    r = await raw.get("/api/v1/ns-records")
    assert r.status_code == 200 and "version" not in r.headers
    assert (await raw.get("/health")).status_code == 200


async def test_openapi_lists_api_versions(raw: httpx.AsyncClient) -> None:
    paths = (await raw.get("/openapi.json")).json()["paths"]
    for api in APIS:
        assert "get" in paths[f"/{api}/api_versions"]
        assert "get" in paths[f"/{api}/v1/api_versions"]
