"""SOL005 NSD management (``/nsd/v1``): SOL001 NSDs onboarded over VNF packages, and deployed."""

from __future__ import annotations

import asyncio
import io
import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from nubo.app import Nubo
from nubo.catalogue.nsd import NsdCatalogue
from nubo.cli.main import main
from nubo.cli.packages import zip_directory
from nubo.descriptors.openbaton import parse_nsd
from nubo.model.records import REDACTED
from nubo.model.states import OpState
from nubo.vim.fake import FakeVimDriver
from tests.conftest import api_client, fake_nubo, running
from tests.unit.test_packages import (
    CLIENT,
    CLIENT_ENV,
    SERVER,
    TOSCA,
    assert_problem,
    cli_config,
    edited,
    onboard_package,
    problem_paths,
)

ROOT = "/nsd/v1/ns_descriptors"
PACKAGES = "/vnfpkgm/v1/vnf_packages"
NSD_YAML = TOSCA / "nsd.yaml"
NSD_JSON = TOSCA.parent / "sipp" / "nsd.json"
NODES = "topology_template.node_templates"
YAML = {"Content-Type": "application/yaml"}


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Nubo]:
    async with running(fake_nubo(tmp_path)) as nubo:
        yield nubo


@pytest.fixture
async def http(app: Nubo) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as client:
        yield client


async def onboard_packages(http: httpx.AsyncClient, *directories: Path) -> list[str]:
    return [
        (await onboard_package(http, zip_directory(d)))["id"]
        for d in directories or (SERVER, CLIENT)
    ]


async def create_nsd(http: httpx.AsyncClient, body: dict[str, Any] | None = None) -> str:
    r = await http.post(ROOT, json=body) if body is not None else await http.post(ROOT)
    assert r.status_code == 201, r.text
    nsd_id: str = r.json()["id"]
    return nsd_id


async def upload(
    http: httpx.AsyncClient, nsd_id: str, content: bytes, media_type: str = "application/yaml"
) -> httpx.Response:
    return await http.put(
        f"{ROOT}/{nsd_id}/nsd_content", content=content, headers={"Content-Type": media_type}
    )


async def onboard_nsd(http: httpx.AsyncClient, content: bytes, media_type: str) -> dict[str, Any]:
    nsd_id = await create_nsd(http)
    r = await upload(http, nsd_id, content, media_type)
    assert r.status_code == 204 and not r.content, r.text
    info: dict[str, Any] = (await http.get(f"{ROOT}/{nsd_id}")).json()
    return info


async def wait_op(http: httpx.AsyncClient, location: str) -> dict[str, Any]:
    for _ in range(300):
        op: dict[str, Any] = (await http.get(location)).json()
        if op["state"] in ("COMPLETED", "FAILED", "ROLLED_BACK", "FAILED_TEMP"):
            return op
        await asyncio.sleep(0.02)
    raise AssertionError(f"operation {location} did not finish")


async def instantiate(http: httpx.AsyncClient, nsd_id: str) -> dict[str, Any]:
    """Deploy through the Open Baton route and wait; the NSR, ACTIVE."""
    r = await http.post(f"/api/v1/ns-records/{nsd_id}", json={})
    assert r.status_code == 202, r.text
    op = await wait_op(http, r.headers["location"])
    assert op["state"] == "COMPLETED", op
    nsr: dict[str, Any] = (await http.get(f"/api/v1/ns-records/{r.json()['id']}")).json()
    assert nsr["status"] == "ACTIVE"
    return nsr


async def terminate(http: httpx.AsyncClient, nsr_id: str) -> None:
    r = await http.delete(f"/api/v1/ns-records/{nsr_id}")
    assert (await wait_op(http, r.headers["location"]))["state"] == "COMPLETED"


def shape(nsr: dict[str, Any]) -> Any:
    """What a deployed NS is, without its ids and addresses."""
    vnfs = []
    for vnfr in sorted(nsr["vnfr"], key=lambda v: v["name"]):
        vnfcs = [c for vdu in vnfr["vdu"] for c in vdu["vnfc_instance"]]
        vnfs.append(
            (
                vnfr["name"],
                vnfr["type"],
                [(vdu["image"], vdu["scale_in_out"]) for vdu in vnfr["vdu"]],
                sorted({link for c in vnfcs for link in c["addresses"]}),
                sorted({key for c in vnfcs for key in c["environment"]}),
                [c["state"] for c in vnfcs],
            )
        )
    return vnfs, sorted(vlr["name"] for vlr in nsr["vlr"])


def address(nsr: dict[str, Any], vnf: str, link: str) -> str:
    vnfr = next(v for v in nsr["vnfr"] if v["name"] == vnf)
    found: str = vnfr["vdu"][0]["vnfc_instance"][0]["addresses"][link]
    return found


def environment(nsr: dict[str, Any], vnf: str) -> dict[str, str]:
    """The first VNFC's environment as the API shows it (env-file values hidden)."""
    vnfr = next(v for v in nsr["vnfr"] if v["name"] == vnf)
    found: dict[str, str] = vnfr["vdu"][0]["vnfc_instance"][0]["environment"]
    return found


async def recorded_environment(app: Nubo, nsr: dict[str, Any], vnf: str) -> dict[str, str]:
    """The first VNFC's environment as the record keeps it, and the VNFC got it."""
    return dict((await app.ns.get(nsr["id"])).vnfr_by_name(vnf).vnfcs()[0].environment)


# --- the SIPp example as TOSCA ---------------------------------------------------------------


async def test_tosca_nsd_over_the_example_packages_deploys_like_the_json_one(
    http: httpx.AsyncClient, app: Nubo
) -> None:
    package_ids = await onboard_packages(http)
    info = await onboard_nsd(http, NSD_YAML.read_bytes(), "application/yaml")

    assert (info["nsdOnboardingState"], info["nsdOperationalState"], info["nsdUsageState"]) == (
        "ONBOARDED",
        "ENABLED",
        "NOT_IN_USE",
    )
    assert (info["nsdId"], info["nsdName"], info["nsdVersion"], info["nsdDesigner"]) == (
        "3f1f6c1e-docker-test-NS-sipp",
        "docker-test-NS-sipp",
        "1.0",
        "mcilloni",
    )
    assert info["nsdInvariantId"] == "docker-test-NS-sipp"
    assert sorted(info["vnfPkgIds"]) == sorted(package_ids)
    packages = (await http.get(PACKAGES)).json()
    assert {p["usageState"] for p in packages} == {"IN_USE"}
    r = await http.get(f"{ROOT}/{info['id']}/nsd_content")
    assert r.content == NSD_YAML.read_bytes()
    assert r.headers["content-type"].startswith("application/yaml")
    listed = (await http.get("/api/v1/ns-descriptors")).json()
    assert [(n["id"], n["format"], n["enabled"]) for n in listed] == [(info["id"], "sol001", True)]

    tosca = await instantiate(http, info["id"])
    json_id = (await http.post("/api/v1/ns-descriptors", content=NSD_JSON.read_bytes())).json()
    openbaton = await instantiate(http, json_id["id"])

    # the same, but for the variable of the client package's env file (hidden by the API)
    assert environment(tosca, "sipp-client").pop("SIPP_EXTRA_NOTE") == REDACTED
    assert (await recorded_environment(app, tosca, "sipp-client"))["SIPP_EXTRA_NOTE"] == (
        "from-env-file"
    )
    assert shape(tosca) == shape(openbaton)
    server_ip = address(tosca, "sipp-server", "private")
    assert environment(tosca, "sipp-client")["SERVER_PRIVATE"] == server_ip
    client_env = environment(tosca, "sipp-client")
    assert {k: v for k, v in client_env.items() if k.startswith("SIPP_")} == {
        k: v for k, v in environment(openbaton, "sipp-client").items() if k.startswith("SIPP_")
    }
    assert (await http.get(f"{ROOT}/{info['id']}")).json()["nsdUsageState"] == "IN_USE"

    # Stored self-contained: a fresh catalogue (a restart) parses it to the same NSD.
    assert await NsdCatalogue(app.repositories.nsds, app.repositories.nsrs, parse_nsd).parsed(
        info["id"]
    ) == await app.catalogue.parsed(info["id"])


async def test_a_disabled_package_keeps_its_nsds_from_instantiating(
    http: httpx.AsyncClient,
) -> None:
    server, _ = await onboard_packages(http)
    nsd = await onboard_nsd(http, NSD_YAML.read_bytes(), "text/plain")
    await http.patch(f"{PACKAGES}/{server}", json={"operationalState": "DISABLED"})

    r = await http.post(f"/api/v1/ns-records/{nsd['id']}", json={})
    assert server in assert_problem(r, 409, "CONFLICT")["detail"]
    r = await http.delete(f"{PACKAGES}/{server}")
    assert nsd["id"] in assert_problem(r, 409, "CONFLICT")["detail"]  # IN_USE

    await http.patch(f"{PACKAGES}/{server}", json={"operationalState": "ENABLED"})
    await instantiate(http, nsd["id"])


async def test_an_nsd_csar_brings_its_own_definitions(http: httpx.AsyncClient, app: Nubo) -> None:
    # No package onboarded: the NSD CSAR ships the VNFDs it imports.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(
            "TOSCA-Metadata/TOSCA.meta",
            "TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\nCreated-By: tests\n"
            "Entry-Definitions: Definitions/nsd.yaml\n",
        )
        archive.writestr("Definitions/nsd.yaml", NSD_YAML.read_text())
        for package in (SERVER, CLIENT):
            for vnfd in package.glob("Definitions/*.yaml"):
                archive.writestr(f"Definitions/{vnfd.name}", vnfd.read_text())
        # where the client VNFD says its env file is, relative to itself
        archive.writestr("Files/sipp-client.env", "SIPP_EXTRA_NOTE=from-the-nsd-csar\n")
    csar = buffer.getvalue()

    info = await onboard_nsd(http, csar, "application/zip")
    assert (info["nsdOnboardingState"], info["vnfPkgIds"]) == ("ONBOARDED", [])
    r = await http.get(f"{ROOT}/{info['id']}/nsd_content")
    assert r.content == csar and r.headers["content-type"] == "application/zip"
    nsr = await instantiate(http, info["id"])
    recorded = await recorded_environment(app, nsr, "sipp-client")
    assert recorded["SIPP_EXTRA_NOTE"] == "from-the-nsd-csar"


# --- VDU env files ---------------------------------------------------------------------------

ENV_FILE = (
    "# the client's env file, with names that later sources also set\n"
    "ENV_ONLY=kept\n"
    "SIPP_RATE=99\n"
    "SERVER_PRIVATE=192.0.2.1\n"
    "NUBO_NS_ID=forged\n"
)


async def test_env_file_variables_reach_every_vnfc_under_everything_else(
    http: httpx.AsyncClient, app: Nubo, tmp_path: Path
) -> None:
    client = edited(CLIENT, tmp_path, lambda root: (root / CLIENT_ENV).write_text(ENV_FILE), True)
    await onboard_packages(http, SERVER)
    await onboard_package(http, client)
    info = await onboard_nsd(http, NSD_YAML.read_bytes(), "application/yaml")
    nsr = await instantiate(http, info["id"])

    env = await recorded_environment(app, nsr, "sipp-client")
    assert env["ENV_ONLY"] == "kept"  # env file
    assert env["SIPP_RATE"] == "10"  # < configuration parameter
    assert env["SERVER_PRIVATE"] == address(nsr, "sipp-server", "private")  # < dependency
    assert env["NUBO_NS_ID"] == nsr["id"]  # < nubo's own
    record = await app.ns.get(nsr["id"])
    assert record.vnfr_by_name("sipp-client").vdu[0].environment["SIPP_RATE"] == "99"
    # the API shows the env file's variables without their values
    client_vdu = next(v for v in nsr["vnfr"] if v["name"] == "sipp-client")["vdu"][0]
    assert client_vdu["environment"]["SIPP_RATE"] == REDACTED
    assert environment(nsr, "sipp-client")["ENV_ONLY"] == REDACTED
    assert environment(nsr, "sipp-client")["SIPP_RATE"] == "10"  # not the file's: shown
    assert "ENV_ONLY" not in environment(nsr, "sipp-server")
    vim = await app.vims.driver((await app.vims.default()).id)
    assert isinstance(vim, FakeVimDriver)
    vnfc = client_vdu["vnfc_instance"][0]
    container = vim.container_of(vnfc["vc_id"])
    assert container is not None and container.environment == env

    # A scaled-out VNFC gets it too, from the VDU record ...
    vnfr = next(v for v in nsr["vnfr"] if v["name"] == "sipp-client")
    op = await app.ns.scale_out(nsr["id"], vnfr["id"], client_vdu["id"])
    assert (await app.runner.wait(op.id, timeout=10)).state == OpState.COMPLETED
    record = await app.ns.get(nsr["id"])
    vnfcs = record.vnfr_by_name("sipp-client").vnfcs()
    assert len(vnfcs) == 2 and vnfcs[1].environment["ENV_ONLY"] == "kept"
    assert vnfcs[1].environment["NUBO_VNFC_ID"] == vnfcs[1].id

    # ... and so does a re-created one.
    vim.vanish(vnfcs[1].vc_id)
    op = await app.ns.heal(nsr["id"], vnfcs[1].id)
    assert (await app.runner.wait(op.id, timeout=10)).state == OpState.COMPLETED
    healed = (await app.ns.get(nsr["id"])).find_vnfc(vnfcs[1].id)[2]
    container = vim.container_of(healed.vc_id)
    assert container is not None and container.environment == vnfcs[1].environment


async def test_open_baton_json_through_sol005(http: httpx.AsyncClient) -> None:
    info = await onboard_nsd(http, NSD_JSON.read_bytes(), "application/json")
    assert (info["nsdName"], info["nsdOnboardingState"]) == ("docker-test-NS-sipp", "ONBOARDED")
    r = await http.get(f"{ROOT}/{info['id']}/nsd_content")
    assert r.json() == json.loads(NSD_JSON.read_text())
    await instantiate(http, info["id"])


# --- lifecycle ------------------------------------------------------------------------------


async def test_nsd_lifecycle(http: httpx.AsyncClient) -> None:
    json_nsd = (await http.post("/api/v1/ns-descriptors", content=NSD_JSON.read_bytes())).json()
    r = await http.post(ROOT, json={"userDefinedData": {"team": "voip"}})
    assert r.status_code == 201, r.text
    created = r.json()
    nsd_id = created["id"]
    assert r.headers["location"] == f"{ROOT}/{nsd_id}"
    assert (
        created["nsdOnboardingState"],
        created["nsdOperationalState"],
        created["nsdUsageState"],
        created["userDefinedData"],
    ) == ("CREATED", "DISABLED", "NOT_IN_USE", {"team": "voip"})
    assert "nsdId" not in created

    # every NSD is listed; the Open Baton routes still work with an NSD without content
    listed = {n["id"]: n for n in (await http.get(ROOT)).json()}
    assert listed[json_nsd["id"]]["nsdOnboardingState"] == "ONBOARDED"
    assert listed[json_nsd["id"]]["nsdOperationalState"] == "ENABLED"
    assert listed[json_nsd["id"]]["nsdId"] == json_nsd["id"]
    assert listed[nsd_id]["nsdOnboardingState"] == "CREATED"
    assert len((await http.get("/api/v1/ns-descriptors")).json()) == 2
    assert (await http.get(f"/api/v1/ns-descriptors/{nsd_id}")).status_code == 200
    r = await http.post(f"/api/v1/ns-records/{nsd_id}", json={})
    assert "no content yet (CREATED)" in assert_problem(r, 409, "CONFLICT")["detail"]
    assert_problem(await http.get(f"{ROOT}/{nsd_id}/nsd_content"), 409, "CONFLICT")
    r = await http.patch(f"{ROOT}/{nsd_id}", json={"nsdOperationalState": "ENABLED"})
    assert_problem(r, 409, "CONFLICT")

    await onboard_packages(http)
    assert (await upload(http, nsd_id, NSD_YAML.read_bytes())).status_code == 204
    r = await upload(http, nsd_id, NSD_YAML.read_bytes())
    assert "already" in assert_problem(r, 409, "CONFLICT")["detail"]

    r = await http.patch(f"{ROOT}/{nsd_id}", json={"nsdOperationalState": "DISABLED"})
    assert r.status_code == 200 and r.json() == {"nsdOperationalState": "DISABLED"}
    r = await http.post(f"/api/v1/ns-records/{nsd_id}", json={})
    assert f"NSD {nsd_id} is DISABLED" in assert_problem(r, 409, "CONFLICT")["detail"]
    r = await http.patch(
        f"{ROOT}/{nsd_id}",
        json={"nsdOperationalState": "ENABLED", "userDefinedData": {"team": None, "on": "call"}},
    )
    assert r.status_code == 200
    info = (await http.get(f"{ROOT}/{nsd_id}")).json()
    assert (info["nsdOperationalState"], info["userDefinedData"]) == ("ENABLED", {"on": "call"})

    nsr = await instantiate(http, nsd_id)
    assert (await http.get(f"{ROOT}/{nsd_id}")).json()["nsdUsageState"] == "IN_USE"
    refused = assert_problem(await http.delete(f"{ROOT}/{nsd_id}"), 409, "CONFLICT")
    assert "ENABLED" in refused["detail"]
    await http.patch(f"{ROOT}/{nsd_id}", json={"nsdOperationalState": "DISABLED"})
    refused = assert_problem(await http.delete(f"{ROOT}/{nsd_id}"), 409, "CONFLICT")
    assert nsr["id"] in refused["detail"] and refused["nsr_ids"] == [nsr["id"]]

    await terminate(http, nsr["id"])
    assert (await http.delete(f"{ROOT}/{nsd_id}")).status_code == 204
    assert_problem(await http.get(f"{ROOT}/{nsd_id}"), 404, "NOT_FOUND")
    # the packages are no longer in use, and may go
    for package in (await http.get(PACKAGES)).json():
        assert package["usageState"] == "NOT_IN_USE"
        await http.patch(f"{PACKAGES}/{package['id']}", json={"operationalState": "DISABLED"})
        assert (await http.delete(f"{PACKAGES}/{package['id']}")).status_code == 204


async def test_bad_requests(http: httpx.AsyncClient) -> None:
    nsd_id = await create_nsd(http)
    assert_problem(await upload(http, nsd_id, b"x", "image/png"), 415, "UNSUPPORTED_MEDIA_TYPE")
    assert_problem(await upload(http, nsd_id, b""), 400, "BAD_REQUEST")
    assert_problem(await http.patch(f"{ROOT}/{nsd_id}", json={}), 400, "BAD_REQUEST")
    assert_problem(await http.get(f"{ROOT}/nope"), 404, "NOT_FOUND")
    assert_problem(await upload(http, "nope", b"a: b"), 404, "NOT_FOUND")
    assert (await http.get(f"{ROOT}/{nsd_id}")).json()["nsdOnboardingState"] == "CREATED"


# --- bad NSDs: every problem named, nothing changed -----------------------------------------

EXAMPLE = NSD_YAML.read_text()
BAD_NSDS: dict[str, tuple[str, str, str]] = {
    "malformed YAML": (
        EXAMPLE.replace("  node_templates:\n", "  node_templates: [\n"),
        "$",
        "malformed YAML",
    ),
    "unknown node type": (
        EXAMPLE.replace("type: tosca.nodes.nfv.NsVirtualLink", "type: tosca.nodes.nfv.NsLink"),
        f"{NODES}.private.type",
        "unknown node type 'tosca.nodes.nfv.NsLink'",
    ),
    "dangling requirement": (
        EXAMPLE.replace("- dependency: sipp-server", "- dependency: sipp-proxy"),
        f"{NODES}.sipp-client.requirements[1].dependency",
        "no node template 'sipp-proxy'",
    ),
    "VNF no package provides": (
        EXAMPLE.replace("type: nubo.sipp.SippServer", "type: nubo.sipp.SippProxy"),
        f"{NODES}.sipp-server.type",
        "unknown node type 'nubo.sipp.SippProxy': neither this template nor its imports define "
        "it; no ONBOARDED, ENABLED VNF package provides it",
    ),
}


@pytest.mark.parametrize("case", list(BAD_NSDS))
async def test_a_bad_nsd_is_refused_and_nothing_changes(http: httpx.AsyncClient, case: str) -> None:
    text, path, fragment = BAD_NSDS[case]
    await onboard_packages(http)
    nsd_id = await create_nsd(http)

    problem = assert_problem(await upload(http, nsd_id, text.encode()), 422, "INVALID_DESCRIPTOR")

    assert any(e["path"] == path and fragment in e["message"] for e in problem["errors"]), (
        problem_paths(problem)
    )
    info = (await http.get(f"{ROOT}/{nsd_id}")).json()
    assert (info["nsdOnboardingState"], info.get("nsdId")) == ("CREATED", None)
    assert {p["usageState"] for p in (await http.get(PACKAGES)).json()} == {"NOT_IN_USE"}
    assert (await upload(http, nsd_id, EXAMPLE.encode())).status_code == 204


async def test_malformed_yaml_names_line_and_column(http: httpx.AsyncClient) -> None:
    nsd_id = await create_nsd(http)
    r = await upload(http, nsd_id, b"tosca_definitions_version: x\ntopology_template: [\n  a: b\n")
    (error,) = assert_problem(r, 422, "INVALID_DESCRIPTOR")["errors"]
    assert error["path"] == "$" and "at line 4 column 1" in error["message"]


async def test_imports_never_read_the_orchestrators_files(http: httpx.AsyncClient) -> None:
    nsd_id = await create_nsd(http)
    text = EXAMPLE.replace("  - etsi_nfv_sol001_nsd_types.yaml\n", "  - nubo:/etc/passwd\n")
    problem = assert_problem(await upload(http, nsd_id, text.encode()), 422, "INVALID_DESCRIPTOR")
    assert any(
        p == "imports[0]" and m.startswith("cannot import 'nubo:/etc/passwd'")
        for p, m in problem_paths(problem)
    ), problem_paths(problem)


async def test_a_missing_package_is_named(http: httpx.AsyncClient) -> None:
    (server,) = await onboard_packages(http, SERVER)
    nsd_id = await create_nsd(http)
    problem = assert_problem(
        await upload(http, nsd_id, EXAMPLE.encode()), 422, "INVALID_DESCRIPTOR"
    )
    assert (
        "imports[2]",
        "cannot import 'sipp-client-vnfd.yaml': no such file in the NSD, and no ONBOARDED, "
        "ENABLED VNF package has it in its Definitions",
    ) in problem_paths(problem)
    assert any(
        p == f"{NODES}.sipp-client.type" and "no ONBOARDED, ENABLED VNF package provides" in m
        for p, m in problem_paths(problem)
    )

    await http.patch(f"{PACKAGES}/{server}", json={"operationalState": "DISABLED"})
    problem = assert_problem(
        await upload(http, nsd_id, EXAMPLE.encode()), 422, "INVALID_DESCRIPTOR"
    )
    assert any(
        p == "imports[1]" and f"VNF package {server} has it but is DISABLED" in m
        for p, m in problem_paths(problem)
    ), problem_paths(problem)


# --- the CLI --------------------------------------------------------------------------------


def test_cli_onboards_packages_and_a_tosca_nsd(tmp_path: Path) -> None:
    runner = CliRunner()
    with cli_config(tmp_path / "nubo") as config:

        def nubo(*args: str) -> Any:
            return runner.invoke(main, list(args), obj=config, catch_exceptions=False)

        for package in (SERVER, CLIENT):
            assert nubo("package", "onboard", str(package)).exit_code == 0
        bad = tmp_path / "bad.yaml"
        bad.write_text(EXAMPLE.replace("- dependency: sipp-server", "- dependency: sipp-proxy"))
        result = nubo("nsd", "onboard", str(bad))
        assert result.exit_code == 1
        assert f"- {NODES}.sipp-client.requirements[1].dependency: no node template" in (
            result.output
        )
        assert nubo("nsd", "list", "--json").output.strip() == "[]"  # nothing left behind

        result = nubo("nsd", "onboard", str(NSD_YAML))
        assert result.exit_code == 0, result.output
        assert "ONBOARDED, ENABLED" in result.output
        nsd_id = result.output.split()[2]

        result = nubo("nsd", "disable", nsd_id)
        assert result.exit_code == 0 and "DISABLED" in result.output
        result = nubo("ns", "instantiate", nsd_id)
        assert result.exit_code == 1 and "is DISABLED" in result.output
        assert nubo("nsd", "enable", nsd_id).exit_code == 0
        result = nubo("ns", "instantiate", nsd_id, "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["status"] == "ACTIVE"

        json_nsd = nubo("nsd", "onboard", str(NSD_JSON), "--json")
        assert json.loads(json_nsd.stdout)["format"] == "openbaton"
