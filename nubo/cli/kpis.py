"""``nubo kpi``: define, list, delete KPIs and list their events; ``nubo history``: lifecycle.

``nubo history NSR`` prints the NS's lifecycle operations of a window and,
with ``--metric``, the metric's aggregate just before and after each one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
from rich.console import RenderableType
from rich.table import Table

from nubo.cli import render
from nubo.cli.client import CliConfig, echo_json, json_option, pass_config
from nubo.cli.metrics import AGGREGATES

OPERATORS = (">", ">=", "<", "<=", "==", "!=")


_s = render.cell


def _value(value: Any) -> str:
    if value is None:
        return "-"
    number = float(value)
    return f"{number:.0f}" if abs(number) >= 1000 else f"{number:.2f}"


def _time(value: Any) -> str:
    if value is None:
        return "-"
    return datetime.fromtimestamp(float(value)).strftime("%Y-%m-%d %H:%M:%S")


def _table(*columns: str) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


def _condition(kpi: dict[str, Any]) -> str:
    text = (
        f"{kpi.get('aggregate', 'avg')}({kpi.get('metric')}, {_value(kpi.get('window'))}s) "
        f"{kpi.get('comparison_operator')} {_value(kpi.get('threshold'))}"
    )
    if kpi.get("clear_threshold") is not None:
        text += f" (clears past {_value(kpi['clear_threshold'])})"
    return text


def kpi_table(kpis: list[dict[str, Any]]) -> Table:
    table = _table("ID", "NAME", "VNF", "CONDITION", "STATE", "VALUE", "SINCE")
    for kpi in kpis:
        table.add_row(
            _s(kpi.get("id")),
            _s(kpi.get("name")),
            _s(kpi.get("vnf")),
            _condition(kpi),
            render.state(kpi.get("state")),
            _value(kpi.get("value")),
            _time(kpi.get("state_since")),
        )
    return table


def events_table(events: list[dict[str, Any]]) -> Table:
    table = _table("TIME", "KPI", "FROM", "TO", "VALUE", "THRESHOLD")
    for event in events:
        table.add_row(
            _time(event.get("time")),
            _s(event.get("kpi_name")),
            _s(event.get("previous_state")),
            render.state(event.get("state")),
            _value(event.get("value")),
            f"{_s(event.get('comparison_operator'))} {_value(event.get('threshold'))}",
        )
    return table


def history_table(answer: dict[str, Any]) -> Table:
    columns = ["START", "END", "OPERATION", "STATE", "VNF", "VNFC", "STEPS", "ERROR"]
    metric = answer.get("metric")
    if metric:
        columns += [f"{metric} BEFORE", f"{metric} AFTER"]
    table = _table(*columns)
    for event in answer.get("events", []):
        row: list[RenderableType] = [
            _time(event.get("time")),
            _time(event.get("end_time")),
            _s(event.get("operation")),
            render.state(event.get("state")),
            _s(event.get("vnfr_id")),
            _s(event.get("vnfc_id")),
            str(event.get("steps", 0)),
            _s(event.get("error_code")),
        ]
        if metric:
            row += [_value(event.get("metric_before")), _value(event.get("metric_after"))]
        table.add_row(*row)
    return table


def _kpis_path(nsr_id: str) -> str:
    return f"/ns-records/{nsr_id}/kpis"


@click.group()
def kpi() -> None:
    """KPIs of a network service: thresholds on a metric whose crossings are events."""


@kpi.command("create")
@click.argument("nsr_id")
@click.option("--name", required=True, help="KPI name, unique in the NS.")
@click.option("--metric", default="cpu.percent", show_default=True, help="Metric or alias.")
@click.option("--aggregate", type=click.Choice(AGGREGATES), default="avg", show_default=True)
@click.option("--window", type=float, default=60.0, show_default=True, help="Seconds.")
@click.option("--op", "comparison", type=click.Choice(OPERATORS), default=">=", show_default=True)
@click.option("--threshold", type=float, required=True)
@click.option("--clear", "clear_threshold", type=float, default=None, help="Hysteresis.")
@click.option("--vnf", default=None, metavar="NAME", help="Only the VNFCs of this VNF.")
@json_option
@pass_config
def kpi_create(
    config: CliConfig,
    nsr_id: str,
    name: str,
    metric: str,
    aggregate: str,
    window: float,
    comparison: str,
    threshold: float,
    clear_threshold: float | None,
    vnf: str | None,
    as_json: bool,
) -> None:
    """Define a KPI of NS NSR_ID."""
    body: dict[str, Any] = {
        "name": name,
        "metric": metric,
        "aggregate": aggregate,
        "window": window,
        "comparison_operator": comparison,
        "threshold": threshold,
    }
    if clear_threshold is not None:
        body["clear_threshold"] = clear_threshold
    if vnf:
        body["vnf"] = vnf
    created = config.client().post(_kpis_path(nsr_id), body).json()
    if as_json:
        echo_json(created)
    else:
        render.console().print(kpi_table([created]))


@kpi.command("list")
@click.argument("nsr_id")
@json_option
@pass_config
def kpi_list(config: CliConfig, nsr_id: str, as_json: bool) -> None:
    """KPIs of NS NSR_ID with their current state."""
    kpis = config.client().get(_kpis_path(nsr_id))
    if as_json:
        echo_json(kpis)
    else:
        render.console().print(kpi_table(kpis))


@kpi.command("delete")
@click.argument("nsr_id")
@click.argument("kpi_id")
@pass_config
def kpi_delete(config: CliConfig, nsr_id: str, kpi_id: str) -> None:
    """Delete a KPI and its events."""
    config.client().delete(f"{_kpis_path(nsr_id)}/{kpi_id}")
    click.echo(f"KPI {kpi_id} deleted")


@kpi.command("events")
@click.argument("nsr_id")
@click.argument("kpi_id")
@click.option("--since", default=None, help="A duration back (1h) or a time.")
@json_option
@pass_config
def kpi_events(
    config: CliConfig, nsr_id: str, kpi_id: str, since: str | None, as_json: bool
) -> None:
    """State changes of a KPI, newest first."""
    params = {"since": since} if since else None
    events = config.client().get(f"{_kpis_path(nsr_id)}/{kpi_id}/events", params=params)
    if as_json:
        echo_json(events)
    else:
        render.console().print(events_table(events))


@click.command()
@click.argument("nsr_id")
@click.option("--since", default=None, help="A duration back (1h) or a time [default: NS start].")
@click.option("--until", default=None, help="A duration back or a time [default: now].")
@click.option("--metric", default=None, help="Also show this metric before/after each event.")
@click.option("--aggregate", type=click.Choice(AGGREGATES), default="avg", show_default=True)
@json_option
@pass_config
def history(
    config: CliConfig,
    nsr_id: str,
    since: str | None,
    until: str | None,
    metric: str | None,
    aggregate: str,
    as_json: bool,
) -> None:
    """Configuration history of NS NSR_ID: its lifecycle operations of a window."""
    params = {"since": since, "until": until, "metric": metric}
    chosen = {k: v for k, v in params.items() if v}
    if metric:
        chosen["aggregate"] = aggregate
    answer = config.client().get(f"/ns-records/{nsr_id}/history", params=chosen)
    if as_json:
        echo_json(answer)
    else:
        render.console().print(history_table(answer))
