"""Following a long LCM operation: poll it until it reaches a final state, showing its steps.

On a terminal the steps are a live table with a spinner on the running step; in a
pipe or a log each step that finishes is one plain line, so output stays readable.
Progress goes to stderr so that ``--json`` output on stdout stays machine-readable.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from nubo.cli.client import CliConfig, op_label
from nubo.cli.render import console, state

FINAL_STATES = frozenset({"COMPLETED", "FAILED_TEMP", "FAILED", "ROLLED_BACK"})
_MARKS = {"DONE": "ok", "FAILED": "FAILED"}


def is_final(op: dict[str, Any]) -> bool:
    return str(op.get("state")) in FINAL_STATES


def follow_operation(config: CliConfig, op_id: str) -> dict[str, Any]:
    """Poll ``GET /lcm-operations/{op_id}`` until final; returns the final document."""
    err = console(stderr=True)
    live = err.is_terminal and console().is_terminal
    started = time.monotonic()
    try:
        if live:
            return _follow_live(config, op_id, err, started)
        return _follow_plain(config, op_id, err)
    except KeyboardInterrupt:
        err.print(f"stopped following; the operation goes on: nubo op wait {op_id}")
        raise SystemExit(130) from None


def _fetch(config: CliConfig, op_id: str) -> dict[str, Any]:
    op: dict[str, Any] = config.client().get(f"/lcm-operations/{op_id}")
    return op


def _follow_plain(config: CliConfig, op_id: str, err: Console) -> dict[str, Any]:
    op = _fetch(config, op_id)
    err.print(f"{op_label(op)} {op_id}: {op.get('state')}")
    reported: set[tuple[int, str]] = set()
    last_state = op.get("state")
    while True:
        for index, step in enumerate(op.get("steps") or []):
            status = str(step.get("status"))
            if status in _MARKS and (index, status) not in reported:
                reported.add((index, status))
                detail = f"  {step['detail']}" if step.get("detail") else ""
                err.print(f"  [{_MARKS[status]}] {step.get('name')}{_duration(step)}{detail}")
        if op.get("state") != last_state:
            last_state = op.get("state")
            err.print(f"{op_label(op)} {op_id}: {last_state}")
        if is_final(op):
            return op
        config.sleep(config.poll_interval)
        op = _fetch(config, op_id)


def _follow_live(config: CliConfig, op_id: str, err: Console, started: float) -> dict[str, Any]:
    op = _fetch(config, op_id)
    with Live(_view(op, started), console=err, refresh_per_second=10) as display:
        while not is_final(op):
            config.sleep(config.poll_interval)
            op = _fetch(config, op_id)
            display.update(_view(op, started))
    return op


def _view(op: dict[str, Any], started: float) -> RenderableType:
    header = Text.assemble(
        (f"{op_label(op)} ", "bold"),
        state(op.get("state")),
        f"  {op.get('id', '')}  {time.monotonic() - started:.1f}s",
    )
    table = Table.grid(padding=(0, 1))
    for step in op.get("steps") or []:
        status = str(step.get("status"))
        mark: RenderableType
        if status == "STARTED" and not is_final(op):
            mark = Spinner("dots", style="cyan")
        elif status == "DONE":
            mark = Text("✓", style="green")
        elif status == "FAILED":
            mark = Text("✗", style="red")
        else:
            mark = Text("·")
        table.add_row(
            mark,
            str(step.get("name")),
            Text(_duration(step).strip(), "dim"),
            step.get("detail", ""),
        )
    return Group(header, table)


def _duration(step: dict[str, Any]) -> str:
    """`` (1.2s)`` from a step's ISO timestamps, or nothing if unfinished or unparsable."""
    try:
        begin = datetime.fromisoformat(str(step["started_at"]))
        end = datetime.fromisoformat(str(step["finished_at"]))
    except (KeyError, TypeError, ValueError):
        return ""
    return f" ({(end - begin).total_seconds():.1f}s)"
