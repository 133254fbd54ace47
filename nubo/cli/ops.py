"""``nubo op list|retry|rollback|fail|cancel``: LCM operation occurrences and their tasks.

The tasks are SOL005's: ``retry``, ``rollback`` and ``fail`` act on an
operation waiting in FAILED_TEMP; ``cancel`` stops a running one, which then
waits in FAILED_TEMP.
"""

from __future__ import annotations

from typing import Any

import click

from nubo.cli import render
from nubo.cli.client import (
    CliConfig,
    OperationFailed,
    echo_json,
    json_option,
    op_id_of,
    pass_config,
    wait_option,
)
from nubo.cli.progress import follow_operation

OP_OCCS = "/nslcm/v1/ns_lcm_op_occs"


@click.command("list")
@click.option("--ns", "nsr_id", default=None, help="Only the operations of this NS.")
@click.option("--state", default=None, help="Only operations in this state (e.g. FAILED_TEMP).")
@json_option
@pass_config
def op_list(config: CliConfig, nsr_id: str | None, state: str | None, as_json: bool) -> None:
    """List LCM operations, newest first."""
    path = f"/ns-records/{nsr_id}/lcm-operations" if nsr_id else "/lcm-operations"
    ops: list[dict[str, Any]] = config.client().get(path)
    if state:
        ops = [op for op in ops if op.get("state") == state.upper()]
    if as_json:
        echo_json(ops)
    else:
        render.console().print(render.ops_table(ops))


def _task(
    config: CliConfig, op_id: str, task: str, wait: bool, as_json: bool, success: str
) -> None:
    response = config.root().post(f"{OP_OCCS}/{op_id}/{task}")
    if task == "fail":
        final = config.client().get(f"/lcm-operations/{op_id}")
    elif not wait:
        click.echo(f"{task} of operation {op_id_of(response)} accepted")
        return
    else:
        final = follow_operation(config, op_id)
    if as_json:
        echo_json(final)
    else:
        render.console().print(render.op_detail(final))
    if final.get("state") != success:
        raise OperationFailed(final)


def _task_command(task: str, success: str, summary: str) -> click.Command:
    @click.command(task, help=summary)
    @click.argument("op_id")
    @wait_option
    @json_option
    @pass_config
    def command(config: CliConfig, op_id: str, wait: bool, as_json: bool) -> None:
        _task(config, op_id, task, wait, as_json, success)

    return command


TASK_COMMANDS = [
    _task_command("retry", "COMPLETED", "Run a FAILED_TEMP operation again."),
    _task_command("rollback", "ROLLED_BACK", "Undo a FAILED_TEMP operation."),
    _task_command("fail", "FAILED", "Give a FAILED_TEMP operation up (its NS shows ERROR)."),
    _task_command(
        "cancel", "FAILED_TEMP", "Stop a running operation; it then waits in FAILED_TEMP."
    ),
]
