"""``nubo metrics NSR_ID``: per-VNFC metric summary, or the samples, of a network service."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click
from rich.table import Table

from nubo.cli import render
from nubo.cli.client import CliConfig, echo_json, json_option, pass_config

AGGREGATES = ("avg", "min", "max", "sum", "count", "last", "p50", "p90", "p95", "p99")


def _value(value: Any) -> str:
    if value is None:
        return "-"
    number = float(value)
    return f"{number:.0f}" if abs(number) >= 1000 else f"{number:.2f}"


def summary_table(answer: dict[str, Any]) -> Table:
    aggregate = str(answer.get("aggregate", "avg")).upper()
    table = Table(show_edge=False, pad_edge=False)
    for column in ("VNF", "VNFC", aggregate, "LAST", "SAMPLES"):
        table.add_column(column, overflow="fold")
    for row in answer.get("vnfcs", []):
        table.add_row(
            row.get("vnf_name") or row.get("vnfr_id", "-"),
            row.get("hostname") or row.get("vnfc_id", "-"),
            _value(row.get("value")),
            _value(row.get("last")),
            str(row.get("count", 0)),
        )
    return table


def samples_table(answer: dict[str, Any]) -> Table:
    names = answer.get("vnfcs", {})
    table = Table(show_edge=False, pad_edge=False)
    for column in ("TIME", "VNF", "VNFC", "VALUE"):
        table.add_column(column, overflow="fold")
    for sample in answer.get("samples", []):
        who = names.get(sample["vnfc_id"], {})
        table.add_row(
            datetime.fromtimestamp(sample["time"]).strftime("%H:%M:%S"),
            who.get("vnf_name", sample["vnfr_id"]),
            who.get("hostname", sample["vnfc_id"]),
            _value(sample["value"]),
        )
    return table


@click.command()
@click.argument("nsr_id")
@click.option("--vnf", default=None, metavar="NAME", help="Only the VNFCs of this VNF.")
@click.option("--metric", default="cpu.percent", show_default=True, help="Metric name.")
@click.option(
    "--since", default="5m", show_default=True, help="Window start: a duration back or a time."
)
@click.option(
    "--aggregate",
    type=click.Choice(AGGREGATES),
    default="avg",
    show_default=True,
    help="Statistic per VNFC.",
)
@click.option("--series", is_flag=True, help="Print every sample instead of the summary.")
@json_option
@pass_config
def metrics(
    config: CliConfig,
    nsr_id: str,
    vnf: str | None,
    metric: str,
    since: str,
    aggregate: str,
    series: bool,
    as_json: bool,
) -> None:
    """Metrics of the VNFCs of NS NSR_ID over a window (default: the last 5 minutes)."""
    params = {"metric": metric, "ns": nsr_id, "since": since}
    if vnf:
        params["vnf"] = vnf
    if not series:
        params.update(aggregate=aggregate, group="vnfc")
    answer = config.client().get("/metrics", params=params)
    if as_json:
        echo_json(answer)
    elif series:
        render.console().print(samples_table(answer))
    else:
        render.console().print(summary_table(answer))
