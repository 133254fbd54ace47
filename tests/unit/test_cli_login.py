"""``nubo login``, ``whoami``, ``logout`` and the identity commands against a real server."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from nubo.cli.client import CliConfig
from nubo.cli.credentials import config_path
from nubo.cli.main import main
from tests.auth import ADMIN_PASSWORD
from tests.nubo_process import NuboProcess


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuboProcess]:
    process = NuboProcess(tmp_path_factory.mktemp("nubo-login") / "data", test_server=True)
    # access tokens shorter than the CLI's margin: every command refreshes its token first
    process.start(NUBO_DEFAULT_VIM_TYPE="fake", NUBO_FAULT_MANAGEMENT="false", NUBO_TOKEN_TTL="20")
    try:
        yield process
    finally:
        process.stop()


def cli(server: NuboProcess, *args: str, stdin: str | None = None) -> Result:
    config = CliConfig(url=server.url, poll_interval=0.05)
    return CliRunner().invoke(main, ["--url", server.url, *args], obj=config, input=stdin)


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def test_login_keeps_a_private_token_that_every_command_sends(server: NuboProcess) -> None:
    refused = cli(server, "vim", "list")
    assert refused.exit_code == 1 and "nubo --url" in refused.output and "login" in refused.output
    ok(cli(server, "login", "--password-stdin", stdin=ADMIN_PASSWORD + "\n"))
    path = config_path()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = json.loads(path.read_text())["servers"][server.url]["access_token"]
    assert "admin: ADMIN" in ok(cli(server, "whoami")).output
    assert "local-docker" in ok(cli(server, "vim", "list")).output
    # the token expires within the CLI's margin: it was refreshed, and saved
    assert json.loads(path.read_text())["servers"][server.url]["access_token"] != first
    ok(cli(server, "logout"))
    assert server.url not in json.loads(path.read_text())["servers"]
    assert cli(server, "whoami").exit_code == 1


def test_a_wrong_password_is_refused(server: NuboProcess) -> None:
    refused = cli(server, "login", "--password-stdin", stdin="wrong\n")
    assert refused.exit_code == 1 and "wrong user name or password" in refused.output


def test_users_projects_members_and_clients(server: NuboProcess, tmp_path: Path) -> None:
    ok(cli(server, "login", "--password-stdin", stdin=ADMIN_PASSWORD + "\n"))
    ok(cli(server, "project", "create", "team", "--description", "a team"))
    password = tmp_path / "password"
    password.write_text("dave-password\n")
    ok(
        cli(
            server,
            "user",
            "create",
            "dave",
            "--role",
            "team:USER",
            "--password-file",
            str(password),
        )
    )
    assert "team:USER" in ok(cli(server, "user", "list")).output
    ok(cli(server, "project", "add-member", "team", "dave", "admin"))
    assert "ADMIN" in ok(cli(server, "project", "members", "team")).output
    created = json.loads(ok(cli(server, "client", "create", "team", "oss", "--json")).output)
    assert created["clientSecret"]
    listed = ok(cli(server, "client", "list", "team")).output
    assert created["clientId"] in listed and created["clientSecret"] not in listed

    ok(cli(server, "logout"))
    ok(cli(server, "login", "-u", "dave", "--password-file", str(password)))
    assert "dave: ADMIN" in ok(cli(server, "whoami")).output
    assert cli(server, "user", "list").exit_code == 1  # not a system administrator
    ok(cli(server, "logout"))

    secret = tmp_path / "secret"
    secret.write_text(created["clientSecret"])
    ok(
        cli(
            server, "login", "--client-id", created["clientId"], "--client-secret-file", str(secret)
        )
    )
    assert "oss: USER" in ok(cli(server, "whoami")).output
    ok(cli(server, "logout"))


def test_audit_shows_who_changed_what(server: NuboProcess) -> None:
    refused = cli(server, "login", "--password-stdin", stdin="not-it\n")
    assert refused.exit_code == 1
    ok(cli(server, "login", "--password-stdin", stdin=ADMIN_PASSWORD + "\n"))
    ok(cli(server, "project", "create", "audited"))
    mine = ok(cli(server, "audit")).output
    assert "POST /api/v1/projects" in mine and "admin" in mine
    every = ok(cli(server, "--all-projects", "audit", "--outcome", "refused")).output
    assert "POST /oauth/token" in every and "(anonymous)" in every
    assert "not-it" not in every and ADMIN_PASSWORD not in every
    events = json.loads(ok(cli(server, "--all-projects", "audit", "--json")).output)
    assert {e["route"] for e in events} >= {"/oauth/token", "/api/v1/projects"}
    ok(cli(server, "logout"))
