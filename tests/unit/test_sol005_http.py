"""HTTP details of SOL005: ETag and If-Match (412), Range (206, 416), 409 on a PATCH that
changes nothing. Every answer is checked against ETSI's schemas by the test client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from nubo.app import Nubo
from nubo.cli.packages import zip_directory
from nubo.model.alarms import PerceivedSeverity, ProbableCause
from tests.conftest import api_client, fake_nubo, running
from tests.unit.test_api import NSD as NSD_JSON
from tests.unit.test_api import assert_problem
from tests.unit.test_packages import SERVER, SERVER_VNFD, onboard_package

PKGS = "/vnfpkgm/v1/vnf_packages"
NSDS = "/nsd/v1/ns_descriptors"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Nubo]:
    async with running(fake_nubo(tmp_path)) as nubo:
        yield nubo


@pytest.fixture
async def http(app: Nubo) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as client:
        yield client


async def etag(http: httpx.AsyncClient, path: str) -> str:
    r = await http.get(path)
    assert r.status_code == 200, r.text
    tag = r.headers["etag"]
    assert tag.startswith('"') and tag.endswith('"') and len(tag) > 2
    return tag


async def check_conditional_patch(
    http: httpx.AsyncClient, path: str, change: dict[str, str], field: str
) -> None:
    """412 for a stale tag, 200 with a new tag for the current one, 409 for a repeat."""
    before = await etag(http, path)
    assert await etag(http, path) == before  # the same state, the same tag
    stale = '"0123456789abcdef"'
    problem = assert_problem(
        await http.patch(path, json=change, headers={"If-Match": stale}),
        412,
        "PRECONDITION_FAILED",
    )
    assert stale in problem["detail"] and before in problem["detail"]
    assert await etag(http, path) == before  # nothing changed
    r = await http.patch(path, json=change, headers={"If-Match": before})
    assert r.status_code == 200, r.text
    after = r.headers["etag"]
    assert after != before and await etag(http, path) == after
    # the tag read before the change is stale now
    r = await http.patch(path, json=change, headers={"If-Match": before})
    assert_problem(r, 412, "PRECONDITION_FAILED")
    # the same change again changes nothing: 409 naming the attribute
    problem = assert_problem(await http.patch(path, json=change), 409, "CONFLICT")
    assert problem["field"] == field and "already" in problem["detail"]
    assert await etag(http, path) == after


async def test_a_package_patch_is_conditional(http: httpx.AsyncClient) -> None:
    package = await onboard_package(http, zip_directory(SERVER))
    path = f"{PKGS}/{package['id']}"
    await check_conditional_patch(http, path, {"operationalState": "DISABLED"}, "operationalState")
    # userDefinedData always changes the package: a new tag, never 409
    before = await etag(http, path)
    r = await http.patch(path, json={"userDefinedData": {"k": "v"}}, headers={"If-Match": before})
    assert r.status_code == 200 and r.headers["etag"] != before, r.text


async def test_an_nsd_patch_is_conditional(http: httpx.AsyncClient) -> None:
    nsd_id = (await http.post(NSDS)).json()["id"]
    r = await http.put(
        f"{NSDS}/{nsd_id}/nsd_content",
        content=NSD_JSON.read_bytes(),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 204, r.text
    await check_conditional_patch(
        http, f"{NSDS}/{nsd_id}", {"nsdOperationalState": "DISABLED"}, "nsdOperationalState"
    )


async def test_an_alarm_patch_is_conditional(app: Nubo, http: httpx.AsyncClient) -> None:
    alarm = await app.fault.alarms.raise_alarm(
        "vnfc-x",
        ProbableCause.HEAL_FAILED,
        PerceivedSeverity.MAJOR,
        ["test"],
        nsr_id="ns-x",
        project_id="default",
    )
    await check_conditional_patch(
        http, f"/nsfm/v1/alarms/{alarm.id}", {"ackState": "ACKNOWLEDGED"}, "ackState"
    )


async def test_content_is_served_by_ranges(http: httpx.AsyncClient) -> None:
    archive = zip_directory(SERVER)
    package = await onboard_package(http, archive)
    content = f"{PKGS}/{package['id']}/package_content"
    size = len(archive)

    whole = await http.get(content)
    assert whole.status_code == 200 and whole.content == archive
    assert whole.headers["accept-ranges"] == "bytes"
    for wanted, first, last in (
        ("bytes=0-9", 0, 9),
        ("bytes=10-", 10, size - 1),
        ("bytes=-7", size - 7, size - 1),
        (f"bytes=5-{size + 100}", 5, size - 1),
    ):
        r = await http.get(content, headers={"Range": wanted})
        assert r.status_code == 206, (wanted, r.text)
        assert r.headers["content-range"] == f"bytes {first}-{last}/{size}"
        assert r.content == archive[first : last + 1]
        assert r.headers["content-type"] == "application/zip"
    for wanted in (f"bytes={size}-", "bytes=9-3", "bytes=-0", "lines=1-2"):
        r = await http.get(content, headers={"Range": wanted})
        assert_problem(r, 416, "RANGE_NOT_SATISFIABLE")
        assert r.headers["content-range"] == f"bytes */{size}"
    # several ranges: the whole content, which RFC 9110 allows
    r = await http.get(content, headers={"Range": "bytes=0-1,4-5"})
    assert r.status_code == 200 and r.content == archive

    vnfd = (SERVER / SERVER_VNFD).read_bytes()
    r = await http.get(
        f"{PKGS}/{package['id']}/artifacts/{SERVER_VNFD}", headers={"Range": "bytes=0-3"}
    )
    assert r.status_code == 206 and r.content == vnfd[:4], r.text
    assert r.headers["content-range"] == f"bytes 0-3/{len(vnfd)}"


async def test_nsd_content_is_served_by_ranges(http: httpx.AsyncClient) -> None:
    nsd_id = (await http.post(NSDS)).json()["id"]
    r = await http.put(
        f"{NSDS}/{nsd_id}/nsd_content",
        content=NSD_JSON.read_bytes(),
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 204, r.text
    whole = await http.get(f"{NSDS}/{nsd_id}/nsd_content")
    assert whole.status_code == 200 and whole.headers["accept-ranges"] == "bytes"
    r = await http.get(f"{NSDS}/{nsd_id}/nsd_content", headers={"Range": "bytes=-10"})
    size = len(whole.content)
    assert r.status_code == 206 and r.content == whole.content[-10:]
    assert r.headers["content-range"] == f"bytes {size - 10}-{size - 1}/{size}"
