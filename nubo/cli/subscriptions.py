"""``nubo subscription``: subscribe callback URIs to notifications (SOL005 ``/nslcm/v1``).

The values of ``--type``, ``--operation`` and ``--state`` are checked by the
orchestrator, whose answer names the allowed ones, so this thin client keeps
no copy of those lists. The server tests the callback before it stores the
subscription: the callback must answer a GET with 204 No Content.
"""

from __future__ import annotations

from typing import Any

import click
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from nubo.cli import render
from nubo.cli.client import CliConfig, echo_json, json_option, pass_config

NSLCM_API = "/nslcm/v1"


def _s(value: Any) -> str:
    return render.cell(None if value == [] else value)


def _list(values: Any) -> str:
    return ", ".join(str(v) for v in values) if isinstance(values, list) and values else "any"


def _ns_ids(subscription: dict[str, Any]) -> Any:
    ns_filter = subscription.get("filter", {}).get("nsInstanceSubscriptionFilter") or {}
    return ns_filter.get("nsInstanceIds")


def subscription_table(subscriptions: list[dict[str, Any]]) -> Table:
    table = Table(show_edge=False, pad_edge=False)
    for column in ("ID", "CALLBACK", "TYPES", "NS", "DELIVERED", "FAILED", "DROPPED"):
        table.add_column(column, overflow="fold")
    for sub in subscriptions:
        delivery = sub.get("nuboDelivery") or {}
        table.add_row(
            _s(sub.get("id")),
            _s(sub.get("callbackUri")),
            _list(sub.get("filter", {}).get("notificationTypes")),
            _list(_ns_ids(sub)),
            _s(delivery.get("delivered")),
            _s(delivery.get("failedAttempts")),
            _s(delivery.get("dropped")),
        )
    return table


def subscription_detail(sub: dict[str, Any]) -> RenderableType:
    header = Text.assemble((f"subscription {_s(sub.get('id'))}", "bold"))
    fields = Table(show_edge=False, pad_edge=False, show_header=False)
    fields.add_column("FIELD")
    fields.add_column("VALUE", overflow="fold")
    flt = sub.get("filter") or {}
    delivery = sub.get("nuboDelivery") or {}
    rows = [
        ("callbackUri", _s(sub.get("callbackUri"))),
        ("createdAt", _s(sub.get("createdAt"))),
        ("nsInstanceIds", _list(_ns_ids(sub))),
        ("notificationTypes", _list(flt.get("notificationTypes"))),
        ("operationTypes", _list(flt.get("operationTypes"))),
        ("operationStates", _list(flt.get("operationStates"))),
    ]
    rows += [(f"delivery.{key}", _s(value)) for key, value in delivery.items()]
    for key, value in rows:
        fields.add_row(key, value)
    return Group(header, fields)


@click.group()
def subscription() -> None:
    """Subscriptions: notifications POSTed to your callback URL."""


@subscription.command("create")
@click.option("--callback", required=True, metavar="URL", help="Absolute http(s) URL.")
@click.option("--ns", "ns_ids", multiple=True, metavar="NS_ID", help="Only these NS instances.")
@click.option(
    "--type",
    "types",
    multiple=True,
    metavar="TYPE",
    help="Only these notification types (e.g. NsLcmOperationOccurrenceNotification, "
    "AlarmNotification, ThresholdCrossedNotification).",
)
@click.option(
    "--operation",
    "operations",
    multiple=True,
    metavar="OP",
    help="Only these LCM operations (INSTANTIATE, SCALE, UPDATE, HEAL, TERMINATE); "
    "applies to operation occurrence notifications.",
)
@click.option(
    "--state",
    "states",
    multiple=True,
    metavar="STATE",
    help="Only these operation states (PROCESSING, COMPLETED, FAILED_TEMP, ...).",
)
@json_option
@pass_config
def subscription_create(
    config: CliConfig,
    callback: str,
    ns_ids: tuple[str, ...],
    types: tuple[str, ...],
    operations: tuple[str, ...],
    states: tuple[str, ...],
    as_json: bool,
) -> None:
    """Subscribe CALLBACK to the notifications the options let through (all by default)."""
    flt: dict[str, Any] = {}
    if ns_ids:
        flt["nsInstanceSubscriptionFilter"] = {"nsInstanceIds": list(ns_ids)}
    if types:
        flt["notificationTypes"] = list(types)
    if operations:
        flt["operationTypes"] = list(operations)
    if states:
        flt["operationStates"] = list(states)
    body: dict[str, Any] = {"callbackUri": callback}
    if flt:
        body["filter"] = flt
    with config.api(NSLCM_API) as client:
        response = client.post("/subscriptions", body)
        existing = response.status_code == 303
        if existing:
            # the same callback and filter are subscribed already: show that one
            location = str(response.headers.get("Location", ""))
            document = client.get(location.removeprefix(NSLCM_API))
        else:
            document = response.json()
    if as_json:
        echo_json(document)
    elif existing:
        click.echo(f"already subscribed: subscription {document.get('id')}")
    else:
        click.echo(f"created subscription {document.get('id')}")


@subscription.command("list")
@click.option("--callback", default=None, metavar="URL", help="Only those of this callback.")
@json_option
@pass_config
def subscription_list(config: CliConfig, callback: str | None, as_json: bool) -> None:
    """List subscriptions, oldest first, with their delivery counters."""
    params = {"callbackUri": callback} if callback else None
    with config.api(NSLCM_API) as client:
        subscriptions = client.get("/subscriptions", params=params)
    if as_json:
        echo_json(subscriptions)
    else:
        render.console().print(subscription_table(subscriptions))


@subscription.command("show")
@click.argument("subscription_id")
@json_option
@pass_config
def subscription_show(config: CliConfig, subscription_id: str, as_json: bool) -> None:
    """Show one subscription: its filter and what happened to its notifications."""
    with config.api(NSLCM_API) as client:
        document = client.get(f"/subscriptions/{subscription_id}")
    if as_json:
        echo_json(document)
    else:
        render.console().print(subscription_detail(document))


@subscription.command("delete")
@click.argument("subscription_id")
@pass_config
def subscription_delete(config: CliConfig, subscription_id: str) -> None:
    """Unsubscribe; notifications still queued for it are dropped."""
    with config.api(NSLCM_API) as client:
        client.delete(f"/subscriptions/{subscription_id}")
    click.echo(f"deleted subscription {subscription_id}")
