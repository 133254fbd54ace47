"""``upload_from_uri``: VNF package content fetched from a loopback HTTP server the test runs.

The package server is a real HTTP server on 127.0.0.1 in a thread; the
orchestrator fetches from it only when its host is allowed, reads at most the
configured size, and onboards what it fetched as a PUT upload would.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from nubo.app import Nubo
from nubo.cli.packages import zip_directory
from tests.conftest import api_client, fake_nubo, running
from tests.unit.test_api import assert_problem
from tests.unit.test_packages import SERVER, create_package

PKGS = "/vnfpkgm/v1/vnf_packages"
CREDENTIALS = "Basic " + base64.b64encode(b"fetcher:s3cret").decode()


class PackageServer:
    """Serves ``files`` (path -> bytes) over HTTP on 127.0.0.1; ``/private/...`` needs
    the basic credentials fetcher:s3cret, ``/moved`` redirects."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append(self.path)
                if self.path == "/moved":
                    self.send_response(302)
                    self.send_header("Location", "http://192.0.2.1/package.zip")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                private = self.path.startswith("/private/")
                if private and self.headers.get("Authorization") != CREDENTIALS:
                    self._send(401, b"who are you?")
                    return
                body = outer.files.get(self.path.removeprefix("/private"))
                self._send(404, b"no such file") if body is None else self._send(200, body)

            def _send(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/zip")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, path: str) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def __enter__(self) -> PackageServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)
        self._server.server_close()


SERVER_ZIP = zip_directory(SERVER)


@pytest.fixture
def packages() -> Iterator[PackageServer]:
    files = {"/sipp-server.zip": SERVER_ZIP, "/junk.zip": b"not a zip at all"}
    with PackageServer(files) as server:
        yield server


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Nubo]:
    # room for the example package, not for one byte more than twice it
    settings = {
        "package_fetch_allowed_hosts": "127.0.0.0/8",
        "package_fetch_max_bytes": 2 * len(SERVER_ZIP),
    }
    async with running(fake_nubo(tmp_path, **settings)) as nubo:
        yield nubo


@pytest.fixture
async def http(app: Nubo) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as client:
        yield client


async def fetch(http: httpx.AsyncClient, package_id: str, **body: str) -> httpx.Response:
    return await http.post(f"{PKGS}/{package_id}/package_content/upload_from_uri", json=body)


async def settled(http: httpx.AsyncClient, package_id: str, app: Nubo) -> dict[str, Any]:
    """The package once no fetch of it runs any more."""
    for _ in range(250):
        if not app.fetcher.fetching(package_id):
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError(f"the fetch of {package_id} did not end")
    info: dict[str, Any] = (await http.get(f"{PKGS}/{package_id}")).json()
    return info


async def test_a_package_fetched_from_an_allowed_host_is_onboarded(
    app: Nubo, http: httpx.AsyncClient, packages: PackageServer
) -> None:
    package_id = await create_package(http)
    r = await fetch(http, package_id, addressInformation=packages.url("/sipp-server.zip"))
    assert r.status_code == 202 and not r.content, r.text
    info = await settled(http, package_id, app)
    assert info["onboardingState"] == "ONBOARDED" and info["operationalState"] == "ENABLED"
    assert "nuboOnboardingFailure" not in info
    content = await http.get(f"{PKGS}/{package_id}/package_content")
    assert content.content == SERVER_ZIP
    # onboarded: a second fetch is refused, as a second upload is
    r = await fetch(http, package_id, addressInformation=packages.url("/sipp-server.zip"))
    assert_problem(r, 409, "CONFLICT")


async def test_credentials_are_sent_when_given(
    app: Nubo, http: httpx.AsyncClient, packages: PackageServer
) -> None:
    url = packages.url("/private/sipp-server.zip")
    without = await create_package(http)
    assert (await fetch(http, without, addressInformation=url)).status_code == 202
    info = await settled(http, without, app)
    assert info["onboardingState"] == "CREATED"
    assert "401" in info["nuboOnboardingFailure"]["detail"]
    with_them = await create_package(http)
    r = await fetch(http, with_them, addressInformation=url, userName="fetcher", password="s3cret")
    assert r.status_code == 202, r.text
    assert (await settled(http, with_them, app))["onboardingState"] == "ONBOARDED"


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/none.zip", ["404"]),
        ("/big.zip", ["more than nubo fetches", "NUBO_PACKAGE_FETCH_MAX_BYTES"]),
        ("/moved", ["302", "redirects are not followed"]),
        ("/junk.zip", []),
    ],
)
async def test_a_failed_fetch_leaves_the_package_created_saying_why(
    app: Nubo, http: httpx.AsyncClient, packages: PackageServer, path: str, words: list[str]
) -> None:
    if path == "/big.zip":
        packages.files[path] = b"x" * (app.fetcher.max_bytes + 1)
    package_id = await create_package(http)
    assert (await fetch(http, package_id, addressInformation=packages.url(path))).status_code == 202
    info = await settled(http, package_id, app)
    assert info["onboardingState"] == "CREATED"
    failure = info["nuboOnboardingFailure"]
    assert failure["status"] >= 400 and failure["detail"]
    for word in words:
        assert word in failure["detail"], failure
    if path == "/junk.zip":  # the same check as an upload's
        r = await http.put(
            f"{PKGS}/{package_id}/package_content",
            content=b"not a zip at all",
            headers={"Content-Type": "application/zip"},
        )
        assert r.json()["detail"] == failure["detail"]
    # a later fetch that works clears the failure
    r = await fetch(http, package_id, addressInformation=packages.url("/sipp-server.zip"))
    assert r.status_code == 202, r.text
    info = await settled(http, package_id, app)
    assert info["onboardingState"] == "ONBOARDED" and "nuboOnboardingFailure" not in info


async def test_hosts_not_allowed_are_refused_before_anything_is_fetched(
    tmp_path: Path, packages: PackageServer
) -> None:
    for allowed, words in (
        ("", ["no host", "NUBO_PACKAGE_FETCH_ALLOWED_HOSTS"]),
        ("10.0.0.0/8", ["'127.0.0.1'"]),
    ):
        data = tmp_path / (allowed.replace("/", "_") or "none")
        async with (
            running(fake_nubo(data, package_fetch_allowed_hosts=allowed)) as app,
            api_client(app) as http,
        ):
            package_id = await create_package(http)
            r = await fetch(http, package_id, addressInformation=packages.url("/sipp-server.zip"))
            problem = assert_problem(r, 400, "BAD_REQUEST")
            assert problem["field"] == "addressInformation"
            for word in words:
                assert word in problem["detail"], problem
            for bad in ("ftp://127.0.0.1/x.zip", "/relative.zip"):
                r = await fetch(http, package_id, addressInformation=bad)
                assert_problem(r, 400, "BAD_REQUEST")
            assert (await http.get(f"{PKGS}/{package_id}")).json()["onboardingState"] == "CREATED"
    assert packages.requests == []


async def test_an_unknown_package_is_404_and_a_body_without_address_400(
    http: httpx.AsyncClient, packages: PackageServer
) -> None:
    r = await fetch(http, "no-such-package", addressInformation=packages.url("/sipp-server.zip"))
    assert_problem(r, 404, "NOT_FOUND")
    package_id = await create_package(http)
    r = await http.post(f"{PKGS}/{package_id}/package_content/upload_from_uri", json={})
    assert r.status_code in (400, 422) and "addressInformation" in r.text, r.text
    assert packages.requests == []
