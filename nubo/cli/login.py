"""``nubo login``, ``logout``, ``whoami``, ``nubo signing-key``: the CLI's session.

``login`` keeps the tokens in the user's config file (``nubo.cli.credentials``);
every later command sends them and refreshes them when they expire.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import click

from nubo.cli.client import CliConfig, echo_json, json_option, pass_config
from nubo.cli.identity import plain_table, print_view, read_secret

_FORM = "application/x-www-form-urlencoded"


def _token_request(config: CliConfig, form: dict[str, str]) -> dict[str, Any]:
    response = config.root().request(
        "POST", "/oauth/token", content=urlencode(form).encode(), content_type=_FORM
    )
    answer: dict[str, Any] = response.json()
    return answer


# -- login, logout, whoami -------------------------------------------------------------


@click.command()
@click.option("-u", "--username", default="admin", show_default=True)
@click.option("-p", "--project", default=None, help="Project to act in (name or id).")
@click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--password-stdin", is_flag=True, help="Read the password from stdin.")
@click.option("--client-id", default=None, help="Log in as an API client instead of a user.")
@click.option("--client-secret-file", type=click.Path(dir_okay=False, path_type=Path))
@pass_config
def login(
    config: CliConfig,
    username: str,
    project: str | None,
    password_file: Path | None,
    password_stdin: bool,
    client_id: str | None,
    client_secret_file: Path | None,
) -> None:
    """Get a token and keep it (mode 0600) for every later command."""
    if client_id:
        secret = read_secret(client_secret_file, password_stdin, "Client secret")
        form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
        who = f"client {client_id}"
    else:
        password = read_secret(password_file, password_stdin, f"Password for {username}")
        form = {"grant_type": "password", "username": username, "password": password}
        if project:
            form["project"] = project
        who = username
    answer = _token_request(config, form)
    saved = config.tokens().credentials.save(answer, username=who)
    click.echo(
        f"logged in to {config.url} as {who}: {saved['role']} of project {saved['project_id']}"
        f" (token kept in {config.tokens().credentials.path})"
    )


@click.command()
@pass_config
def logout(config: CliConfig) -> None:
    """Revoke the kept tokens and forget them."""
    credentials = config.tokens().credentials
    session = credentials.session()
    if session is None:
        click.echo(f"not logged in to {config.url}")
        return
    form = {"token": session["refresh_token"]} if session.get("refresh_token") else {}
    try:
        config.root().request(
            "POST", "/oauth/revoke", content=urlencode(form).encode(), content_type=_FORM
        )
    finally:
        credentials.forget()
    click.echo(f"logged out of {config.url}")


@click.command()
@json_option
@pass_config
def whoami(config: CliConfig, as_json: bool) -> None:
    """Who the kept token names: user or client, project, role."""
    me = config.client().get("/whoami")
    if as_json:
        echo_json(me)
        return
    admin = " (system administrator)" if me.get("systemAdmin") else ""
    click.echo(f"{me['name']}: {me['role']} of project {me['projectId']}{admin}")


# -- signing keys ----------------------------------------------------------------------


@click.group("signing-key")
def signing_key() -> None:
    """The keys tokens are signed with (system administrators)."""


@signing_key.command("list")
@json_option
@pass_config
def key_list(config: CliConfig, as_json: bool) -> None:
    keys = config.client().get("/signing-keys")
    table = plain_table("ID", "CREATED", "RETIRED")
    for k in keys:
        table.add_row(k["id"], k["createdAt"], k.get("retiredAt") or "-")
    print_view(keys, as_json, table)


@signing_key.command("rotate")
@click.option("--drop-old", is_flag=True, help="Also refuse every token signed so far.")
@pass_config
def key_rotate(config: CliConfig, drop_old: bool) -> None:
    key = config.client().post("/signing-keys", {"dropOld": drop_old}).json()
    click.echo(f"signing key {key['id']} signs from now on")


COMMANDS = [login, logout, whoami, signing_key]
