"""Lifecycle scripts run inside a VNFC's container, as Open Baton's EMS runs them in a VM.

There is no EMS in a container (003 §3.5.2): the VNFM copies the scripts of
the VNF's package into the container (``SCRIPTS_DIR``) through the VIM's
exec capability and runs them there one after another, in the scripts'
folder, each with the variables the caller gives it (see
``nubo.nfvo.lifecycle``) over the container's own environment. A script
starting with ``#!`` runs with the interpreter it names, any other with
``/bin/sh``. Each run is kept on the operation occurrence; the first that
ends with a non-zero exit code stops the event with ``LifecycleScriptFailed``,
naming the script, its exit code and the tail of its output. An event whose
scripts all ran is noted on the VNFC (``scripts_done``), so a workflow run
again does not run them twice in the same container.
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from nubo.model.descriptors import LifecycleEventType, LifecycleScript
from nubo.model.errors import LifecycleScriptFailed
from nubo.model.records import ScriptRun, VnfcInstance, VnfRecord, mask, utcnow
from nubo.vim.port import VimDriver

log = logging.getLogger("nubo.vnfm")

#: where a VNFC's lifecycle scripts are put inside its container
SCRIPTS_DIR = "/opt/nubo/scripts"
#: characters of output an error names (the occurrence keeps more, see ``ScriptRun``)
ERROR_TAIL = 1000

RecordRun = Callable[[ScriptRun], None]


@dataclass(frozen=True)
class ScriptCall:
    """One run of a script, with the variables it gets."""

    script: LifecycleScript
    environment: dict[str, str] = field(default_factory=dict)
    #: values its output must not keep (the NS's secrets): masked before it is recorded
    secrets: frozenset[str] = frozenset()


def command_of(script: LifecycleScript) -> list[str]:
    """The command that runs ``script`` in ``SCRIPTS_DIR``: by its #! line, else with sh."""
    path = shlex.quote(f"./{script.name}")
    run = path if script.text.startswith("#!") else f"/bin/sh {path}"
    return ["/bin/sh", "-c", f"cd {shlex.quote(SCRIPTS_DIR)} && exec {run}"]


class LifecycleScripts:
    """Runs the scripts of one lifecycle event in one VNFC, bounded by ``timeout`` each."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout

    async def run_event(
        self,
        driver: VimDriver,
        vnfr: VnfRecord,
        vnfc: VnfcInstance,
        event: LifecycleEventType,
        calls: Sequence[ScriptCall],
        record: RecordRun,
        *,
        again: bool = False,
    ) -> None:
        """Run ``calls`` in order; ``again`` runs them even when the VNFC ran the event."""
        if not calls or (event.value in vnfc.scripts_done and not again):
            return
        scripts = {c.script.name: c.script.text.encode("utf-8") for c in calls}
        await driver.put_files(vnfc.vc_id, SCRIPTS_DIR, scripts)
        for call in calls:
            await self._run(driver, vnfr, vnfc, event, call, record)
        if event.value not in vnfc.scripts_done:
            vnfc.scripts_done.append(event.value)

    async def _run(
        self,
        driver: VimDriver,
        vnfr: VnfRecord,
        vnfc: VnfcInstance,
        event: LifecycleEventType,
        call: ScriptCall,
        record: RecordRun,
    ) -> None:
        name = call.script.name
        started = utcnow()
        result = await driver.exec_in_server(
            vnfc.vc_id, command_of(call.script), call.environment, self.timeout
        )
        output = mask(result.output, call.secrets)
        record(
            ScriptRun(
                vnf=vnfr.name,
                vnfc=vnfc.hostname,
                event=event.value,
                script=name,
                exit_code=result.exit_code,
                output=output,
                truncated=result.truncated,
                started_at=started,
            )
        )
        log.info(
            "script.ran vnf=%s vnfc=%s event=%s script=%s exit_code=%s",
            vnfr.name,
            vnfc.hostname,
            event.value,
            name,
            result.exit_code,
        )
        if result.exit_code != 0:
            tail = output[-ERROR_TAIL:]
            raise LifecycleScriptFailed(
                f"{event.value} script {name!r} of VNF {vnfr.name} failed in VNFC "
                f"{vnfc.hostname} with exit code {result.exit_code}"
                + (f"; its output ends: {tail.strip()}" if tail.strip() else ""),
                script=name,
                event=event.value,
                vnfc=vnfc.hostname,
                exit_code=result.exit_code,
                output_tail=tail,
            )
