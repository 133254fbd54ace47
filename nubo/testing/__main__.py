"""``python -m nubo.testing serve``: an orchestrator with the test seams, as a process.

The same server as ``nubo serve`` (same options, same ``NUBO_*`` settings),
plus the in-memory VIM type ``fake`` and crash injection from
``NUBO_TEST_CRASH_AT``. For tests and benchmarks only; it says so loudly.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

import nubo
from nubo.app import configure_logging, run_server
from nubo.cli.main import serve_options, serve_settings, served_url
from nubo.testing.seams import CRASH_AT_VARIABLE, crash_hook_from_env, registry_with_fake

log = logging.getLogger("nubo.testing")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """nubo's test entry point: never run it in production."""


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
    """Run a TEST orchestrator: ``nubo serve`` plus the fake VIM and crash injection."""
    settings = serve_settings(host, port, data_dir, database_url, tls_cert, tls_key)
    configure_logging(settings.log_level)
    log.warning(
        "test.server: this is a TEST SERVER with test seams (VIM type fake, %s);"
        " never run it in production",
        CRASH_AT_VARIABLE,
    )
    try:
        fault_hook = crash_hook_from_env(os.environ)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(
        f"nubo {nubo.__version__} TEST SERVER serving on {served_url(settings)}",
        err=True,
    )
    run_server(settings, registry=registry_with_fake(), fault_hook=fault_hook)


if __name__ == "__main__":
    main()
