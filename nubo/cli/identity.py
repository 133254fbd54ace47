"""``nubo user``, ``nubo project``, ``nubo client``: users, projects, members, API clients.

Passwords are read from a file, from stdin or from a hidden prompt, never
from the command line (where ``ps`` and the shell history would show them).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from nubo.cli import render
from nubo.cli.client import CliConfig, echo_json, json_option, pass_config


def read_secret(file: Path | None, from_stdin: bool, prompt: str, confirm: bool = False) -> str:
    if file is not None:
        return file.read_text().strip()
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    value: str = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return value


def plain_table(*columns: str) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def print_view(data: Any, as_json: bool, table: Table | None = None) -> None:
    if as_json or table is None:
        echo_json(data)
    else:
        render.console().print(table)


# -- users -----------------------------------------------------------------------------


def _user_table(users: list[dict[str, Any]]) -> Table:
    table = plain_table("NAME", "ID", "ENABLED", "SYSTEM ADMIN", "ROLES")
    for u in users:
        roles = ", ".join(f"{r['project']}:{r['role']}" for r in u.get("roles", []))
        table.add_row(
            u["username"], u["id"], str(u["enabled"]), str(u["systemAdmin"]), roles or "-"
        )
    return table


def _role_pairs(roles: tuple[str, ...]) -> list[dict[str, str]]:
    pairs = []
    for text in roles:
        project, sep, role = text.rpartition(":")
        if not sep or not project:
            raise click.BadParameter(f"{text!r}: write PROJECT:ROLE", param_hint="--role")
        pairs.append({"project": project, "role": role.upper()})
    return pairs


@click.group()
def user() -> None:
    """Users (system administrators manage them)."""


@user.command("list")
@json_option
@pass_config
def user_list(config: CliConfig, as_json: bool) -> None:
    users = config.client().get("/users")
    print_view(users, as_json, _user_table(users))


@user.command("show")
@click.argument("name")
@json_option
@pass_config
def user_show(config: CliConfig, name: str, as_json: bool) -> None:
    found = config.client().get(f"/users/{name}")
    print_view(found, as_json, _user_table([found]))


@user.command("create")
@click.argument("name")
@click.option("--email", default="")
@click.option("--role", "roles", multiple=True, help="PROJECT:ROLE (GUEST, USER, ADMIN); repeat.")
@click.option("--system-admin", is_flag=True)
@click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--password-stdin", is_flag=True)
@json_option
@pass_config
def user_create(
    config: CliConfig,
    name: str,
    email: str,
    roles: tuple[str, ...],
    system_admin: bool,
    password_file: Path | None,
    password_stdin: bool,
    as_json: bool,
) -> None:
    password = read_secret(password_file, password_stdin, f"Password for {name}", confirm=True)
    body = {
        "username": name,
        "password": password,
        "email": email,
        "systemAdmin": system_admin,
        "roles": _role_pairs(roles),
    }
    created = config.client().post("/users", body).json()
    print_view(created, as_json, _user_table([created]))


@user.command("delete")
@click.argument("name")
@pass_config
def user_delete(config: CliConfig, name: str) -> None:
    config.client().delete(f"/users/{name}")
    click.echo(f"user {name} deleted")


@user.command("enable")
@click.argument("name")
@pass_config
def user_enable(config: CliConfig, name: str) -> None:
    config.client().request("PATCH", f"/users/{name}", body={"enabled": True})
    click.echo(f"user {name} enabled")


@user.command("disable")
@click.argument("name")
@pass_config
def user_disable(config: CliConfig, name: str) -> None:
    """Disable a user: its tokens end at once."""
    config.client().request("PATCH", f"/users/{name}", body={"enabled": False})
    click.echo(f"user {name} disabled")


@user.command("passwd")
@click.argument("name")
@click.option("--current-password-file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--password-file", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--password-stdin", is_flag=True, help="Read the new password from stdin.")
@click.option("--reset", is_flag=True, help="As a system administrator: without the current one.")
@pass_config
def user_passwd(
    config: CliConfig,
    name: str,
    current_password_file: Path | None,
    password_file: Path | None,
    password_stdin: bool,
    reset: bool,
) -> None:
    """Change a password; the user's tokens end (log in again)."""
    current = None if reset else read_secret(current_password_file, False, "Current password")
    new = read_secret(password_file, password_stdin, "New password", confirm=True)
    body = {"newPassword": new} | ({"currentPassword": current} if current is not None else {})
    config.client().request("PUT", f"/users/{name}/password", body=body)
    click.echo(f"password of {name} changed; log in again")


# -- projects --------------------------------------------------------------------------


def _project_table(projects: list[dict[str, Any]]) -> Table:
    table = plain_table("NAME", "ID", "DESCRIPTION")
    for p in projects:
        table.add_row(p["name"], p["id"], p.get("description") or "-")
    return table


@click.group()
def project() -> None:
    """Projects and their members."""


@project.command("list")
@json_option
@pass_config
def project_list(config: CliConfig, as_json: bool) -> None:
    projects = config.client().get("/projects")
    print_view(projects, as_json, _project_table(projects))


@project.command("create")
@click.argument("name")
@click.option("--description", default="")
@json_option
@pass_config
def project_create(config: CliConfig, name: str, description: str, as_json: bool) -> None:
    created = config.client().post("/projects", {"name": name, "description": description}).json()
    print_view(created, as_json, _project_table([created]))


@project.command("delete")
@click.argument("name")
@pass_config
def project_delete(config: CliConfig, name: str) -> None:
    config.client().delete(f"/projects/{name}")
    click.echo(f"project {name} deleted")


@project.command("members")
@click.argument("name")
@json_option
@pass_config
def project_members(config: CliConfig, name: str, as_json: bool) -> None:
    members = config.client().get(f"/projects/{name}/members")
    table = plain_table("USER", "ROLE")
    for m in members:
        table.add_row(m["username"], m["role"])
    print_view(members, as_json, table)


@project.command("add-member")
@click.argument("name")
@click.argument("username")
@click.argument("role", type=click.Choice(["GUEST", "USER", "ADMIN"], case_sensitive=False))
@pass_config
def project_add_member(config: CliConfig, name: str, username: str, role: str) -> None:
    """Give USERNAME the ROLE in project NAME (its tokens end)."""
    config.client().request(
        "PUT", f"/projects/{name}/members/{username}", body={"role": role.upper()}
    )
    click.echo(f"{username} is {role.upper()} of {name}")


@project.command("remove-member")
@click.argument("name")
@click.argument("username")
@pass_config
def project_remove_member(config: CliConfig, name: str, username: str) -> None:
    config.client().delete(f"/projects/{name}/members/{username}")
    click.echo(f"{username} is no member of {name}")


# -- API clients -----------------------------------------------------------------------


def _client_table(clients: list[dict[str, Any]]) -> Table:
    table = plain_table("CLIENT ID", "NAME", "ROLE", "SECRET")
    for c in clients:
        table.add_row(c["clientId"], c["name"], c["role"], c.get("clientSecret", "-"))
    return table


@click.group()
def client() -> None:
    """API clients of a project (OAuth 2.0 client credentials, SOL013)."""


@client.command("list")
@click.argument("project_name")
@json_option
@pass_config
def client_list(config: CliConfig, project_name: str, as_json: bool) -> None:
    clients = config.client().get(f"/projects/{project_name}/clients")
    print_view(clients, as_json, _client_table(clients))


@client.command("create")
@click.argument("project_name")
@click.argument("name")
@click.option("--role", type=click.Choice(["GUEST", "USER", "ADMIN"]), default="USER")
@json_option
@pass_config
def client_create(
    config: CliConfig, project_name: str, name: str, role: str, as_json: bool
) -> None:
    """A new client; its secret is shown this once."""
    body = {"name": name, "role": role}
    created = config.client().post(f"/projects/{project_name}/clients", body).json()
    print_view(created, as_json, _client_table([created]))


@client.command("rotate")
@click.argument("project_name")
@click.argument("client_id")
@json_option
@pass_config
def client_rotate(config: CliConfig, project_name: str, client_id: str, as_json: bool) -> None:
    """A new secret (shown this once); the client's tokens end."""
    rotated = config.client().post(f"/projects/{project_name}/clients/{client_id}/secret").json()
    print_view(rotated, as_json, _client_table([rotated]))


@client.command("delete")
@click.argument("project_name")
@click.argument("client_id")
@pass_config
def client_delete(config: CliConfig, project_name: str, client_id: str) -> None:
    config.client().delete(f"/projects/{project_name}/clients/{client_id}")
    click.echo(f"client {client_id} deleted")


COMMANDS = [user, project, client]
