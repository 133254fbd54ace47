"""Which lifecycle scripts run when, with the variables Open Baton's EMS gives them.

Open Baton's generic VNFM runs a VNF's scripts on each of its VNFCs: the
INSTANTIATE scripts once the VNFC exists, CONFIGURE once the VNFs it depends
on are there, START after that; STOP before a VNFC is stopped and START again
when it is started, TERMINATE before it is removed. nubo keeps that order
inside the start waves: a VNF's VNFCs run their INSTANTIATE, CONFIGURE and
START scripts right after they started, so a target's CONFIGURE scripts see
sources whose own scripts have run. Every script gets, over the container's
environment, what the EMS exports: the VNF's configuration parameters by
their ``confKey``, ``hostname``, and the VNFC's address on each virtual link
under the link's name. A CONFIGURE script also gets the dependency values
as ``<source type>_<parameter>`` (as Open Baton writes them, not upper-cased
as in the container's environment): one whose name starts with
``<source type>_`` (``server_configure.sh``) runs once per VNFC of that
source with that VNFC's values, as Open Baton runs it; any other once, with
every source VNFC's values comma-separated. When a source scales out, the
CONFIGURE scripts of its targets' VNFCs run again: the prefixed ones for the
new VNFC only.

Scaling and healing have their own events, run as Open Baton's generic VNFM
runs them around a change of one VNFC: once a scale-out's new VNFC has run
its own scripts, the VNF's SCALE_OUT scripts run in each of its other
running VNFCs, which get the new VNFC's ``hostname`` and its address on each
link with the prefix ``scaled_`` (``scaled_hostname``, ``scaled_private``);
before a scale-in removes a VNFC, the SCALE_IN scripts run in each of the
others with the leaving VNFC's values prefixed ``removing_``; once a healed
VNFC runs again (restarted or re-created), its HEAL scripts run in it, with
``cause``: why it was healed (the heal request's, or the fault's). A
failing one fails its step like any other, and the scale-in then keeps the
VNFC.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from nubo.model.descriptors import LifecycleEventType, Nsd
from nubo.model.errors import NuboError
from nubo.model.records import NetworkServiceRecord, VnfcInstance, VnfRecord
from nubo.model.states import VnfcState
from nubo.nfvo.dependencies import vnfc_value
from nubo.nfvo.operations import OperationContext
from nubo.nfvo.waves import raise_first, settle
from nubo.vim.port import VimDriver
from nubo.vnfm.lifecycle import LifecycleScripts, ScriptCall

log = logging.getLogger("nubo.nfvo")

#: the prefixes of the changed VNFC's values in SCALE_OUT and SCALE_IN scripts
SCALED_PREFIX = "scaled_"
REMOVING_PREFIX = "removing_"

#: the events a new VNFC goes through once it runs, in order
BRING_UP = (
    LifecycleEventType.INSTANTIATE,
    LifecycleEventType.CONFIGURE,
    LifecycleEventType.START,
)


def ems_environment(vnfr: VnfRecord, vnfc: VnfcInstance) -> dict[str, str]:
    """What every script of the VNFC gets: configuration, ``hostname``, an address per link."""
    return dict(vnfr.configuration) | {"hostname": vnfc.hostname} | dict(vnfc.addresses)


def peer_values(vnfc: VnfcInstance, prefix: str) -> dict[str, str]:
    """The ``hostname`` and link addresses of a VNFC that scales, as its peers get them."""
    values = {"hostname": vnfc.hostname} | dict(vnfc.addresses)
    return {f"{prefix}{name}": value for name, value in values.items()}


def _source_values(
    nsd: Nsd, nsr: NetworkServiceRecord, target: str, only: VnfcInstance | None
) -> tuple[dict[str, list[dict[str, str]]], dict[str, str]]:
    """Per source type, the values of each of its VNFCs (``only`` that one, when given);
    and every value comma-separated over all VNFCs."""
    per_vnfc: dict[str, list[dict[str, str]]] = {}
    joined: dict[str, str] = {}
    for dep in nsd.dependencies:
        if dep.target != target:
            continue
        source = nsr.vnfr_by_name(dep.source)
        links = nsd.vnfd(dep.source).attached_links
        vnfcs = source.vnfcs()
        for parameter in dep.parameters:
            name = f"{source.type}_{parameter}"
            joined[name] = ",".join(vnfc_value(source, c, parameter, links) for c in vnfcs)
        chosen = [c for c in vnfcs if only is None or c.id == only.id]
        rows = [
            {f"{source.type}_{p}": vnfc_value(source, c, p, links) for p in dep.parameters}
            for c in chosen
        ]
        per_vnfc.setdefault(source.type, []).extend(rows)
    return per_vnfc, joined


class NsLifecycle:
    """Runs the lifecycle scripts of an NS's VNFs at the moments Open Baton runs them."""

    def __init__(self, scripts: LifecycleScripts) -> None:
        self.scripts = scripts

    def calls(
        self,
        nsd: Nsd,
        nsr: NetworkServiceRecord,
        vnfr: VnfRecord,
        vnfc: VnfcInstance,
        event: LifecycleEventType,
        source_vnfc: VnfcInstance | None = None,
    ) -> list[ScriptCall]:
        """The script runs of ``event`` in ``vnfc``; ``source_vnfc``: one new source VNFC."""
        scripts = nsd.vnfd(vnfr.name).scripts_for(event)
        base = ems_environment(vnfr, vnfc)
        secrets = frozenset(nsr.secret_values())
        if event != LifecycleEventType.CONFIGURE:
            return [ScriptCall(s, base, secrets) for s in scripts]
        per_vnfc, joined = _source_values(nsd, nsr, vnfr.name, source_vnfc)
        calls: list[ScriptCall] = []
        for script in scripts:
            prefix = next((t for t in per_vnfc if script.name.startswith(f"{t}_")), None)
            if prefix is None:
                calls.append(ScriptCall(script, base | joined, secrets))
            else:
                calls.extend(
                    ScriptCall(script, base | values, secrets) for values in per_vnfc[prefix]
                )
        return calls

    async def bring_up(
        self,
        ctx: OperationContext,
        driver: VimDriver,
        nsd: Nsd,
        vnfr: VnfRecord,
        vnfcs: Sequence[VnfcInstance],
    ) -> None:
        """INSTANTIATE, CONFIGURE, START in each running VNFC of ``vnfcs`` (together)."""

        async def one(vnfc: VnfcInstance) -> None:
            for event in BRING_UP:
                calls = self.calls(nsd, ctx.nsr, vnfr, vnfc, event)
                await self.scripts.run_event(driver, vnfr, vnfc, event, calls, ctx.op.record_script)

        running = [c for c in vnfcs if c.state == VnfcState.RUNNING]
        raise_first(await settle([one(c) for c in running]))

    async def source_added(
        self, ctx: OperationContext, driver: VimDriver, nsd: Nsd, source: VnfcInstance
    ) -> None:
        """CONFIGURE again in every running VNFC of the VNFs that depend on ``source``'s VNF."""
        nsr = ctx.nsr
        vnfr = nsr.find_vnfc(source.id)[0]
        targets = {d.target for d in nsd.dependencies if d.source == vnfr.name}
        event = LifecycleEventType.CONFIGURE
        runs = []
        for target in nsr.vnfr:
            if target.name not in targets:
                continue
            for vnfc in target.vnfcs():
                if vnfc.state != VnfcState.RUNNING:
                    continue
                calls = self.calls(nsd, nsr, target, vnfc, event, source_vnfc=source)
                runs.append(
                    self.scripts.run_event(
                        driver, target, vnfc, event, calls, ctx.op.record_script, again=True
                    )
                )
        raise_first(await settle(runs))

    async def run(
        self,
        ctx: OperationContext,
        driver: VimDriver,
        nsd: Nsd,
        vnfc: VnfcInstance,
        event: LifecycleEventType,
    ) -> None:
        """The scripts of ``event`` in one running VNFC (START, STOP), again if they ran."""
        vnfr = ctx.nsr.find_vnfc(vnfc.id)[0]
        if vnfc.state != VnfcState.RUNNING:
            return
        calls = self.calls(nsd, ctx.nsr, vnfr, vnfc, event)
        await self.scripts.run_event(
            driver, vnfr, vnfc, event, calls, ctx.op.record_script, again=True
        )

    async def peers_of(
        self,
        ctx: OperationContext,
        driver: VimDriver,
        nsd: Nsd,
        changed: VnfcInstance,
        event: LifecycleEventType,
    ) -> None:
        """``event`` (SCALE_OUT, SCALE_IN) in every other running VNFC of ``changed``'s VNF,
        each with ``changed``'s values under the event's prefix."""
        vnfr = ctx.nsr.find_vnfc(changed.id)[0]
        prefix = SCALED_PREFIX if event == LifecycleEventType.SCALE_OUT else REMOVING_PREFIX
        values = peer_values(changed, prefix)
        runs = []
        for vnfc in vnfr.vnfcs():
            if vnfc.id == changed.id or vnfc.state != VnfcState.RUNNING:
                continue
            calls = [
                ScriptCall(c.script, c.environment | values, c.secrets)
                for c in self.calls(nsd, ctx.nsr, vnfr, vnfc, event)
            ]
            runs.append(
                self.scripts.run_event(
                    driver, vnfr, vnfc, event, calls, ctx.op.record_script, again=True
                )
            )
        raise_first(await settle(runs))

    async def healed(
        self, ctx: OperationContext, driver: VimDriver, nsd: Nsd, vnfc: VnfcInstance, cause: str
    ) -> None:
        """HEAL in a VNFC healing brought back, with ``cause``: why it was healed."""
        vnfr = ctx.nsr.find_vnfc(vnfc.id)[0]
        if vnfc.state != VnfcState.RUNNING:
            return
        event = LifecycleEventType.HEAL
        calls = [
            ScriptCall(c.script, c.environment | {"cause": cause}, c.secrets)
            for c in self.calls(nsd, ctx.nsr, vnfr, vnfc, event)
        ]
        await self.scripts.run_event(
            driver, vnfr, vnfc, event, calls, ctx.op.record_script, again=True
        )

    async def terminate(self, ctx: OperationContext, driver: VimDriver, nsd: Nsd) -> list[str]:
        """TERMINATE in every running VNFC; the failures, which do not stop the removal.

        A VNF is removed whatever its scripts say: a failing TERMINATE script
        is kept on the occurrence and named in the step, never a reason to
        keep the containers.
        """
        vnfcs = [c for c in ctx.nsr.all_vnfcs() if c.state == VnfcState.RUNNING]
        results = await settle(
            [self.run(ctx, driver, nsd, c, LifecycleEventType.TERMINATE) for c in vnfcs]
        )
        failures = []
        for vnfc, result in zip(vnfcs, results, strict=True):
            if isinstance(result, NuboError):
                log.warning("script.terminate_failed vnfc=%s error=%s", vnfc.id, result.detail)
                failures.append(result.detail)
            elif isinstance(result, BaseException):
                raise result
        return failures
