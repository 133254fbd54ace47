"""The ``nubo`` command: a client of the northbound API (plus ``nubo serve``).

Everything but ``serve`` goes through HTTP, so the CLI drives a local or remote
orchestrator alike and never touches the store or a VIM itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

import nubo
from nubo.cli import render
from nubo.cli.alarms import alarm
from nubo.cli.audit import audit
from nubo.cli.autoscale import autoscale
from nubo.cli.client import (
    DEFAULT_URL,
    CliConfig,
    OperationFailed,
    echo_json,
    json_option,
    pass_config,
)
from nubo.cli.identity import COMMANDS as IDENTITY_COMMANDS
from nubo.cli.kpis import history, kpi
from nubo.cli.login import COMMANDS as LOGIN_COMMANDS
from nubo.cli.metrics import metrics
from nubo.cli.ns import ns
from nubo.cli.ops import TASK_COMMANDS, op_list
from nubo.cli.packages import onboard_nsd_content, package, set_nsd_state
from nubo.cli.progress import follow_operation
from nubo.cli.subscriptions import subscription

if TYPE_CHECKING:  # the settings module is imported by ``serve`` only: the CLI starts fast
    from nubo.settings import Settings


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--url",
    envvar="NUBO_URL",
    default=DEFAULT_URL,
    show_default=True,
    help="Base URL of the nubo API (env NUBO_URL).",
)
@click.option(
    "--all-projects",
    is_flag=True,
    help="System administrators: see and act on the records of every project, not only "
    "the logged-in project's.",
)
@click.option(
    "--ca-file",
    envvar="NUBO_CA_FILE",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="PEM file of the CA that signed an https:// server's certificate (a self-signed "
    "certificate is its own CA) [env NUBO_CA_FILE; default: the system's CAs].",
)
@click.version_option(nubo.__version__, prog_name="nubo")
@click.pass_context
def main(ctx: click.Context, url: str, all_projects: bool, ca_file: str | None) -> None:
    """nubo: orchestrate containerised network services (ETSI NFV MANO)."""
    config = ctx.obj if isinstance(ctx.obj, CliConfig) else CliConfig()
    config.url = url
    config.all_projects = all_projects
    config.ca_file = ca_file or config.ca_file
    ctx.obj = config
    ctx.call_on_close(config.close)


main.add_command(ns)
main.add_command(alarm)
main.add_command(metrics)
main.add_command(autoscale)
main.add_command(kpi)
main.add_command(history)
main.add_command(package)
main.add_command(subscription)
main.add_command(audit)
for _command in [*LOGIN_COMMANDS, *IDENTITY_COMMANDS]:
    main.add_command(_command)


# -- serve ------------------------------------------------------------------------


_SERVE_OPTIONS = (
    click.option("--host", default=None, help="Address to listen on [default: 127.0.0.1]."),
    click.option("--port", type=int, default=None, help="Port to listen on [default: 8080]."),
    click.option(
        "--data-dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Where the embedded database lives [default: ~/.local/share/nubo].",
    ),
    click.option(
        "--database-url",
        default=None,
        help="postgresql://USER:PASSWORD@HOST/DB, or a SQLite file as sqlite+aiosqlite:///PATH"
        " [default: nubo.db in the data directory; env NUBO_DATABASE_URL].",
    ),
    click.option(
        "--tls-cert",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Serve HTTPS with this PEM certificate (chain) [env NUBO_TLS_CERT_FILE].",
    ),
    click.option(
        "--tls-key",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="The certificate's PEM private key [env NUBO_TLS_KEY_FILE].",
    ),
)

_Command = TypeVar("_Command", bound=Callable[..., Any])


def serve_options(command: _Command) -> _Command:
    """The options of ``nubo serve``: every command that runs an orchestrator takes them."""
    for option in reversed(_SERVE_OPTIONS):
        command = option(command)
    return command


def serve_settings(
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    database_url: str | None,
    tls_cert: Path | None = None,
    tls_key: Path | None = None,
) -> Settings:
    """The settings of a server from its options and ``NUBO_*``, its database checked first.

    A wrong URL or a database that is down is one line and exit 1, not a
    traceback from inside the HTTP server's start-up.
    """
    from nubo.app import check_database
    from nubo.model.errors import DatabaseUnavailable, InvalidDatabaseUrl
    from nubo.notify.sealing import CredentialsKeyError, Seal
    from nubo.settings import Settings
    from nubo.tls import TlsSettingsError, server_tls

    settings = Settings.from_env(
        host=host,
        port=port,
        data_dir=data_dir,
        database_url=database_url,
        tls_cert_file=str(tls_cert) if tls_cert else None,
        tls_key_file=str(tls_key) if tls_key else None,
    )
    try:
        server_tls(settings)
        Seal(settings.callback_credentials_key)
    except (TlsSettingsError, CredentialsKeyError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        check_database(settings)
    except (InvalidDatabaseUrl, DatabaseUnavailable) as exc:
        raise click.ClickException(exc.detail) from None
    return settings


def served_url(settings: Settings) -> str:
    scheme = "https" if settings.tls_cert_file else "http"
    return f"{scheme}://{settings.host}:{settings.port}"


@main.command()
@serve_options
def serve(
    host: str | None,
    port: int | None,
    data_dir: Path | None,
    database_url: str | None,
    tls_cert: Path | None,
    tls_key: Path | None,
) -> None:
    """Run the orchestrator and its HTTP API in the foreground."""
    # Imported here: every other command is a thin HTTP client and must start fast.
    from nubo.app import run_server

    settings = serve_settings(host, port, data_dir, database_url, tls_cert, tls_key)
    click.echo(f"nubo {nubo.__version__} serving on {served_url(settings)}", err=True)
    run_server(settings)


# -- NS descriptors ---------------------------------------------------------------


@main.group()
def nsd() -> None:
    """NS descriptors in the catalogue."""


#: files ``nubo nsd onboard`` sends to the SOL005 NSD routes (JSON goes to Open Baton's)
SOL005_NSD_SUFFIXES = (".yaml", ".yml", ".zip", ".csar")


def _read_descriptor(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise click.BadParameter(f"cannot read {path}: {exc}", param_hint="FILE") from None
    except json.JSONDecodeError as exc:
        raise click.BadParameter(
            f"{path} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            param_hint="FILE",
        ) from None
    if not isinstance(document, dict):
        raise click.BadParameter(f"{path} must hold a JSON object", param_hint="FILE")
    return document


@nsd.command("onboard")
@click.argument("file", type=click.Path(exists=True, path_type=Path))
@json_option
@pass_config
def nsd_onboard(config: CliConfig, file: Path, as_json: bool) -> None:
    """Onboard the NSD in FILE: Open Baton JSON, SOL001 YAML, or an NSD CSAR (.zip or directory).

    A SOL001 NSD's VNFs come from the onboarded, enabled VNF packages
    (``nubo package onboard``).
    """
    if file.is_dir() or file.suffix.lower() in SOL005_NSD_SUFFIXES:
        info = onboard_nsd_content(config, file)
        if as_json:
            echo_json(info)
            return
        packages = ", ".join(info.get("vnfPkgIds") or []) or "none"
        click.echo(
            f"onboarded NSD {info['id']} ({info.get('nsdName')}): "
            f"{info.get('nsdOnboardingState')}, {info.get('nsdOperationalState')}; "
            f"VNF packages: {packages}"
        )
        _print_warnings(info.get("nuboWarnings"))
        return
    entry = config.client().post("/ns-descriptors", _read_descriptor(file)).json()
    if as_json:
        echo_json(entry)
        return
    out = render.console()
    out.print(f"onboarded NSD {entry['id']}")
    out.print(render.nsd_table([entry]))
    _print_warnings(entry.get("warnings"))


def _print_warnings(warnings: list[dict[str, Any]] | None) -> None:
    table = render.descriptor_warnings(warnings)
    if table is not None:
        render.console().print(table)


@nsd.command("list")
@json_option
@pass_config
def nsd_list(config: CliConfig, as_json: bool) -> None:
    """List onboarded NSDs."""
    entries = config.client().get("/ns-descriptors")
    if as_json:
        echo_json(entries)
    else:
        render.console().print(render.nsd_table(entries))


@nsd.command("show")
@click.argument("nsd_id")
@json_option
@pass_config
def nsd_show(config: CliConfig, nsd_id: str, as_json: bool) -> None:
    """Show an NSD: summary and the VNFs it declares."""
    entry = config.client().get(f"/ns-descriptors/{nsd_id}")
    if as_json:
        echo_json(entry)
    else:
        render.console().print(render.nsd_detail(entry))


@nsd.command("enable")
@click.argument("nsd_id")
@json_option
@pass_config
def nsd_enable(config: CliConfig, nsd_id: str, as_json: bool) -> None:
    """Enable an NSD: it may be instantiated again."""
    changed = set_nsd_state(config, nsd_id, "ENABLED")
    echo_json(changed) if as_json else click.echo(f"NSD {nsd_id} ENABLED")


@nsd.command("disable")
@click.argument("nsd_id")
@json_option
@pass_config
def nsd_disable(config: CliConfig, nsd_id: str, as_json: bool) -> None:
    """Disable an NSD: it cannot be instantiated until enabled again."""
    changed = set_nsd_state(config, nsd_id, "DISABLED")
    echo_json(changed) if as_json else click.echo(f"NSD {nsd_id} DISABLED")


@nsd.command("delete")
@click.argument("nsd_id")
@pass_config
def nsd_delete(config: CliConfig, nsd_id: str) -> None:
    """Delete an NSD (refused while a running NS uses it)."""
    config.client().delete(f"/ns-descriptors/{nsd_id}")
    click.echo(f"deleted NSD {nsd_id}")


# -- LCM operations ---------------------------------------------------------------


@main.group()
def op() -> None:
    """LCM operation occurrences."""


@op.command("show")
@click.argument("op_id")
@json_option
@pass_config
def op_show(config: CliConfig, op_id: str, as_json: bool) -> None:
    """Show an operation, its steps and its error."""
    document = config.client().get(f"/lcm-operations/{op_id}")
    if as_json:
        echo_json(document)
    else:
        render.console().print(render.op_detail(document))


@op.command("wait")
@click.argument("op_id")
@json_option
@pass_config
def op_wait(config: CliConfig, op_id: str, as_json: bool) -> None:
    """Follow an operation until it ends; exit 1 unless it COMPLETED."""
    final = follow_operation(config, op_id)
    if as_json:
        echo_json(final)
    else:
        render.console().print(render.op_detail(final))
    if final.get("state") != "COMPLETED":
        raise OperationFailed(final)


op.add_command(op_list)
for _command in TASK_COMMANDS:
    op.add_command(_command)


# -- VIMs -------------------------------------------------------------------------


@main.group()
def vim() -> None:
    """VIMs (points of presence)."""


@vim.command("list")
@json_option
@pass_config
def vim_list(config: CliConfig, as_json: bool) -> None:
    """List registered VIMs."""
    vims = config.client().get("/vims")
    if as_json:
        echo_json(vims)
    else:
        render.console().print(render.vim_table(vims))


@vim.command("register")
@click.argument("name")
@click.option("--type", "vim_type", required=True, help="Driver type, e.g. docker.")
@click.option("--endpoint", default="", help="Driver endpoint, e.g. unix:///var/run/docker.sock.")
@click.option("--subnet-pool", default=None, metavar="CIDR", help="Pool for link subnets.")
@click.option("--default", "is_default", is_flag=True, help="Make it the default VIM.")
@json_option
@pass_config
def vim_register(
    config: CliConfig,
    name: str,
    vim_type: str,
    endpoint: str,
    subnet_pool: str | None,
    is_default: bool,
    as_json: bool,
) -> None:
    """Register a VIM called NAME."""
    body: dict[str, Any] = {"name": name, "type": vim_type, "endpoint": endpoint}
    if subnet_pool is not None:
        body["subnet_pool"] = subnet_pool
    if is_default:
        body["is_default"] = True
    registered = config.client().post("/vims", body).json()
    if as_json:
        echo_json(registered)
    else:
        render.console().print(render.vim_table([registered]))
