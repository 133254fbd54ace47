"""``nubo autoscale decisions``: what the auto-scaler decided for an NS, and why."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
from rich.table import Table
from rich.text import Text

from nubo.cli import render
from nubo.cli.client import CliConfig, echo_json, json_option, pass_config

_OUTCOME_STYLES = {
    "SCALED_OUT": "bold green",
    "SCALED_IN": "bold cyan",
    "FAILED": "bold red",
    "BUSY": "yellow",
    "COOLDOWN": "yellow",
    "AT_BOUND": "magenta",
    "HOLDING": "blue",
    "NO_SAMPLES": "dim",
    "NOT_HOLDING": "dim",
}


def _number(value: Any) -> str:
    return "-" if value is None else f"{float(value):g}"


def _when(value: Any) -> str:
    try:
        return datetime.fromtimestamp(float(value)).strftime("%Y-%m-%d %H:%M:%S")
    except (TypeError, ValueError, OverflowError, OSError):
        return "-"


def alarm_values(decision: dict[str, Any]) -> str:
    """``avg(cpu.idle)=35 <= 40 yes`` per alarm, one line each."""
    lines = []
    for alarm in decision.get("alarms") or []:
        metric = alarm.get("resolved_metric") or alarm.get("metric")
        weight = alarm.get("weight")
        tag = "yes" if alarm.get("holds") else "no"
        lines.append(
            f"{alarm.get('statistic')}({metric})={_number(alarm.get('value'))} "
            f"{alarm.get('comparison_operator')} {_number(alarm.get('threshold'))} {tag}"
            + (f" w={_number(weight)}" if weight not in (None, 1, 1.0) else "")
        )
    return "\n".join(lines) or "-"


def decision_table(decisions: list[dict[str, Any]]) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for column in ("TIME", "VNF", "POLICY", "OUTCOME", "SHARE/THR", "VALUES", "VNFCS", "ACTION"):
        table.add_column(column, overflow="fold")
    table.add_column("REASON", overflow="fold", max_width=48)
    for d in decisions:
        outcome = str(d.get("outcome") or "-")
        share = f"{_number(d.get('share'))}% {d.get('comparison_operator')} "
        share += f"{_number(d.get('threshold'))}%"
        count = f"{d.get('vnfc_count')} [{d.get('min_count')}..{d.get('max_count')}]"
        action = str(d.get("action") or "-")
        if d.get("op_id"):
            action += f"\nop {d['op_id']}"
        table.add_row(
            _when(d.get("time")),
            str(d.get("vnf_name") or d.get("vnfr_id") or "-"),
            str(d.get("policy") or "-"),
            Text(outcome, style=_OUTCOME_STYLES.get(outcome, "")),
            share,
            alarm_values(d),
            count,
            action,
            str(d.get("reason") or ""),
        )
    return table


@click.group()
def autoscale() -> None:
    """Auto-scaling: the decisions taken by the descriptors' policies."""


@autoscale.command("decisions")
@click.argument("nsr_id")
@click.option("--vnf", default=None, metavar="NAME", help="Only this VNF (name or VNFR id).")
@click.option("--limit", type=click.IntRange(1, 1000), default=50, show_default=True)
@json_option
@pass_config
def decisions(config: CliConfig, nsr_id: str, vnf: str | None, limit: int, as_json: bool) -> None:
    """List the scaling decisions of an NS, newest first."""
    params = {"limit": str(limit)}
    if vnf:
        params["vnf"] = vnf
    found = config.client().get(f"/ns-records/{nsr_id}/scaling-decisions", params=params)
    if as_json:
        echo_json(found)
    elif not found:
        click.echo(f"no scaling decisions for NS {nsr_id}")
    else:
        render.console().print(decision_table(found))
