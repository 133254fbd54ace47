"""Upload bounds: an oversized body is refused with 413 before it is held whole."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from nubo.api import sol005
from tests.conftest import api_client, fake_nubo, running
from tests.unit.test_api import assert_problem


@pytest.fixture
async def http(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[httpx.AsyncClient]:
    monkeypatch.setattr(sol005, "MAX_UPLOAD", 1024)
    async with running(fake_nubo(tmp_path)) as nubo, api_client(nubo) as client:
        yield client


async def test_a_package_larger_than_the_limit_is_refused(http: httpx.AsyncClient) -> None:
    package_id = (await http.post("/vnfpkgm/v1/vnf_packages", json={})).json()["id"]
    url = f"/vnfpkgm/v1/vnf_packages/{package_id}/package_content"
    headers = {"Content-Type": "application/zip"}
    problem = assert_problem(
        await http.put(url, content=b"x" * 2048, headers=headers), 413, "PAYLOAD_TOO_LARGE"
    )
    assert "1024 bytes" in problem["detail"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the stream is counted
        for _ in range(4):
            yield b"y" * 512

    assert_problem(await http.put(url, content=chunks(), headers=headers), 413, "PAYLOAD_TOO_LARGE")
    package = (await http.get(f"/vnfpkgm/v1/vnf_packages/{package_id}")).json()
    assert package["onboardingState"] == "CREATED"


async def test_an_nsd_larger_than_the_limit_is_refused(http: httpx.AsyncClient) -> None:
    nsd_id = (await http.post("/nsd/v1/ns_descriptors", json={})).json()["id"]
    r = await http.put(
        f"/nsd/v1/ns_descriptors/{nsd_id}/nsd_content",
        content=b"a: b\n" * 1000,
        headers={"Content-Type": "application/yaml"},
    )
    assert_problem(r, 413, "PAYLOAD_TOO_LARGE")
