"""End to end as a user: `nubo serve` as a process, the `nubo` CLI, the real Docker Engine.

Onboards the SIPp NSD of the thesis, instantiates it, checks the dependency
variable and real SIP calls (SIPp's own statistics), scales out and in,
terminates, and checks nothing labelled with the NS is left. Bad descriptors
are refused with the JSON path of the problem and create nothing.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nubo.vim.port import LABEL_MANAGED, LABEL_NS
from tests.auth import ADMIN_PASSWORD
from tests.conftest import remove_labelled
from tests.nubo_process import NUBO, NuboProcess
from tests.sip_checks import labelled, vnfc_container, wait_for_calls

pytestmark = pytest.mark.docker

ROOT = Path(__file__).resolve().parents[2]
NSD = ROOT / "examples" / "sipp" / "nsd.json"


@pytest.fixture
def server(tmp_path: Path, docker_client: Any) -> Iterator[str]:
    """A `nubo serve` process on a free loopback port; its services are removed after."""
    nubo = NuboProcess(tmp_path / "data").start()
    try:
        # as a user does: the CLI keeps the token (in the test's own config file)
        login = subprocess.run(
            [NUBO, "--url", nubo.url, "login", "--password-stdin"],
            input=ADMIN_PASSWORD + "\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert login.returncode == 0, login.stderr
        yield nubo.url
    finally:
        try:
            nsrs = nubo.api("GET", "/api/v1/ns-records").json()
        except (httpx.TransportError, json.JSONDecodeError):
            nsrs = []
        nubo.stop()
        for nsr in nsrs:
            remove_labelled(docker_client, f"{LABEL_NS}={nsr['id']}")


def cli(url: str, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [NUBO, "--url", url, *args], capture_output=True, text=True, timeout=180, check=False
    )
    if ok:
        assert result.returncode == 0, f"nubo {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
    return result


def vnfcs(nsr: dict[str, Any], vnf: str) -> list[dict[str, Any]]:
    vnfr = next(v for v in nsr["vnfr"] if v["name"] == vnf)
    return [c for c in vnfr["vdu"][0]["vnfc_instance"] if c["state"] != "DELETED"]


def test_sipp_service_through_the_cli(server: str, docker_client: Any) -> None:
    nsd_id = json.loads(cli(server, "nsd", "onboard", str(NSD), "--json").stdout)["id"]

    nsr = json.loads(cli(server, "ns", "instantiate", nsd_id, "--name", "e2e", "--json").stdout)
    assert nsr["status"] == "ACTIVE"
    server_vnfc = vnfcs(nsr, "sipp-server")[0]
    client_vnfc = vnfcs(nsr, "sipp-client")[0]
    server_ip = server_vnfc["addresses"]["private"]
    srv = vnfc_container(docker_client, server_vnfc["id"])
    ips = [n["IPAddress"] for n in srv.attrs["NetworkSettings"]["Networks"].values()]
    assert ips == [server_ip]
    client = vnfc_container(docker_client, client_vnfc["id"])
    assert f"SERVER_PRIVATE={server_ip}" in client.attrs["Config"]["Env"]
    ok, failed = wait_for_calls(client)
    assert ok >= 5 and failed == 0

    shown = cli(server, "ns", "show", nsr["id"]).stdout
    assert "sipp-client" in shown and "RUNNING" in shown and server_ip in shown

    op = json.loads(cli(server, "ns", "scale-out", nsr["id"], "sipp-client", "--json").stdout)
    assert op["state"] == "COMPLETED"
    nsr = json.loads(cli(server, "ns", "show", nsr["id"], "--json").stdout)
    clients = vnfcs(nsr, "sipp-client")
    assert len(clients) == 2
    second = vnfc_container(docker_client, clients[1]["id"])
    assert f"SERVER_PRIVATE={server_ip}" in second.attrs["Config"]["Env"]
    ok2, failed2 = wait_for_calls(second)
    assert ok2 >= 5 and failed2 == 0

    cli(server, "ns", "scale-in", nsr["id"], "sipp-client")
    containers, networks = labelled(docker_client, nsr["id"])
    assert len(containers) == 2 and len(networks) == 1

    ops = json.loads(cli(server, "ns", "ops", nsr["id"], "--json").stdout)
    assert [o["operation"] for o in ops] == ["SCALE_IN", "SCALE_OUT", "INSTANTIATE"]
    assert all(o["state"] == "COMPLETED" for o in ops)

    refused = cli(server, "nsd", "delete", nsd_id, ok=False)
    assert refused.returncode == 1 and nsr["id"] in refused.stderr

    cli(server, "ns", "terminate", nsr["id"])
    assert labelled(docker_client, nsr["id"]) == ([], [])
    cli(server, "nsd", "delete", nsd_id)


@pytest.mark.parametrize(
    ("mutate", "path", "reason"),
    [
        (
            lambda d: d["vnf_dependency"].append(
                {
                    "source": {"name": "sipp-client"},
                    "target": {"name": "sipp-server"},
                    "parameters": ["private"],
                }
            ),
            "$.vnf_dependency",
            "cycle",
        ),
        (
            lambda d: d["vnfd"][1]["vdu"][0]["vnfc"][0]["connection_point"][0].update(
                virtual_link_reference="public"
            ),
            "$.vnfd[1].vdu[0].vnfc[0].connection_point[0].virtual_link_reference",
            "public",
        ),
    ],
    ids=["dependency-cycle", "dangling-link"],
)
def test_bad_descriptor_is_refused_and_creates_nothing(
    server: str, docker_client: Any, tmp_path: Path, mutate: Any, path: str, reason: str
) -> None:
    doc = json.loads(NSD.read_text())
    mutate(doc)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    before = len(
        docker_client.containers.list(
            ignore_removed=True, all=True, filters={"label": LABEL_MANAGED}
        )
    )
    result = cli(server, "nsd", "onboard", str(bad), ok=False)
    assert result.returncode == 1
    assert path in result.stderr and reason in result.stderr
    assert json.loads(cli(server, "nsd", "list", "--json").stdout) == []
    after = len(
        docker_client.containers.list(
            ignore_removed=True, all=True, filters={"label": LABEL_MANAGED}
        )
    )
    assert after == before
