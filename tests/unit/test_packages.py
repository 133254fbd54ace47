"""VNF packages (SOL004 CSARs) over the SOL005 VNF-PKGM routes, the VNFD check, and the CLI."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import shutil
import threading
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from nubo.app import Nubo
from nubo.cli.client import CliConfig
from nubo.cli.main import main
from nubo.cli.packages import package_files, zip_directory
from nubo.descriptors.manifest_digests import refresh_manifest
from nubo.descriptors.tosca_package import read_vnf_package
from nubo.descriptors.vnf_package import read_package
from nubo.model.errors import InvalidDescriptor
from tests.auth import token_for
from tests.conftest import api_client, fake_nubo, running
from tests.sol005 import CheckedTransport
from tests.unit.test_api import assert_problem

TOSCA = Path(__file__).resolve().parents[2] / "examples" / "sipp-tosca"
PACKAGES = TOSCA / "packages"
SERVER = PACKAGES / "sipp-server"
CLIENT = PACKAGES / "sipp-client"
SERVER_VNFD = "Definitions/sipp-server-vnfd.yaml"
CLIENT_VNFD = "Definitions/sipp-client-vnfd.yaml"
CLIENT_ENV = "Files/sipp-client.env"
ROOT = "/vnfpkgm/v1/vnf_packages"


# --- helpers (test_nsd_sol005 uses them too) -------------------------------------------------


def problem_paths(problem: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["path"], e["message"]) for e in problem.get("errors", [])]


async def create_package(http: httpx.AsyncClient) -> str:
    r = await http.post(ROOT)
    assert r.status_code == 201, r.text
    package_id: str = r.json()["id"]
    return package_id


async def onboard_package(http: httpx.AsyncClient, archive: bytes) -> dict[str, Any]:
    """Create a package and upload ``archive``; its VnfPkgInfo."""
    package_id = await create_package(http)
    r = await http.put(
        f"{ROOT}/{package_id}/package_content",
        content=archive,
        headers={"Content-Type": "application/zip"},
    )
    assert r.status_code == 204 and not r.content, r.text
    info: dict[str, Any] = (await http.get(f"{ROOT}/{package_id}")).json()
    return info


class _Forward(httpx.BaseTransport):
    """Sends the CLI's (synchronous) requests to the app, served on a loop of its own thread."""

    def __init__(self, nubo: Nubo, loop: asyncio.AbstractEventLoop, token: str) -> None:
        self.asgi = CheckedTransport(app=nubo.api())
        self.loop = loop
        self.token = token

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        async def send() -> httpx.Response:
            # a request with bytes content can be streamed asynchronously as well
            headers = httpx.Headers(request.headers)
            headers.setdefault("Authorization", f"Bearer {self.token}")
            copy = httpx.Request(
                request.method, request.url, headers=headers, content=request.read()
            )
            answer = await self.asgi.handle_async_request(copy)
            content = await answer.aread()
            return httpx.Response(answer.status_code, headers=answer.headers, content=content)

        return asyncio.run_coroutine_threadsafe(send(), self.loop).result(timeout=60)


@contextlib.contextmanager
def cli_config(data_dir: Path) -> Iterator[CliConfig]:
    """A CLI configuration talking to a fresh orchestrator on the fake VIM."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="nubo under test", daemon=True)
    thread.start()
    nubo = fake_nubo(data_dir)

    def run(step: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(step, loop).result(timeout=60)

    run(nubo.start())
    token = asyncio.run_coroutine_threadsafe(token_for(nubo), loop).result(timeout=60)
    try:
        yield CliConfig(
            url="http://nubo",
            transport=_Forward(nubo, loop, token),
            poll_interval=0,
            sleep=lambda _: None,
        )
    finally:
        run(nubo.stop())
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()


def edited(directory: Path, tmp_path: Path, edit: Callable[[Path], None], digests: bool) -> bytes:
    """A copy of a package directory, edited, with its manifest refreshed (or left stale)."""
    copy = tmp_path / directory.name
    shutil.copytree(directory, copy)
    edit(copy)
    if digests:
        files = {name: path.read_bytes() for path, name in package_files(copy)}
        manifest = f"{directory.name}.mf"
        text, _ = refresh_manifest(files[manifest].decode(), files, manifest)
        (copy / manifest).write_text(text)
    return zip_directory(copy)


def replace_in(path: str, old: str, new: str) -> Callable[[Path], None]:
    """An edit of one file of a package directory."""

    def edit(root: Path) -> None:
        target = root / path
        text = target.read_text()
        assert old in text, f"{old!r} not in {path}"
        target.write_text(text.replace(old, new))

    return edit


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Nubo]:
    async with running(fake_nubo(tmp_path)) as nubo:
        yield nubo


@pytest.fixture
async def http(app: Nubo) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as client:
        yield client


# --- the example packages -------------------------------------------------------------------


@pytest.mark.parametrize("directory", [SERVER, CLIENT], ids=lambda d: d.name)
async def test_example_package_directories_onboard(
    http: httpx.AsyncClient, directory: Path
) -> None:
    # Zipped as they are: a manifest digest gone stale fails here.
    archive = zip_directory(directory)
    info = await onboard_package(http, archive)

    product = "SIPp server" if directory == SERVER else "SIPp client"
    assert info["vnfProductName"] == product and info["vnfProvider"] == "mcilloni"
    assert (info["vnfSoftwareVersion"], info["vnfdVersion"]) == ("3.6", "1.0")
    assert info["checksum"] == {"algorithm": "SHA-256", "hash": hashlib.sha256(archive).hexdigest()}
    (image,) = info["softwareImages"]
    assert image["name"] == f"nubo/{directory.name}:latest"
    assert image["containerFormat"] == "DOCKER"
    env_files = ["Files/sipp-client.env"] if directory == CLIENT else []
    assert [a["artifactPath"] for a in info["additionalArtifacts"]] == ["ChangeLog.txt", *env_files]
    changelog = hashlib.sha256((directory / "ChangeLog.txt").read_bytes()).hexdigest()
    assert info["additionalArtifacts"][0]["checksum"]["hash"] == changelog
    assert (info["onboardingState"], info["operationalState"], info["usageState"]) == (
        "ONBOARDED",
        "ENABLED",
        "NOT_IN_USE",
    )


@pytest.mark.parametrize("directory", [SERVER, CLIENT], ids=lambda d: d.name)
def test_example_manifests_are_up_to_date(directory: Path) -> None:
    files = {name: path.read_bytes() for path, name in package_files(directory)}
    manifest = f"{directory.name}.mf"
    assert refresh_manifest(files[manifest].decode(), files, manifest)[1] == []


def test_a_vnfd_is_summarised_from_its_node_type() -> None:
    summary = read_vnf_package({SERVER_VNFD: (SERVER / SERVER_VNFD).read_text()}, SERVER_VNFD)
    assert (summary.vnfd_id, summary.node_type, summary.flavour_id) == (
        "6b5f3cbe-sipp-server",
        "nubo.sipp.SippServer",
        "docker.container",
    )
    assert [(i.id, i.name) for i in summary.images] == [
        ("sipp-server-vdu", "nubo/sipp-server:latest")
    ]


def test_the_env_file_a_vnfd_names_goes_with_its_definitions() -> None:
    content = read_package(zip_directory(CLIENT))
    env = (CLIENT / CLIENT_ENV).read_text()
    assert content.summary.env_files == {CLIENT_ENV: env}
    # named relative to the entry's folder, as the VNFD names it for an NSD
    assert content.definitions == {
        "sipp-client-vnfd.yaml": (CLIENT / CLIENT_VNFD).read_text(),
        "../Files/sipp-client.env": env,
    }


def test_an_env_file_that_is_not_utf8_is_refused_by_line() -> None:
    vnfd = (CLIENT / CLIENT_VNFD).read_text()
    with pytest.raises(InvalidDescriptor) as caught:
        read_vnf_package({CLIENT_VNFD: vnfd}, CLIENT_VNFD, {CLIENT_ENV: b"A=1\nB=caf\xe9\n"})
    assert [(p.path, p.message) for p in caught.value.problems] == [
        (CLIENT_ENV, "line 2: not UTF-8 text")
    ]


def test_an_nsd_is_not_a_vnfd() -> None:
    nsd = (PACKAGES.parent / "nsd.yaml").read_text()
    with pytest.raises(InvalidDescriptor) as caught:
        read_vnf_package({"Definitions/nsd.yaml": nsd}, "Definitions/nsd.yaml")
    assert any(
        p.path == "Definitions/nsd.yaml:topology_template.substitution_mappings.node_type"
        and "not a VNFD" in p.message
        for p in caught.value.problems
    ), caught.value.problems


# --- lifecycle ------------------------------------------------------------------------------


async def test_package_lifecycle(http: httpx.AsyncClient) -> None:
    r = await http.post(ROOT, json={"userDefinedData": {"owner": "ops", "tier": "gold"}})
    assert r.status_code == 201, r.text
    created = r.json()
    package_id = created["id"]
    assert r.headers["location"] == f"{ROOT}/{package_id}"
    assert (created["onboardingState"], created["operationalState"], created["usageState"]) == (
        "CREATED",
        "DISABLED",
        "NOT_IN_USE",
    )
    assert "vnfdId" not in created
    assert created["_links"]["packageContent"]["href"] == f"{ROOT}/{package_id}/package_content"
    assert [p["id"] for p in (await http.get(ROOT)).json()] == [package_id]
    assert_problem(await http.get(f"{ROOT}/{package_id}/package_content"), 409, "CONFLICT")
    assert_problem(await http.get(f"{ROOT}/{package_id}/vnfd"), 409, "CONFLICT")

    archive = zip_directory(SERVER)
    r = await http.put(
        f"{ROOT}/{package_id}/package_content",
        content=archive,
        headers={"Content-Type": "application/zip"},
    )
    assert r.status_code == 204, r.text
    onboarded = (await http.get(f"{ROOT}/{package_id}")).json()
    assert onboarded["vnfdId"] == "6b5f3cbe-sipp-server"
    assert onboarded["userDefinedData"] == {"owner": "ops", "tier": "gold"}
    again = await http.put(
        f"{ROOT}/{package_id}/package_content",
        content=archive,
        headers={"Content-Type": "application/zip"},
    )
    assert "already" in assert_problem(again, 409, "CONFLICT")["detail"]

    r = await http.get(f"{ROOT}/{package_id}/package_content")
    assert r.headers["content-type"] == "application/zip" and r.content == archive
    r = await http.get(f"{ROOT}/{package_id}/vnfd")
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text == (SERVER / SERVER_VNFD).read_text()
    r = await http.get(f"{ROOT}/{package_id}/artifacts/ChangeLog.txt")
    assert r.content == (SERVER / "ChangeLog.txt").read_bytes()
    r = await http.get(f"{ROOT}/{package_id}/artifacts/{SERVER_VNFD}")
    assert r.text == (SERVER / SERVER_VNFD).read_text()
    missing = assert_problem(
        await http.get(f"{ROOT}/{package_id}/artifacts/Files/none.txt"), 404, "NOT_FOUND"
    )
    assert "Files/none.txt" in missing["detail"]

    r = await http.patch(f"{ROOT}/{package_id}", json={"userDefinedData": {"tier": None, "a": 1}})
    assert r.status_code == 200 and r.json() == {"userDefinedData": {"tier": None, "a": 1}}
    info = (await http.get(f"{ROOT}/{package_id}")).json()
    assert info["userDefinedData"] == {"owner": "ops", "a": 1}

    refused = assert_problem(await http.delete(f"{ROOT}/{package_id}"), 409, "CONFLICT")
    assert "ENABLED" in refused["detail"]
    r = await http.patch(f"{ROOT}/{package_id}", json={"operationalState": "DISABLED"})
    assert r.status_code == 200 and r.json() == {"operationalState": "DISABLED"}
    assert (await http.get(f"{ROOT}/{package_id}")).json()["operationalState"] == "DISABLED"
    assert (await http.delete(f"{ROOT}/{package_id}")).status_code == 204
    assert_problem(await http.get(f"{ROOT}/{package_id}"), 404, "NOT_FOUND")
    assert (await http.get(ROOT)).json() == []


async def test_bad_requests_are_problems(http: httpx.AsyncClient) -> None:
    package_id = await create_package(http)
    r = await http.put(
        f"{ROOT}/{package_id}/package_content",
        content=b"{}",
        headers={"Content-Type": "application/json"},
    )
    assert_problem(r, 415, "UNSUPPORTED_MEDIA_TYPE")
    r = await http.patch(f"{ROOT}/{package_id}", json={"operationalState": "ENABLED"})
    assert "no content yet" in assert_problem(r, 409, "CONFLICT")["detail"]
    r = await http.patch(f"{ROOT}/{package_id}", json={"operationalState": "BROKEN"})
    assert_problem(r, 400, "BAD_REQUEST")
    assert_problem(await http.patch(f"{ROOT}/{package_id}", json={}), 400, "BAD_REQUEST")
    assert_problem(await http.get(f"{ROOT}/nope"), 404, "NOT_FOUND")
    assert_problem(await http.delete(f"{ROOT}/nope"), 404, "NOT_FOUND")


# --- bad packages: a problem naming the problem, and nothing stored --------------------------

CP = "topology_template.node_templates.sipp-server-cp"
BAD_PACKAGES: dict[str, tuple[Callable[[Path], None], bool, str, str]] = {
    "wrong digest": (
        replace_in(SERVER_VNFD, "One SIPp server container", "Two SIPp server containers"),
        False,
        SERVER_VNFD,
        "digest of Definitions/sipp-server-vnfd.yaml does not match the manifest",
    ),
    "malformed YAML": (
        replace_in(SERVER_VNFD, "  node_templates:\n", "  node_templates: [\n"),
        True,
        SERVER_VNFD,
        "malformed YAML",
    ),
    "unknown node type": (
        replace_in(SERVER_VNFD, "type: tosca.nodes.nfv.VduCp", "type: tosca.nodes.nfv.VduKp"),
        True,
        f"{SERVER_VNFD}:{CP}.type",
        "unknown node type 'tosca.nodes.nfv.VduKp'",
    ),
    "dangling requirement": (
        replace_in(SERVER_VNFD, "virtual_binding: sipp-server-vdu", "virtual_binding: vdu-2"),
        True,
        f"{SERVER_VNFD}:{CP}.requirements[0].virtual_binding",
        "no node template 'vdu-2'",
    ),
    "not a VNFD": (
        replace_in(SERVER_VNFD, "  substitution_mappings:\n", "  substitution_mapping:\n"),
        True,
        f"{SERVER_VNFD}:topology_template.substitution_mappings.node_type",
        "this template is not a VNFD",
    ),
    "no image": (
        replace_in(SERVER_VNFD, "          name: nubo/sipp-server:latest\n", ""),
        True,
        f"{SERVER_VNFD}:topology_template.node_templates.sipp-server-vdu.properties"
        ".sw_image_data.name",
        "missing image",
    ),
}


BAD_CLIENT_PACKAGES: dict[str, tuple[Callable[[Path], None], str, str]] = {
    # relative to the VNFD, not to the package root: Definitions/Files/... is not there
    "env file not found": (
        replace_in(CLIENT_VNFD, "file: ../Files/sipp-client.env", "file: Files/sipp-client.env"),
        f"{CLIENT_VNFD}:topology_template.node_templates.sipp-client-vdu.artifacts.env.file",
        "cannot read env file 'Files/sipp-client.env': no file Definitions/Files/sipp-client.env",
    ),
    "env file with a bare name": (
        replace_in(CLIENT_ENV, "SIPP_EXTRA_NOTE=from-env-file", "SIPP_EXTRA_NOTE"),
        CLIENT_ENV,
        "line 6: 'SIPP_EXTRA_NOTE' has no '='",
    ),
}


@pytest.mark.parametrize("case", list(BAD_CLIENT_PACKAGES))
async def test_a_package_with_a_bad_env_file_is_refused(
    http: httpx.AsyncClient, tmp_path: Path, case: str
) -> None:
    edit, path, fragment = BAD_CLIENT_PACKAGES[case]
    package_id = await create_package(http)
    r = await http.put(
        f"{ROOT}/{package_id}/package_content",
        content=edited(CLIENT, tmp_path, edit, True),
        headers={"Content-Type": "application/zip"},
    )
    problem = assert_problem(r, 422, "INVALID_DESCRIPTOR")
    assert any(e["path"] == path and fragment in e["message"] for e in problem["errors"]), (
        problem_paths(problem)
    )
    assert (await http.get(f"{ROOT}/{package_id}")).json()["onboardingState"] == "CREATED"


@pytest.mark.parametrize("case", list(BAD_PACKAGES))
async def test_a_bad_package_is_refused_and_nothing_is_stored(
    http: httpx.AsyncClient, tmp_path: Path, case: str
) -> None:
    edit, digests, path, fragment = BAD_PACKAGES[case]
    package_id = await create_package(http)

    r = await http.put(
        f"{ROOT}/{package_id}/package_content",
        content=edited(SERVER, tmp_path, edit, digests),
        headers={"Content-Type": "application/zip"},
    )

    problem = assert_problem(r, 422, "INVALID_DESCRIPTOR")
    assert any(e["path"] == path and fragment in e["message"] for e in problem["errors"]), (
        problem_paths(problem)
    )
    info = (await http.get(f"{ROOT}/{package_id}")).json()
    assert (info["onboardingState"], info.get("vnfdId")) == ("CREATED", None)
    assert_problem(await http.get(f"{ROOT}/{package_id}/package_content"), 409, "CONFLICT")
    # the same package takes a good upload afterwards
    r = await http.put(
        f"{ROOT}/{package_id}/package_content",
        content=zip_directory(SERVER),
        headers={"Content-Type": "application/zip"},
    )
    assert r.status_code == 204, r.text


async def test_not_a_zip(http: httpx.AsyncClient) -> None:
    package_id = await create_package(http)
    r = await http.put(
        f"{ROOT}/{package_id}/package_content",
        content=b"tosca_definitions_version: tosca_simple_yaml_1_3\n",
        headers={"Content-Type": "application/zip"},
    )
    problem = assert_problem(r, 422, "INVALID_DESCRIPTOR")
    assert "not a ZIP archive" in problem["detail"]


async def test_one_vnfd_is_onboarded_once(http: httpx.AsyncClient) -> None:
    first = await onboard_package(http, zip_directory(SERVER))
    second = await create_package(http)
    r = await http.put(
        f"{ROOT}/{second}/package_content",
        content=zip_directory(SERVER),
        headers={"Content-Type": "application/zip"},
    )
    problem = assert_problem(r, 409, "CONFLICT")
    assert first["id"] in problem["detail"] and "6b5f3cbe-sipp-server" in problem["detail"]
    assert (await http.get(f"{ROOT}/{second}")).json()["onboardingState"] == "CREATED"


async def test_definitions_may_not_clash_with_an_enabled_package(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    # Another VNFD under the same file name: an NSD importing it could get either.
    other = edited(
        SERVER,
        tmp_path,
        replace_in(SERVER_VNFD, "default: 6b5f3cbe-sipp-server", "default: 7c6a-sipp-server-2"),
        True,
    )
    first = await onboard_package(http, zip_directory(SERVER))
    second = await create_package(http)
    r = await http.put(
        f"{ROOT}/{second}/package_content",
        content=other,
        headers={"Content-Type": "application/zip"},
    )
    problem = assert_problem(r, 409, "CONFLICT")
    assert "sipp-server-vnfd.yaml" in problem["detail"] and first["id"] in problem["detail"]

    await http.patch(f"{ROOT}/{first['id']}", json={"operationalState": "DISABLED"})
    r = await http.put(
        f"{ROOT}/{second}/package_content",
        content=other,
        headers={"Content-Type": "application/zip"},
    )
    assert r.status_code == 204, r.text
    r = await http.patch(f"{ROOT}/{first['id']}", json={"operationalState": "ENABLED"})
    assert second in assert_problem(r, 409, "CONFLICT")["detail"]


# --- the CLI --------------------------------------------------------------------------------


def test_cli_package_commands(tmp_path: Path) -> None:
    runner = CliRunner()
    with cli_config(tmp_path / "nubo") as config:

        def nubo(*args: str) -> Any:
            return runner.invoke(main, list(args), obj=config, catch_exceptions=False)

        result = nubo("package", "onboard", str(SERVER))
        assert result.exit_code == 0, result.output
        assert "ONBOARDED, ENABLED" in result.output and "6b5f3cbe-sipp-server" in result.output
        package_id = result.output.split()[3].rstrip(":")

        result = nubo("package", "list")
        assert package_id in result.output and "SIPp server" in result.output
        result = nubo("package", "show", package_id)
        assert "nubo/sipp-server:latest" in result.output and "ChangeLog.txt" in result.output
        out = tmp_path / "changes.txt"
        result = nubo("package", "artifact", package_id, "ChangeLog.txt", "-o", str(out))
        assert result.exit_code == 0 and out.read_bytes() == (SERVER / "ChangeLog.txt").read_bytes()
        result = nubo("package", "vnfd", package_id)
        assert result.output == (SERVER / SERVER_VNFD).read_text()

        result = nubo("package", "delete", package_id)
        assert result.exit_code == 1 and "ENABLED" in result.output
        assert nubo("package", "disable", package_id).exit_code == 0
        assert nubo("package", "delete", package_id).exit_code == 0

        # a refused upload: the problem is printed and the empty package is deleted again
        broken = edited(
            SERVER, tmp_path, replace_in(SERVER_VNFD, "container_format: docker", "x: 1"), False
        )
        (tmp_path / "broken.zip").write_bytes(broken)
        result = nubo("package", "onboard", str(tmp_path / "broken.zip"))
        assert result.exit_code == 1
        assert "Invalid descriptor (422 INVALID_DESCRIPTOR)" in result.output
        assert f"- {SERVER_VNFD}: SHA-256 digest" in result.output
        result = nubo("package", "list", "--json")
        assert result.output.strip() == "[]"


def test_cli_manifest_refreshes_stale_digests(tmp_path: Path) -> None:
    copy = tmp_path / "sipp-server"
    shutil.copytree(SERVER, copy)
    runner = CliRunner()
    assert runner.invoke(main, ["package", "manifest", "--check", str(copy)]).exit_code == 0

    replace_in(SERVER_VNFD, "One SIPp server container", "The SIPp server")(copy)
    (copy / "Files").mkdir()
    (copy / "Files" / "uas.xml").write_text("<scenario/>\n")
    result = runner.invoke(main, ["package", "manifest", "--check", str(copy)])
    assert result.exit_code == 1 and f"{SERVER_VNFD}: new SHA-256 digest" in result.output
    assert "Files/uas.xml: listed" in result.output

    result = runner.invoke(main, ["package", "manifest", str(copy)])
    assert result.exit_code == 0, result.output
    assert runner.invoke(main, ["package", "manifest", "--check", str(copy)]).exit_code == 0
    manifest = (copy / "sipp-server.mf").read_text()
    assert manifest.startswith("metadata:\nvnf_provider_id: mcilloni\n")
    assert "Source: Files/uas.xml\nAlgorithm: SHA-256\nHash: " in manifest
