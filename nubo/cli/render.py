"""Human-readable renderings of API documents: rich tables and trees.

Renderers take the raw JSON documents the API returns (the CLI never imports the
model), and tolerate missing fields so an older or newer server still renders.
"""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text
from rich.tree import Tree

_PIPE_WIDTH = 240
_STYLES = {
    "ACTIVE": "green",
    "COMPLETED": "green",
    "RUNNING": "green",
    "DONE": "green",
    "INITIALIZED": "cyan",
    "PROCESSING": "cyan",
    "STARTED": "cyan",
    "SCALING": "cyan",
    "CREATED": "cyan",
    "PENDING": "cyan",
    "TERMINATING": "yellow",
    "STOPPING": "yellow",
    "ROLLING_BACK": "yellow",
    "EXITED": "yellow",
    "INACTIVE": "yellow",
    "TERMINATED": "dim",
    "DELETED": "dim",
    "ROLLED_BACK": "red",
    "FAILED_TEMP": "red",
    "FAILED": "red",
    "ERROR": "red",
}


def console(stderr: bool = False) -> Console:
    """A console on stdout (or stderr); wide and plain when not a terminal, so pipes stay whole."""
    # markup and emoji off: names and details come from users and must print verbatim
    stream = sys.stderr if stderr else sys.stdout
    if stream.isatty():
        return Console(file=stream, markup=False, emoji=False)
    return Console(
        file=stream, width=_PIPE_WIDTH, no_color=True, highlight=False, markup=False, emoji=False
    )


def state(value: Any) -> Text:
    text = str(value if value is not None else "-")
    return Text(text, style=_STYLES.get(text, ""))


def cell(value: Any) -> str:
    """A table cell: ``-`` for nothing."""
    if value is None or value == "":
        return "-"
    return str(value)


def _when(value: Any) -> str:
    """ISO timestamps trimmed to the second."""
    text = cell(value)
    return text.replace("T", " ")[:19] if len(text) >= 19 else text


def _table(*columns: str, title: str | None = None) -> Table:
    table = Table(title=title, title_justify="left", show_edge=False, pad_edge=False)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


# -- descriptors ------------------------------------------------------------------


def nsd_table(entries: list[dict[str, Any]]) -> Table:
    table = _table("ID", "NAME", "VENDOR", "VERSION", "FORMAT", "ENABLED")
    for e in entries:
        table.add_row(
            cell(e.get("id")),
            cell(e.get("name")),
            cell(e.get("vendor")),
            cell(e.get("version")),
            cell(e.get("format")),
            "yes" if e.get("enabled", True) else "no",
        )
    return table


def nsd_detail(entry: dict[str, Any]) -> RenderableType:
    """Summary plus the VNFs, links and dependencies declared in the NSD body."""
    body: dict[str, Any] = entry.get("body") or {}
    summary = _table("FIELD", "VALUE")
    for key in ("id", "name", "vendor", "version", "format", "enabled", "created_at"):
        summary.add_row(key, cell(entry.get(key)))
    vnfs = _table("VNF", "TYPE", "VERSION", "IMAGES", "VDUS", "MAX VNFC", "LINKS", title="VNFs")
    for vnfd in body.get("vnfd") or []:
        vdus = vnfd.get("vdu") or []
        images = sorted({str(i) for vdu in vdus for i in (vdu.get("vm_image") or [])})
        links = sorted(
            {
                str(cp.get("virtual_link_reference"))
                for vdu in vdus
                for vnfc in vdu.get("vnfc") or []
                for cp in vnfc.get("connection_point") or []
                if cp.get("virtual_link_reference")
            }
        )
        vnfs.add_row(
            cell(vnfd.get("name") or (f"(catalogue VNFD {vnfd['id']})" if "id" in vnfd else "")),
            cell(vnfd.get("type") or vnfd.get("endpoint")),
            cell(vnfd.get("version")),
            ", ".join(images) or "-",
            str(len(vdus)),
            ", ".join(cell(vdu.get("scale_in_out")) for vdu in vdus) or "-",
            ", ".join(links) or "-",
        )
    parts: list[RenderableType] = [summary, Text(""), vnfs]
    vlds = [cell(v.get("name")) for v in body.get("vld") or []]
    if vlds:
        parts.append(Text(f"\nvirtual links: {', '.join(vlds)}"))
    deps = [
        (_ref_name(dep.get("source")), _ref_name(dep.get("target")), dep.get("parameters"))
        for dep in body.get("vnf_dependency") or []
        if isinstance(dep, dict)
    ]
    # a VNFD's requires names its sources (by name or type) and the parameters it needs
    for vnfd in body.get("vnfd") or []:
        requires = vnfd.get("requires") if isinstance(vnfd, dict) else None
        for source, needed in requires.items() if isinstance(requires, dict) else []:
            params = needed.get("parameters") if isinstance(needed, dict) else None
            deps.append((source, vnfd.get("name"), params))
    if deps:
        dep_table = _table("SOURCE", "TARGET", "PARAMETERS", title="\nDependencies")
        for source, target, params in deps:
            listed = params if isinstance(params, list) else []
            dep_table.add_row(cell(source), cell(target), ", ".join(str(p) for p in listed) or "-")
        parts.append(dep_table)
    warnings = descriptor_warnings(entry.get("warnings"))
    if warnings is not None:
        parts.append(warnings)
    return Group(*parts)


def descriptor_warnings(warnings: list[dict[str, Any]] | None) -> RenderableType | None:
    """What the descriptor carries that nubo does not use, one row per path; None if nothing."""
    if not warnings:
        return None
    table = _table("PATH", "NOT USED", title=f"\n{len(warnings)} warning(s)")
    for warning in warnings:
        table.add_row(cell(warning.get("path")), cell(warning.get("message")))
    return table


def _ref_name(ref: Any) -> Any:
    return ref.get("name") if isinstance(ref, dict) else ref


# -- records ----------------------------------------------------------------------


def _vnfc_count(nsr: dict[str, Any]) -> int:
    return sum(
        1
        for vnfr in nsr.get("vnfr") or []
        for vdu in vnfr.get("vdu") or []
        for vnfc in vdu.get("vnfc_instance") or []
        if vnfc.get("state") != "DELETED"
    )


def nsr_table(records: list[dict[str, Any]]) -> Table:
    table = _table("ID", "NAME", "STATUS", "NSD", "VNFS", "VNFCS", "CREATED")
    for nsr in records:
        table.add_row(
            cell(nsr.get("id")),
            cell(nsr.get("name")),
            state(nsr.get("status")),
            cell(nsr.get("descriptor_reference")),
            str(len(nsr.get("vnfr") or [])),
            str(_vnfc_count(nsr)),
            _when(nsr.get("created_at")),
        )
    return table


def nsr_tree(nsr: dict[str, Any]) -> RenderableType:
    """The NS as a tree: VNFs, VDUs, VNFC hostnames with states and addresses, dependency vars."""
    root = Tree(
        Text.assemble(
            (f"{cell(nsr.get('name'))} ", "bold"),
            state(nsr.get("status")),
            f"  id={cell(nsr.get('id'))} nsd={cell(nsr.get('descriptor_reference'))}"
            f" vim={cell(nsr.get('vim_id'))}",
        )
    )
    for vnfr in nsr.get("vnfr") or []:
        branch = root.add(
            Text.assemble(
                (f"{cell(vnfr.get('name'))} ", "bold"),
                f"[{cell(vnfr.get('type'))}] ",
                state(vnfr.get("status")),
                f"  id={cell(vnfr.get('id'))}",
            )
        )
        for vdu in vnfr.get("vdu") or []:
            vdu_branch = branch.add(
                f"vdu {cell(vdu.get('name') or vdu.get('id'))}  id={cell(vdu.get('id'))}"
                f" image={cell(vdu.get('image'))} max={cell(vdu.get('scale_in_out'))}"
            )
            # DELETED instances are history: ``ns show --json`` still has them
            live = [c for c in vdu.get("vnfc_instance") or [] if c.get("state") != "DELETED"]
            for vnfc in live:
                addresses = vnfc.get("addresses") or {}
                addr = " ".join(f"{link}={ip}" for link, ip in sorted(addresses.items()))
                vdu_branch.add(
                    Text.assemble(
                        (f"{cell(vnfc.get('hostname'))} ", "bold"),
                        state(vnfc.get("state")),
                        f"  {addr or 'no address'}  id={cell(vnfc.get('id'))}",
                    )
                )
        env = vnfr.get("dependency_env") or {}
        if env:
            dep_branch = branch.add("dependency variables")
            for key, value in sorted(env.items()):
                dep_branch.add(f"{key}={value}")
    vlrs = nsr.get("vlr") or []
    if vlrs:
        links = root.add("virtual links")
        for vlr in vlrs:
            links.add(
                f"{cell(vlr.get('name'))}  cidr={cell(vlr.get('cidr'))}"
                f" gateway={cell(vlr.get('gateway'))} network={cell(vlr.get('vim_network_id'))}"
            )
    return root


# -- operations -------------------------------------------------------------------


def ops_table(ops: list[dict[str, Any]]) -> Table:
    table = _table("ID", "OPERATION", "STATE", "STARTED", "STEPS", "ERROR")
    for op in ops:
        steps = op.get("steps") or []
        done = sum(1 for s in steps if s.get("status") == "DONE")
        error = op.get("error") or {}
        table.add_row(
            cell(op.get("id")),
            cell(op.get("operation")),
            state(op.get("state")),
            _when(op.get("start_time")),
            f"{done}/{len(steps)}",
            cell(error.get("title") if isinstance(error, dict) else error),
        )
    return table


def steps_table(op: dict[str, Any]) -> Table:
    table = _table("STEP", "STATUS", "STARTED", "FINISHED", "DETAIL")
    for step in op.get("steps") or []:
        table.add_row(
            cell(step.get("name")),
            state(step.get("status")),
            _when(step.get("started_at")),
            _when(step.get("finished_at")),
            cell(step.get("detail")),
        )
    return table


def scripts_table(op: dict[str, Any]) -> Table:
    """The lifecycle scripts an operation ran: where, how they ended, their output's end."""
    table = _table("VNFC", "EVENT", "SCRIPT", "EXIT", "OUTPUT (LAST LINES)")
    for run in op.get("scripts") or op.get("nuboScripts") or []:
        lines = str(run.get("output") or "").strip().splitlines()[-3:]
        table.add_row(
            cell(run.get("vnfc")),
            cell(run.get("event")),
            cell(run.get("script")),
            cell(run.get("exit_code")),
            cell("\n".join(lines)),
        )
    return table


def op_detail(op: dict[str, Any]) -> RenderableType:
    header = Text.assemble(
        (f"{cell(op.get('operation'))} ", "bold"),
        state(op.get("state")),
        f"  id={cell(op.get('id'))} ns={cell(op.get('nsr_id'))}"
        f" started={_when(op.get('start_time'))} since={_when(op.get('state_entered_time'))}",
    )
    parts: list[RenderableType] = [header]
    params = op.get("params") or {}
    if params:
        parts.append(Text("params: " + " ".join(f"{k}={v}" for k, v in params.items())))
    parts.append(steps_table(op))
    if op.get("scripts") or op.get("nuboScripts"):
        parts.append(scripts_table(op))
    error = op.get("error")
    if isinstance(error, dict):
        parts.append(Text(f"error: {cell(error.get('title'))}: {cell(error.get('detail'))}", "red"))
        for key in ("step", "cause"):
            if error.get(key):
                parts.append(Text(f"  {key}: {error[key]}", "red"))
    return Group(*parts)


# -- VIMs -------------------------------------------------------------------------


def vim_table(vims: list[dict[str, Any]]) -> Table:
    table = _table("ID", "NAME", "TYPE", "ENDPOINT", "SUBNET POOL", "PREFIX", "DEFAULT")
    for vim in vims:
        table.add_row(
            cell(vim.get("id")),
            cell(vim.get("name")),
            cell(vim.get("type")),
            cell(vim.get("endpoint")),
            cell(vim.get("subnet_pool")),
            cell(vim.get("subnet_prefix")),
            "yes" if vim.get("is_default") else "",
        )
    return table
