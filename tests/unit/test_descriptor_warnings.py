"""Nothing a descriptor carries is dropped silently: what nubo does not use is a warning
at its path, kept on the catalogue entry, returned by both APIs and shown by the CLI."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from nubo.app import Nubo, Repositories
from nubo.catalogue.nsd import NsdCatalogue
from nubo.cli.client import CliConfig
from nubo.cli.main import main
from nubo.descriptors.openbaton import parse_nsd
from tests.conftest import api_client, fake_nubo, running
from tests.unit.test_sol001_layouts import PACKAGE, csar, definitions

EXPORTED = Path(__file__).parent / "fixtures" / "openbaton" / "exported-with-extras.json"
SIPP = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"
KMS = "$.vnfd[0]"


def exported() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(EXPORTED.read_text())
    return document


def test_an_exported_open_baton_nsd_is_accepted_with_a_warning_per_unused_field() -> None:
    nsd = parse_nsd(exported())
    by_path = {w.path: w.message for w in nsd.warnings}
    assert list(by_path) == [
        "$.vnffgd",
        "$.vld[0].qos",
        f"{KMS}.monitoring_parameter",
        f"{KMS}.deployment_flavour[1]",
        f"{KMS}.vnfPackageLocation",
        f"{KMS}.vdu[0].computation_requirement",
        f"{KMS}.vdu[0].fault_management_policy",
        f"{KMS}.vdu[0].vimInstanceNames",
        f"{KMS}.vdu[0].vnfc[0].connection_point[0].floatingIp",
        f"{KMS}.configurations.configurationParameters[0].descripton",
        f"{KMS}.lifecycle_event",
        f"{KMS}.auto_scale_policy[0].actions[0].target",
    ]
    assert by_path[f"{KMS}.vdu[0].vimInstanceNames"] == (
        "unknown key 'vimInstanceNames': nubo does not read it, so it has no effect "
        "(did you mean 'vimInstanceName'?)"
    )
    assert (
        "INSTANTIATE: install.sh; CONFIGURE: server_configure.sh"
        in (by_path[f"{KMS}.lifecycle_event"])
    )
    assert "only one deployment flavour per VNF" in by_path[f"{KMS}.deployment_flavour[1]"]
    # what is used is still mapped
    assert nsd.vnfd("kms").vdus[0].image == "kurento/kurento-media-server:6.6"
    assert nsd.vnfd("kms").configuration.as_env() == {"KMS_STUN": "stun.example.org"}


def test_open_baton_bookkeeping_is_no_warning() -> None:
    document = exported()
    for key in ("vnffgd", "vld"):
        document.pop(key)
    document["vld"] = [{"id": "x", "hb_version": 4, "name": "private"}]
    paths = [w.path for w in parse_nsd(document).warnings]
    assert not [p for p in paths if p.endswith((".id", ".hb_version", ".projectId"))]


async def test_the_catalogue_keeps_the_warnings(store: Repositories) -> None:
    entry = await NsdCatalogue(store.nsds, store.nsrs, parse_nsd).onboard(exported())
    assert len(entry.warnings) == 12
    stored = await store.nsds.get_nsd(entry.id)
    assert stored.warnings == entry.warnings
    assert stored.warnings[0].path == "$.vnffgd"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Nubo]:
    async with running(fake_nubo(tmp_path)) as nubo:
        yield nubo


@pytest.fixture
async def http(app: Nubo) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as client:
        yield client


async def test_both_apis_return_the_warnings(http: httpx.AsyncClient) -> None:
    created = await http.post("/api/v1/ns-descriptors", json=exported())
    assert created.status_code == 201, created.text
    nsd_id = created.json()["id"]
    shown = (await http.get(f"/api/v1/ns-descriptors/{nsd_id}")).json()
    assert shown["warnings"][0] == {
        "path": "$.vnffgd",
        "message": "forwarding graphs are not built; traffic goes over the virtual links directly",
    }
    info = (await http.get(f"/nsd/v1/ns_descriptors/{nsd_id}")).json()
    assert [w["path"] for w in info["nuboWarnings"]] == [w["path"] for w in shown["warnings"]]


def _cli(handler: Any, *args: str) -> Any:
    config = CliConfig(transport=httpx.MockTransport(handler), sleep=lambda _s: None)
    return CliRunner().invoke(main, list(args), obj=config)


def _entry(warnings: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "id": "nsd-7",
        "name": "kurento-exported-NS",
        "vendor": "nubo-tests",
        "version": "2",
        "format": "openbaton",
        "enabled": True,
        "body": {},
        "created_at": "2024-01-01T00:00:00Z",
        "warnings": warnings,
    }


WARNING = {"path": "$.vnfd[0].lifecycle_event", "message": "lifecycle scripts are not run yet"}


def test_nsd_onboard_and_show_print_the_warnings(tmp_path: Path) -> None:
    nsd = tmp_path / "nsd.json"
    nsd.write_text(json.dumps(exported()))

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(201 if request.method == "POST" else 200, json=_entry([WARNING]))

    for args in (("nsd", "onboard", str(nsd)), ("nsd", "show", "nsd-7")):
        result = _cli(handler, *args)
        assert result.exit_code == 0, result.output
        assert "1 warning(s)" in result.stdout
        assert "$.vnfd[0].lifecycle_event" in result.stdout
        assert "lifecycle scripts are not run yet" in result.stdout


def test_no_warnings_no_table(tmp_path: Path) -> None:
    result = _cli(lambda request: httpx.Response(200, json=_entry([])), "nsd", "show", "nsd-7")
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stdout


def test_nsd_show_lists_requires_and_catalogue_references() -> None:
    entry = _entry([])
    entry["body"] = json.loads(
        (Path(__file__).parent / "fixtures" / "openbaton" / "by-reference.json").read_text()
    )
    result = _cli(lambda request: httpx.Response(200, json=entry), "nsd", "show", "nsd-7")
    assert result.exit_code == 0, result.output
    assert "(catalogue VNFD 4c6a2f7e-db00-4d6e-9b1a-5f0e2a7c9d11)" in result.stdout
    row = next(line for line in result.stdout.splitlines() if line.startswith("database"))
    assert [c.strip() for c in row.split("│")] == ["database", "web", "private, DB_PORT"]


async def test_a_sol001_nsd_keeps_the_warnings_of_its_vnfds(http: httpx.AsyncClient) -> None:
    created = await http.post("/vnfpkgm/v1/vnf_packages", json={})
    uploaded = await http.put(
        f"/vnfpkgm/v1/vnf_packages/{created.json()['id']}/package_content",
        content=csar(definitions()),
        headers={"Content-Type": "application/zip"},
    )
    assert uploaded.status_code == 204, uploaded.text
    nsd = await http.post("/nsd/v1/ns_descriptors", json={})
    uploaded = await http.put(
        f"/nsd/v1/ns_descriptors/{nsd.json()['id']}/nsd_content",
        content=(PACKAGE.parent / "media-nsd.yaml").read_bytes(),
        headers={"Content-Type": "application/yaml"},
    )
    assert uploaded.status_code == 204, uploaded.text
    info = (await http.get(f"/nsd/v1/ns_descriptors/{nsd.json()['id']}")).json()
    paths = [w["path"] for w in info["nuboWarnings"]]
    assert "media_df_pair.yaml:topology_template.node_templates.RECORDINGS" in paths
