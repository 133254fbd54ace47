"""Open Baton dependencies as real NSDs write them: both ``vnf_dependency`` forms,
VNFD ``requires``/``provides``, parameters that name VNFC attributes or provided
keys, cycles, VNFDs by reference and ``vimInstanceName`` placement."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nubo.app import Repositories
from nubo.catalogue.nsd import NsdCatalogue
from nubo.descriptors.openbaton import parse_nsd
from nubo.model.catalogue import VimRegistration
from nubo.model.descriptors import Nsd, VnfDependency
from nubo.model.errors import Conflict, FieldProblem, InvalidDescriptor
from nubo.model.records import NetworkServiceRecord, VnfcInstance
from nubo.nfvo.dependencies import resolve_dependencies
from nubo.nfvo.planning import plan_nsr
from nubo.nfvo.vims import VimService
from nubo.vim import fake
from nubo.vim.registry import DriverRegistry
from tests.conftest import api_client, fake_nubo, running
from tests.unit.test_api import assert_problem, wait_op

FIXTURES = Path(__file__).parent / "fixtures" / "openbaton"


def load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return document


def problems_of(document: dict[str, Any]) -> list[FieldProblem]:
    with pytest.raises(InvalidDescriptor) as info:
        parse_nsd(document)
    return info.value.problems


def deployed(nsd: Nsd, addresses: dict[str, list[dict[str, str]]]) -> NetworkServiceRecord:
    """An NSR of ``nsd`` whose VNFs have VNFCs with these addresses (per VNF, per VNFC)."""
    nsr = plan_nsr("nsd-1", nsd, nsd.name, "vim-1", project_id="default")
    for vnfr in nsr.vnfr:
        vdu = vnfr.vdu[0]
        for index, by_link in enumerate(addresses.get(vnfr.name, [])):
            vdu.vnfc_instance.append(
                VnfcInstance(
                    id=f"{vnfr.name}-{index}",
                    vdu_id=vdu.id,
                    hostname=f"{vnfr.name}-{index}",
                    index=index,
                    addresses=by_link,
                )
            )
    return nsr


# --- requires / provides ----------------------------------------------------------------


def test_requires_by_type_becomes_a_dependency_with_its_parameters() -> None:
    nsd = parse_nsd(load("iperf-requires.json"))
    assert nsd.dependencies == (
        VnfDependency(
            "iperf-server", "iperf-client", ("private", "hostname", "port", "session_key")
        ),
    )
    assert nsd.vnfd("iperf-server").provides == ("port", "session_key")


def test_a_provided_key_without_a_value_is_a_warning_at_its_path() -> None:
    nsd = parse_nsd(load("iperf-requires.json"))
    [warning] = nsd.warnings
    assert warning.path == "$.vnfd[1].requires.server.parameters[3]"
    assert "'iperf-server' provides 'session_key' but gives it no value" in warning.message


def test_requires_resolves_addresses_hostnames_and_provided_values() -> None:
    nsd = parse_nsd(load("iperf-requires.json"))
    nsr = deployed(
        nsd,
        {
            "iperf-server": [
                {"private": "10.0.0.2", "mgmt": "10.1.0.2"},
                {"private": "10.0.0.3", "mgmt": "10.1.0.3"},
            ],
            "iperf-client": [{"private": "10.0.0.4"}],
        },
    )
    assert resolve_dependencies(nsd, nsr) == {
        "iperf-server": {},
        "iperf-client": {
            "SERVER_PRIVATE": "10.0.0.2,10.0.0.3",
            "SERVER_HOSTNAME": "iperf-server-0,iperf-server-1",
            "SERVER_PORT": "5201",
            "SERVER_SESSION_KEY": "",
        },
    }


def test_requires_naming_no_vnf_is_refused() -> None:
    doc = load("iperf-requires.json")
    doc["vnfd"][1]["requires"] = {"database": {"parameters": ["private"]}}
    [problem] = problems_of(doc)
    assert problem.path == "$.vnfd[1].requires.database"
    assert "no VNF of this NSD is named or has type 'database'" in problem.message


def test_requires_must_map_to_parameters() -> None:
    doc = load("iperf-requires.json")
    doc["vnfd"][1]["requires"] = {"server": ["private"]}
    [problem] = problems_of(doc)
    assert problem == FieldProblem(
        "$.vnfd[1].requires.server", 'expected an object {"parameters": [...]}, got list'
    )


def test_a_parameter_the_source_cannot_give_names_what_it_can() -> None:
    doc = load("iperf-requires.json")
    doc["vnfd"][1]["requires"]["server"]["parameters"] = ["mgmt", "private_floatingIp", "ip"]
    problems = problems_of(doc)
    where = "$.vnfd[1].requires.server.parameters"
    assert [p.path for p in problems] == [f"{where}[0]", f"{where}[1]", f"{where}[2]"]
    assert "attach 'iperf-client' to 'mgmt' too" in problems[0].message
    assert "containers have no floating IPs" in problems[1].message
    assert problems[2].message == (
        "'ip' is none of what 'iperf-server' can give: a virtual link both VNFs connect "
        "to ('private'), 'hostname', or a key of its configurations ('port')"
    )


# --- vnf_dependency in both forms -------------------------------------------------------


def test_string_and_object_ends_merge_into_one_dependency() -> None:
    nsd = parse_nsd(load("media-ob6.json"))
    assert nsd.dependencies == (
        VnfDependency("kms", "app-server", ("media", "hostname", "KMS_PORT")),
    )
    assert nsd.warnings == ()
    nsr = deployed(nsd, {"kms": [{"media": "10.0.0.2"}], "app-server": [{"media": "10.0.0.3"}]})
    assert resolve_dependencies(nsd, nsr)["app-server"] == {
        "MEDIA_SERVER_MEDIA": "10.0.0.2",
        "MEDIA_SERVER_HOSTNAME": "kms-0",
        "MEDIA_SERVER_KMS_PORT": "8888",
    }


def test_a_dependency_on_a_missing_vnf_lists_the_vnfs() -> None:
    doc = load("media-ob6.json")
    doc["vnf_dependency"][0]["source"] = "kurento"
    problems = problems_of(doc)
    assert (
        FieldProblem(
            "$.vnf_dependency[0].source",
            "dependency on a missing VNF 'kurento': the NSD's VNFDs are 'kms', 'app-server'",
        )
        in problems
    )


def test_a_cycle_through_requires_and_vnf_dependency_is_refused() -> None:
    [problem] = problems_of(load("cycle.json"))
    assert problem.path == "$.vnf_dependency"
    assert problem.message.startswith("dependency cycle: mme -> hss -> mme: ")
    assert "remove one of the dependencies" in problem.message


def test_a_cycle_of_requires_is_refused_at_the_requires_that_closes_it() -> None:
    doc = load("cycle.json")
    doc["vnf_dependency"] = []
    doc["vnfd"][1]["requires"] = {"mme": {"parameters": ["hostname"]}}
    [problem] = problems_of(doc)
    assert problem.path == "$.vnfd[0].requires.hss"
    assert problem.message.startswith("dependency cycle: hss -> mme -> hss: ")


# --- VNFDs by reference -----------------------------------------------------------------


def test_an_unresolved_reference_names_the_id() -> None:
    problems = problems_of(load("by-reference.json"))
    assert problems[0].path == "$.vnfd[0].id"
    assert problems[0].message.startswith(
        "VNFD '4c6a2f7e-db00-4d6e-9b1a-5f0e2a7c9d11' is given by reference, but the "
        "catalogue has no VNFD with that id"
    )
    # and the requires naming the missing VNFD says so too
    assert problems[1].path == "$.vnfd[1].requires.database"


async def test_a_reference_resolves_from_an_onboarded_nsd_and_survives_it(
    store: Repositories,
) -> None:
    catalogue = NsdCatalogue(store.nsds, store.nsrs, parse_nsd)
    with pytest.raises(InvalidDescriptor):
        await catalogue.onboard(load("by-reference.json"))
    source = await catalogue.onboard(load("catalogue-vnfd.json"))
    entry = await catalogue.onboard(load("by-reference.json"))
    assert entry.body == load("by-reference.json")  # kept as sent
    await catalogue.delete(source.id)
    nsd = await NsdCatalogue(store.nsds, store.nsrs, parse_nsd).parsed(
        entry.id
    )  # fresh: parsed from the store
    assert [v.name for v in nsd.vnfds] == ["mysql", "web"]
    assert nsd.dependencies == (VnfDependency("mysql", "web", ("private", "DB_PORT")),)


# --- vimInstanceName --------------------------------------------------------------------


async def vims_named(store: Repositories, *names: str) -> VimService:
    registry = DriverRegistry()
    fake.register(registry)
    service = VimService(store.vims, registry)
    for name in names:
        await service.register(name, "fake")
    return service


async def test_vim_instance_name_selects_the_vim_every_vdu_allows(store: Repositories) -> None:
    vims = await vims_named(store, "core-pop", "edge-pop")
    nsd = parse_nsd(load("media-ob6.json"))
    chosen: VimRegistration = await vims.for_nsd(nsd)
    assert chosen.name == "edge-pop"


async def test_vim_instance_name_of_no_registered_vim_is_refused(store: Repositories) -> None:
    vims = await vims_named(store, "core-pop")
    with pytest.raises(Conflict) as info:
        await vims.for_nsd(parse_nsd(load("media-ob6.json")))
    assert info.value.detail.startswith(
        "$.vnfd[0].vdu[0].vimInstanceName names 'edge-pop', but no VIM of that name is "
        "registered (registered: 'core-pop')"
    )


async def test_a_requested_vim_the_descriptor_does_not_allow_is_refused(
    store: Repositories,
) -> None:
    vims = await vims_named(store, "core-pop", "edge-pop")
    with pytest.raises(Conflict) as info:
        await vims.for_nsd(parse_nsd(load("media-ob6.json")), "core-pop")
    assert "$.vnfd[0].vdu[0].vimInstanceName allows only 'edge-pop'" in info.value.detail


# --- end to end over the Open Baton routes ----------------------------------------------


@pytest.fixture
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    async with running(fake_nubo(tmp_path)) as app, api_client(app) as client:
        yield client


async def test_a_deployed_ns_gets_its_vim_by_name_and_its_dependency_values(
    http: httpx.AsyncClient,
) -> None:
    for name in ("core-pop", "edge-pop"):
        vim = {"name": name, "type": "fake", "endpoint": "fake:?images=*"}
        registered = await http.post("/api/v1/vims", json=vim)
        assert registered.status_code == 201, registered.text
    edge = next(v for v in (await http.get("/api/v1/vims")).json() if v["name"] == "edge-pop")
    onboarded = await http.post("/api/v1/ns-descriptors", json=load("media-ob6.json"))
    assert onboarded.status_code == 201, onboarded.text
    deployed = await http.post(f"/api/v1/ns-records/{onboarded.json()['id']}")
    assert deployed.status_code == 202, deployed.text
    op = await wait_op(http, deployed.headers["location"])
    assert op["state"] == "COMPLETED", op
    nsr = (await http.get(f"/api/v1/ns-records/{deployed.json()['id']}")).json()
    assert nsr["vim_id"] == edge["id"]
    kms = next(v for v in nsr["vnfr"] if v["name"] == "kms")
    vnfc = kms["vdu"][0]["vnfc_instance"][0]
    app_server = next(v for v in nsr["vnfr"] if v["name"] == "app-server")
    assert app_server["dependency_env"] == {
        "MEDIA_SERVER_MEDIA": vnfc["addresses"]["media"],
        "MEDIA_SERVER_HOSTNAME": vnfc["hostname"],
        "MEDIA_SERVER_KMS_PORT": "8888",
    }


async def test_deploying_where_no_vim_has_the_name_is_a_409_naming_the_field(
    http: httpx.AsyncClient,
) -> None:
    onboarded = await http.post("/api/v1/ns-descriptors", json=load("media-ob6.json"))
    deployed = await http.post(f"/api/v1/ns-records/{onboarded.json()['id']}")
    body = assert_problem(deployed, 409, "CONFLICT")
    assert body["field"] == "$.vnfd[0].vdu[0].vimInstanceName"
    assert "no VIM of that name is registered" in body["detail"]


# --- Open Baton VNF packages --------------------------------------------------------------


def open_baton_package(vnfd: dict[str, Any], name: str) -> bytes:
    """A zipped Open Baton VNF package: Metadata.yaml, vnfd.json, scripts/."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Metadata.yaml", f"name: {name}\nprovider: nubo-tests\n")
        archive.writestr("vnfd.json", json.dumps(vnfd))
        archive.writestr("scripts/install.sh", "#!/bin/sh\necho installed\n")
    return buffer.getvalue()


async def upload_package(
    http: httpx.AsyncClient, archive: bytes
) -> tuple[httpx.Response, dict[str, Any]]:
    """The upload's answer (204 once onboarded), and the package's VnfPkgInfo after it."""
    created = await http.post("/vnfpkgm/v1/vnf_packages", json={})
    href = f"/vnfpkgm/v1/vnf_packages/{created.json()['id']}"
    answer = await http.put(
        f"{href}/package_content", content=archive, headers={"Content-Type": "application/zip"}
    )
    info: dict[str, Any] = (await http.get(href)).json()
    return answer, info


async def test_an_open_baton_package_is_onboarded_and_its_vnfd_referenced_by_id(
    http: httpx.AsyncClient,
) -> None:
    mysql = load("catalogue-vnfd.json")["vnfd"][0]
    uploaded, package = await upload_package(http, open_baton_package(mysql, "mysql"))
    assert uploaded.status_code == 204, uploaded.text
    assert package["vnfdId"] == "4c6a2f7e-db00-4d6e-9b1a-5f0e2a7c9d11"
    assert (package["vnfProvider"], package["vnfProductName"]) == ("nubo-tests", "mysql")
    assert [i["name"] for i in package["softwareImages"]] == ["mysql:8"]
    paths = [a["artifactPath"] for a in package["additionalArtifacts"]]
    assert paths == ["Metadata.yaml", "scripts/install.sh"]

    onboarded = await http.post("/api/v1/ns-descriptors", json=load("by-reference.json"))
    assert onboarded.status_code == 201, onboarded.text
    info = (await http.get(f"/nsd/v1/ns_descriptors/{onboarded.json()['id']}")).json()
    assert info["vnfPkgIds"] == [package["id"]]
    shown = (await http.get(f"/vnfpkgm/v1/vnf_packages/{package['id']}")).json()
    assert shown["usageState"] == "IN_USE"


async def test_an_open_baton_package_with_a_bad_vnfd_names_the_field_in_vnfd_json(
    http: httpx.AsyncClient,
) -> None:
    mysql = load("catalogue-vnfd.json")["vnfd"][0]
    mysql["vdu"][0]["scale_in_out"] = 0
    uploaded, _ = await upload_package(http, open_baton_package(mysql, "mysql"))
    body = assert_problem(uploaded, 422, "INVALID_DESCRIPTOR")
    assert {
        "path": "vnfd.json:$.vdu[0].scale_in_out",
        "message": "expected an integer >= 1, got 0",
    } in (body["errors"])
