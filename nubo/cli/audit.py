"""``nubo audit``: the mutating calls made to the API, newest first (administrators).

A project administrator sees its project's calls; a system administrator adds
``--all-projects`` to see every project's, and the calls made without a
valid token (refused requests, failed logins).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from nubo.cli import render
from nubo.cli.client import CliConfig, echo_json, json_option, pass_config

_OUTCOME_STYLES = {"succeeded": "green", "refused": "yellow", "failed": "bold red"}


def audit_table(events: list[dict[str, Any]]) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for column in ("TIME", "ACTOR", "PROJECT", "CALL", "STATUS", "RESOURCE", "FROM"):
        table.add_column(column, overflow="fold")
    for event in events:
        moment = datetime.fromtimestamp(float(event["time"]), UTC)
        outcome = str(event.get("outcome", ""))
        actor = event.get("actor") or "-"
        if event.get("actorKind") != "user":
            actor = f"{actor} ({event.get('actorKind')})"
        table.add_row(
            moment.strftime("%Y-%m-%d %H:%M:%S"),
            actor,
            render.cell(event.get("projectId")),
            f"{event['method']} {event['path']}",
            Text(str(event["status"]), style=_OUTCOME_STYLES.get(outcome, "")),
            render.cell(event.get("resource")),
            render.cell(event.get("address")),
        )
    return table


@click.command("audit")
@click.option(
    "--since", default="1d", show_default=True, help="A duration back (30m, 1d) or a time."
)
@click.option("--until", default=None, help="A duration back or a time (default: now).")
@click.option("--actor", default=None, help="Calls of this user or API client only.")
@click.option(
    "--method", type=click.Choice(["POST", "PUT", "PATCH", "DELETE"], case_sensitive=False)
)
@click.option(
    "--outcome", type=click.Choice(["succeeded", "refused", "failed"], case_sensitive=False)
)
@click.option("--path", "path_prefix", default=None, help="Paths starting with this.")
@click.option("--limit", type=click.IntRange(1, 1000), default=100, show_default=True)
@json_option
@pass_config
def audit(
    config: CliConfig,
    since: str,
    until: str | None,
    actor: str | None,
    method: str | None,
    outcome: str | None,
    path_prefix: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Who changed what, and with which result (project and system administrators)."""
    wanted = {
        "since": since,
        "until": until,
        "actor": actor,
        "method": method.upper() if method else None,
        "outcome": outcome.lower() if outcome else None,
        "path": path_prefix,
        "limit": str(limit),
    }
    params = {key: value for key, value in wanted.items() if value}
    events = config.client().get("/audit", params=params)
    if as_json:
        echo_json(events)
    elif not events:
        click.echo("no audited calls match")
    else:
        render.console().print(audit_table(events))
