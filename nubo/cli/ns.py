"""``nubo ns``: network service records and their lifecycle operations.

Users name VNFs and VNFCs the way they see them (VNFR name, VNFC hostname);
the API wants record ids, so commands read the NSR first and resolve.
"""

from __future__ import annotations

import uuid
from typing import Any

import click
import httpx

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


@click.group()
def ns() -> None:
    """Network services: instantiate, inspect, scale, terminate."""


# -- resolving names to record ids ------------------------------------------------


def _get_nsr(config: CliConfig, nsr_id: str) -> dict[str, Any]:
    nsr: dict[str, Any] = config.client().get(f"/ns-records/{nsr_id}")
    return nsr


def find_vnfr(nsr: dict[str, Any], ref: str) -> dict[str, Any]:
    """The VNFR whose id, else name, else (unique) type is ``ref``."""
    vnfrs: list[dict[str, Any]] = nsr.get("vnfr") or []
    for key in ("id", "name", "type"):
        matches = [v for v in vnfrs if v.get(key) == ref]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            ids = ", ".join(str(v.get("id")) for v in matches)
            raise click.BadParameter(f"{ref!r} matches several VNFs ({ids}); give the VNFR id")
    names = ", ".join(f"{v.get('name')} ({v.get('id')})" for v in vnfrs) or "none"
    raise click.BadParameter(f"no VNF {ref!r} in NS {nsr.get('id')}; it has: {names}")


def find_vdu(vnfr: dict[str, Any], vdu_id: str | None) -> dict[str, Any]:
    vdus: list[dict[str, Any]] = vnfr.get("vdu") or []
    if not vdus:
        raise click.BadParameter(f"VNF {vnfr.get('name')} has no VDU")
    if vdu_id is None:
        return vdus[0]
    for vdu in vdus:
        if vdu_id in (vdu.get("id"), vdu.get("name")):
            return vdu
    known = ", ".join(str(v.get("id")) for v in vdus)
    raise click.BadParameter(f"no VDU {vdu_id!r} in VNF {vnfr.get('name')}; it has: {known}")


def find_vnfc(
    nsr: dict[str, Any], ref: str, vnfr: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(vnfr, vdu, vnfc) for a VNFC given by id or hostname."""
    for candidate in [vnfr] if vnfr is not None else nsr.get("vnfr") or []:
        for vdu in candidate.get("vdu") or []:
            for vnfc in vdu.get("vnfc_instance") or []:
                if ref in (vnfc.get("id"), vnfc.get("hostname")):
                    return candidate, vdu, vnfc
    raise click.BadParameter(f"no VNFC {ref!r} in NS {nsr.get('id')}")


def _vnfcs_path(nsr_id: str, vnfr: dict[str, Any], vdu: dict[str, Any]) -> str:
    return f"/ns-records/{nsr_id}/vnfrecords/{vnfr['id']}/vduunits/{vdu['id']}/vnfcinstances"


# -- following an accepted operation ----------------------------------------------


def finish(
    config: CliConfig,
    response: httpx.Response,
    *,
    wait: bool,
    as_json: bool,
    nsr_id: str,
    show_nsr: bool = True,
) -> None:
    """After a 202: follow the operation (or not), then print the outcome."""
    op_id = op_id_of(response)
    if not wait:
        if as_json:
            echo_json(response.json())
        else:
            click.echo(f"operation {op_id} accepted; follow it with: nubo op wait {op_id}")
        return
    final = follow_operation(config, op_id)
    if final.get("state") != "COMPLETED":
        if as_json:
            echo_json(final)
        raise OperationFailed(final)
    if as_json:
        echo_json(final)
    elif show_nsr:
        render.console().print(render.nsr_tree(_get_nsr(config, nsr_id)))
    else:
        click.echo(f"{final.get('operation')} {op_id} COMPLETED")


# -- commands ---------------------------------------------------------------------


@ns.command("instantiate")
@click.argument("nsd_id", required=False)
@click.option("--name", default=None, help="Name of the new NS [default: the NSD's].")
@click.option("--vim", default=None, help="VIM name or id [default: the default VIM].")
@click.option(
    "--instance",
    "instance_id",
    default=None,
    help="Instantiate this NS instance (made by `nubo ns create`) instead of a new NS.",
)
@wait_option
@json_option
@pass_config
def ns_instantiate(
    config: CliConfig,
    nsd_id: str | None,
    name: str | None,
    vim: str | None,
    instance_id: str | None,
    wait: bool,
    as_json: bool,
) -> None:
    """Instantiate a network service from NSD_ID (or an existing --instance)."""
    if instance_id is not None:
        if nsd_id is not None or name is not None:
            raise click.UsageError("--instance takes neither NSD_ID nor --name")
        instantiate_instance(config, instance_id, vim, wait, as_json)
        return
    if nsd_id is None:
        raise click.UsageError("give NSD_ID, or --instance NS_ID")
    body = {k: v for k, v in (("name", name), ("vim", vim)) if v is not None}
    # a fresh key per command: if the answer is lost, the retry cannot deploy twice
    key = str(uuid.uuid4())
    response = config.client().post(f"/ns-records/{nsd_id}", body or None, idempotency_key=key)
    nsr = response.json()
    op_id = op_id_of(response)
    if not wait:
        if as_json:
            echo_json(nsr)
        else:
            click.echo(f"NS {nsr.get('id')} created; instantiation is operation {op_id}")
            click.echo(f"follow it with: nubo op wait {op_id}")
        return
    final = follow_operation(config, op_id)
    if final.get("state") != "COMPLETED":
        if as_json:
            echo_json(final)
        raise OperationFailed(final)
    record = _get_nsr(config, str(nsr["id"]))
    if as_json:
        echo_json(record)
    else:
        render.console().print(render.nsr_tree(record))


@ns.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include terminated services.")
@json_option
@pass_config
def ns_list(config: CliConfig, show_all: bool, as_json: bool) -> None:
    """List network services."""
    records = config.client().get("/ns-records", params={"all": "true"} if show_all else None)
    if as_json:
        echo_json(records)
    else:
        render.console().print(render.nsr_table(records))


@ns.command("show")
@click.argument("nsr_id")
@json_option
@pass_config
def ns_show(config: CliConfig, nsr_id: str, as_json: bool) -> None:
    """Show a network service: VNFs, VNFCs, addresses, dependency variables."""
    nsr = _get_nsr(config, nsr_id)
    if as_json:
        echo_json(nsr)
    else:
        render.console().print(render.nsr_tree(nsr))


@ns.command("scale-out")
@click.argument("nsr_id")
@click.argument("vnf")
@click.option("--vdu", "vdu_id", default=None, help="VDU id [default: the VNF's first VDU].")
@wait_option
@json_option
@pass_config
def ns_scale_out(
    config: CliConfig, nsr_id: str, vnf: str, vdu_id: str | None, wait: bool, as_json: bool
) -> None:
    """Add a VNFC to VNF (a VNFR name or id) of NS NSR_ID."""
    nsr = _get_nsr(config, nsr_id)
    vnfr = find_vnfr(nsr, vnf)
    vdu = find_vdu(vnfr, vdu_id)
    response = config.client().post(_vnfcs_path(nsr_id, vnfr, vdu))
    finish(config, response, wait=wait, as_json=as_json, nsr_id=nsr_id)


@ns.command("scale-in")
@click.argument("nsr_id")
@click.argument("vnf")
@click.option("--vnfc", "vnfc_ref", default=None, help="VNFC id or hostname [default: newest].")
@click.option("--vdu", "vdu_id", default=None, help="VDU id [default: the VNF's first VDU].")
@wait_option
@json_option
@pass_config
def ns_scale_in(
    config: CliConfig,
    nsr_id: str,
    vnf: str,
    vnfc_ref: str | None,
    vdu_id: str | None,
    wait: bool,
    as_json: bool,
) -> None:
    """Remove a VNFC (the newest unless --vnfc) from VNF of NS NSR_ID."""
    nsr = _get_nsr(config, nsr_id)
    vnfr = find_vnfr(nsr, vnf)
    if vnfc_ref is None:
        path = _vnfcs_path(nsr_id, vnfr, find_vdu(vnfr, vdu_id))
    else:
        _, vdu, vnfc = find_vnfc(nsr, vnfc_ref, vnfr)
        path = f"{_vnfcs_path(nsr_id, vnfr, vdu)}/{vnfc['id']}"
    response = config.client().delete(path)
    finish(config, response, wait=wait, as_json=as_json, nsr_id=nsr_id)


def _start_stop(config: CliConfig, nsr_id: str, vnfc_ref: str, action: str) -> httpx.Response:
    nsr = _get_nsr(config, nsr_id)
    vnfr, vdu, vnfc = find_vnfc(nsr, vnfc_ref)
    return config.client().post(f"{_vnfcs_path(nsr_id, vnfr, vdu)}/{vnfc['id']}/{action}")


@ns.command("start-vnfc")
@click.argument("nsr_id")
@click.argument("vnfc")
@wait_option
@json_option
@pass_config
def ns_start_vnfc(config: CliConfig, nsr_id: str, vnfc: str, wait: bool, as_json: bool) -> None:
    """Start VNFC (id or hostname) of NS NSR_ID."""
    response = _start_stop(config, nsr_id, vnfc, "start")
    finish(config, response, wait=wait, as_json=as_json, nsr_id=nsr_id)


@ns.command("stop-vnfc")
@click.argument("nsr_id")
@click.argument("vnfc")
@wait_option
@json_option
@pass_config
def ns_stop_vnfc(config: CliConfig, nsr_id: str, vnfc: str, wait: bool, as_json: bool) -> None:
    """Stop VNFC (id or hostname) of NS NSR_ID."""
    response = _start_stop(config, nsr_id, vnfc, "stop")
    finish(config, response, wait=wait, as_json=as_json, nsr_id=nsr_id)


@ns.command("terminate")
@click.argument("nsr_id")
@wait_option
@json_option
@pass_config
def ns_terminate(config: CliConfig, nsr_id: str, wait: bool, as_json: bool) -> None:
    """Terminate NS NSR_ID and release everything it holds."""
    response = config.client().delete(f"/ns-records/{nsr_id}")
    finish(config, response, wait=wait, as_json=as_json, nsr_id=nsr_id, show_nsr=False)


@ns.command("ops")
@click.argument("nsr_id")
@json_option
@pass_config
def ns_ops(config: CliConfig, nsr_id: str, as_json: bool) -> None:
    """List the LCM operations of NS NSR_ID."""
    ops = config.client().get(f"/ns-records/{nsr_id}/lcm-operations")
    if as_json:
        echo_json(ops)
    else:
        render.console().print(render.ops_table(ops))


# -- SOL005 NS instances ----------------------------------------------------------

NS_INSTANCES = "/nslcm/v1/ns_instances"


@ns.command("create")
@click.argument("nsd_id")
@click.option("--name", required=True, help="Name of the NS instance.")
@click.option("--description", default="", help="Free text kept with the instance.")
@json_option
@pass_config
def ns_create(config: CliConfig, nsd_id: str, name: str, description: str, as_json: bool) -> None:
    """Create an NS instance of NSD_ID, NOT_INSTANTIATED yet (SOL005)."""
    body = {"nsdId": nsd_id, "nsName": name, "nsDescription": description}
    instance = config.root().post(NS_INSTANCES, body).json()
    if as_json:
        echo_json(instance)
        return
    click.echo(f"NS instance {instance['id']} created (NOT_INSTANTIATED)")
    click.echo(f"instantiate it with: nubo ns instantiate --instance {instance['id']}")


@ns.command("delete")
@click.argument("ns_id")
@pass_config
def ns_delete(config: CliConfig, ns_id: str) -> None:
    """Delete a NOT_INSTANTIATED (never instantiated or terminated) NS instance."""
    config.root().delete(f"{NS_INSTANCES}/{ns_id}")
    click.echo(f"deleted NS instance {ns_id}")


def instantiate_instance(
    config: CliConfig, ns_id: str, vim: str | None, wait: bool, as_json: bool
) -> None:
    """SOL005 instantiate of an existing instance; a failure waits in FAILED_TEMP."""
    params = {"vimId": vim} if vim else {}
    body = {"nsFlavourId": "default", "additionalParamsForNs": params}
    response = config.root().post(f"{NS_INSTANCES}/{ns_id}/instantiate", body)
    finish(config, response, wait=wait, as_json=as_json, nsr_id=ns_id)


@ns.command("heal")
@click.argument("nsr_id")
@click.argument("vnf")
@click.option(
    "--vnfc", "vnfc_ref", default=None, help="VNFC id or hostname [default: a failed one]."
)
@click.option("--cause", default="requested from the CLI", show_default=True)
@wait_option
@json_option
@pass_config
def ns_heal(
    config: CliConfig,
    nsr_id: str,
    vnf: str,
    vnfc_ref: str | None,
    cause: str,
    wait: bool,
    as_json: bool,
) -> None:
    """Heal a VNFC of VNF (restart in place, else re-create with the same address)."""
    nsr = _get_nsr(config, nsr_id)
    vnfr = find_vnfr(nsr, vnf)
    params = {"vnfcInstanceId": find_vnfc(nsr, vnfc_ref, vnfr)[2]["id"]} if vnfc_ref else {}
    body = {
        "healVnfData": [{"vnfInstanceId": vnfr["id"], "cause": cause, "additionalParams": params}]
    }
    response = config.root().post(f"{NS_INSTANCES}/{nsr_id}/heal", body)
    finish(config, response, wait=wait, as_json=as_json, nsr_id=nsr_id)


@ns.command("watch")
@click.argument("nsr_id")
@click.option("--op", "op_id", default=None, help="The operation to follow [default: the newest].")
@json_option
@pass_config
def ns_watch(config: CliConfig, nsr_id: str, op_id: str | None, as_json: bool) -> None:
    """Follow the NS's running (or newest) operation to its end; exit 1 unless it COMPLETED."""
    if op_id is None:
        ops: list[dict[str, Any]] = config.client().get(f"/ns-records/{nsr_id}/lcm-operations")
        if not ops:
            raise click.ClickException(f"NS {nsr_id} has no operations yet")
        op_id = str(ops[0]["id"])
        if not as_json and ops[0].get("state") not in ("PROCESSING", "ROLLING_BACK"):
            click.echo(f"the newest operation, {op_id}, has already ended:", err=True)
    final = follow_operation(config, op_id)
    if as_json:
        echo_json(final)
    elif final.get("state") == "COMPLETED":
        click.echo(f"{final.get('operation')} {op_id} COMPLETED")
        render.console().print(render.nsr_tree(_get_nsr(config, nsr_id)))
    if final.get("state") != "COMPLETED":
        raise OperationFailed(final)
