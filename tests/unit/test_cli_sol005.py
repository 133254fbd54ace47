"""The SOL005 CLI commands against a real `nubo serve` on the in-memory VIM.

``ns create``, ``ns instantiate --instance``, ``ns watch``, ``ns heal``,
``op retry|rollback|fail|cancel|list`` and ``ns delete``, as a user types them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from nubo.cli.client import CliConfig
from nubo.cli.main import main
from tests.nubo_process import NuboProcess

NSD = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuboProcess]:
    process = NuboProcess(tmp_path_factory.mktemp("nubo-cli") / "data", test_server=True)
    process.start(
        NUBO_DEFAULT_VIM_TYPE="fake",
        NUBO_FAULT_MANAGEMENT="false",
        NUBO_MONITORING="false",
    )
    try:
        yield process
    finally:
        process.stop()


def cli(server: NuboProcess, *args: str) -> Result:
    config = CliConfig(url=server.url, poll_interval=0.05)
    return CliRunner().invoke(
        main,
        ["--url", server.url, *args],
        obj=config,
        catch_exceptions=False,
        env={"NUBO_TOKEN": server.token},
    )


def cli_json(server: NuboProcess, *args: str) -> Any:
    result = cli(server, *args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_create_instantiate_watch_heal_terminate_delete(server: NuboProcess) -> None:
    nsd_id = cli_json(server, "nsd", "onboard", str(NSD))["id"]
    created = cli(server, "ns", "create", nsd_id, "--name", "from-cli")
    assert created.exit_code == 0, created.output
    assert "NOT_INSTANTIATED" in created.output
    ns_id = created.output.split()[2]

    done = cli_json(server, "ns", "instantiate", "--instance", ns_id)
    assert done["state"] == "COMPLETED" and done["nsr_id"] == ns_id
    assert cli_json(server, "ns", "show", ns_id)["status"] == "ACTIVE"
    watched = cli(server, "ns", "watch", ns_id)
    assert watched.exit_code == 0, watched.output
    assert "INSTANTIATE" in watched.output and "COMPLETED" in watched.output

    healed = cli_json(server, "ns", "heal", ns_id, "sipp-server", "--vnfc", "sipp-server-0")
    assert (healed["operation"], healed["state"]) == ("HEAL", "COMPLETED")
    ops = cli_json(server, "op", "list", "--ns", ns_id)
    assert [op["operation"] for op in ops] == ["HEAL", "INSTANTIATE"]

    refused = cli(server, "ns", "delete", ns_id)
    assert refused.exit_code != 0 and "terminate it before deleting it" in refused.output
    assert cli(server, "ns", "terminate", ns_id).exit_code == 0
    deleted = cli(server, "ns", "delete", ns_id)
    assert deleted.exit_code == 0, deleted.output
    assert cli(server, "ns", "show", ns_id).exit_code != 0


def test_task_commands_refuse_an_operation_that_does_not_wait(server: NuboProcess) -> None:
    nsd_id = cli_json(server, "nsd", "onboard", str(NSD))["id"]
    nsr = cli_json(server, "ns", "instantiate", nsd_id)
    op_id = cli_json(server, "op", "list", "--ns", nsr["id"])[0]["id"]
    for task in ("retry", "rollback", "fail", "cancel"):
        result = cli(server, "op", task, op_id)
        assert result.exit_code != 0
        assert "COMPLETED" in result.output, result.output
    assert cli(server, "ns", "instantiate").exit_code != 0  # neither NSD nor --instance
    no_ops = cli(
        server, "ns", "watch", cli_json(server, "ns", "create", nsd_id, "--name", "x")["id"]
    )
    assert no_ops.exit_code != 0 and "no operations yet" in no_ops.output
