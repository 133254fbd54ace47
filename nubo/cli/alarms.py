"""``nubo alarm``: list, show and acknowledge alarms (the SOL005 NFV-FM routes).

The alarm routes live under ``/nsfm/v1``, not the Open Baton ``/api/v1`` the
other commands use, so requests go through a client with that prefix; errors
render the same way (problem details, exit codes).
"""

from __future__ import annotations

from typing import Any

import click
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from nubo.cli import render
from nubo.cli.client import (
    CliConfig,
    echo_json,
    json_option,
    pass_config,
)

FM_API = "/nsfm/v1"

_SEVERITY_STYLES = {
    "CRITICAL": "bold red",
    "MAJOR": "red",
    "MINOR": "yellow",
    "WARNING": "yellow",
    "CLEARED": "green",
}


_s = render.cell


def _when(value: Any) -> str:
    text = _s(value)
    return text.replace("T", " ")[:19] if len(text) >= 19 else text


def severity(value: Any) -> Text:
    text = _s(value)
    return Text(text, style=_SEVERITY_STYLES.get(text, ""))


def alarm_table(alarms: list[dict[str, Any]]) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for column in ("ID", "SEVERITY", "CAUSE", "NS", "OBJECT", "RAISED", "CLEARED", "ACK"):
        table.add_column(column, overflow="fold")
    for alarm in alarms:
        table.add_row(
            _s(alarm.get("id")),
            severity(alarm.get("perceivedSeverity")),
            _s(alarm.get("probableCause")),
            _s(alarm.get("nsInstanceId")),
            _s(alarm.get("managedObjectId")),
            _when(alarm.get("alarmRaisedTime")),
            _when(alarm.get("alarmClearedTime")),
            "yes" if alarm.get("ackState") == "ACKNOWLEDGED" else "no",
        )
    return table


def alarm_detail(alarm: dict[str, Any]) -> RenderableType:
    header = Text.assemble(
        (f"{_s(alarm.get('probableCause'))} ", "bold"),
        severity(alarm.get("perceivedSeverity")),
        f"  id={_s(alarm.get('id'))} {_s(alarm.get('ackState'))}",
    )
    fields = Table(show_edge=False, pad_edge=False, show_header=False)
    fields.add_column("FIELD")
    fields.add_column("VALUE", overflow="fold")
    for key in (
        "managedObjectId",
        "nsInstanceId",
        "vnfInstanceId",
        "vnfcInstanceId",
        "vimId",
        "eventType",
        "alarmRaisedTime",
        "alarmChangedTime",
        "alarmClearedTime",
    ):
        value = alarm.get(key)
        fields.add_row(key, _when(value) if key.endswith("Time") else _s(value))
    details = [Text(f"  {line}") for line in alarm.get("faultDetails") or []]
    return Group(header, fields, Text("fault details:"), *details)


@click.group()
def alarm() -> None:
    """Alarms of VNFCs and VIMs: list, show, acknowledge."""


@alarm.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include cleared alarms.")
@click.option("--ns", "nsr_id", default=None, metavar="NSR", help="Only alarms of this NS.")
@json_option
@pass_config
def alarm_list(config: CliConfig, show_all: bool, nsr_id: str | None, as_json: bool) -> None:
    """List alarms, active ones unless --all; newest first."""
    params: dict[str, str] = {} if show_all else {"active": "true"}
    if nsr_id:
        params["nsInstanceId"] = nsr_id
    with config.api(FM_API) as client:
        alarms = client.get("/alarms", params=params)
    if as_json:
        echo_json(alarms)
    else:
        render.console().print(alarm_table(alarms))


@alarm.command("show")
@click.argument("alarm_id")
@json_option
@pass_config
def alarm_show(config: CliConfig, alarm_id: str, as_json: bool) -> None:
    """Show one alarm with its fault details."""
    with config.api(FM_API) as client:
        document = client.get(f"/alarms/{alarm_id}")
    if as_json:
        echo_json(document)
    else:
        render.console().print(alarm_detail(document))


@alarm.command("ack")
@click.argument("alarm_id")
@pass_config
def alarm_ack(config: CliConfig, alarm_id: str) -> None:
    """Acknowledge an alarm (it stays active until its fault is gone)."""
    with config.api(FM_API) as client:
        client.request("PATCH", f"/alarms/{alarm_id}", body={"ackState": "ACKNOWLEDGED"})
    click.echo(f"acknowledged alarm {alarm_id}")
