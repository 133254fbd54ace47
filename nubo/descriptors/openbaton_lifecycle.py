"""Open Baton ``lifecycle_event`` scripts: which run, which cannot, and where they come from.

Open Baton's generic VNFM has its EMS run the scripts of a VNF package on
each VNFC at the lifecycle events that name them. nubo runs them inside the
VNFC's container (see ``nubo.vnfm.lifecycle``), so it needs their text: a
VNFD from an Open Baton VNF package carries the package's ``scripts/`` under
``nuboScripts`` (script name -> text), put there by the catalogue when an
NSD names the VNFD by id. Without it (a VNFD written inline, whose scripts
Open Baton would fetch from ``vnfPackageLocation``) the scripts are not run,
which is a warning; with it, a named script the package lacks is refused,
as is one nubo cannot run (an Ansible playbook, a Mistral workflow).
Scripts of events nubo does not go through (ERROR, RELEASE, SCALE_UP,
SCALE_DOWN) are warned about.
"""

from __future__ import annotations

from nubo.descriptors.fields import FieldReader, JsonObject
from nubo.descriptors.openbaton_keys import report_unused
from nubo.model.descriptors import RUN_EVENTS, LifecycleEvent, LifecycleEventType, LifecycleScript

__all__ = ["PACKAGE_SCRIPTS", "not_runnable", "read_lifecycle"]

#: the VNFD key under which the catalogue puts its VNF package's scripts
PACKAGE_SCRIPTS = "nuboScripts"
_EVENTS = ", ".join(e.value for e in LifecycleEventType)
_RUN = ", ".join(e.value for e in RUN_EVENTS)
#: implementations nubo cannot run in a container, by file name ending
_NOT_RUNNABLE = {
    ".yaml": "a YAML file (an Ansible playbook or a Mistral workflow)",
    ".yml": "a YAML file (an Ansible playbook or a Mistral workflow)",
    ".j2": "a Jinja template",
    ".jar": "a Java archive",
}


def not_runnable(name: str) -> str | None:
    """Why a script of that name cannot run as a lifecycle script, or None."""
    for ending, what in _NOT_RUNNABLE.items():
        if name.lower().endswith(ending):
            return (
                f"{name!r} is {what}: nubo runs scripts only, each executed in the VNFC's "
                "container (with the interpreter its #! line names, else /bin/sh); write a "
                "shell script that does the same"
            )
    return None


def read_lifecycle(
    r: FieldReader, raw: JsonObject, path: str
) -> tuple[tuple[LifecycleEvent, ...], tuple[LifecycleScript, ...]]:
    """The VNFD's lifecycle events and the package scripts they name."""
    package = _package_scripts(r, raw, path)
    events: list[LifecycleEvent] = []
    named: dict[str, str] = {}
    for where, item in r.objects(raw, "lifecycle_event", path):
        report_unused(r, item, where, "lifecycle_event")
        name = r.text(item, "event", where, required=True)
        scripts = r.strings(item, "lifecycle_events", where)
        try:
            event = LifecycleEventType(name)
        except ValueError:
            if name:
                r.report(
                    f"{where}.event",
                    f"unknown lifecycle event {name!r}: expected one of {_EVENTS}",
                )
            continue
        events.append(LifecycleEvent(event, tuple(s for _, s in scripts)))
        if scripts and event not in RUN_EVENTS:
            r.warn(
                where,
                f"{event.value} scripts are not run: nubo runs the scripts of {_RUN}",
            )
            continue
        for s_where, script in scripts:
            named.setdefault(script, s_where)
    if package is None:
        listed = "; ".join(
            f"{e.event}: {', '.join(e.scripts)}"
            for e in events
            if e.scripts and e.event in RUN_EVENTS
        )
        if listed:
            r.warn(
                f"{path}.lifecycle_event",
                f"lifecycle scripts are not run ({listed}): the VNFD is not from a "
                "VNF package nubo holds (vnfPackageLocation is not fetched); onboard its Open "
                "Baton VNF package (Metadata.yaml, vnfd.json, scripts/) and name the VNFD by "
                "id, or let the VDU's image do their work when its container starts",
            )
        return tuple(events), ()
    for script, where in named.items():
        reason = not_runnable(script)
        if reason:
            r.report(where, reason)
        elif script not in package:
            have = ", ".join(sorted(package)) or "no scripts"
            r.report(
                where,
                f"script {script!r} is not in the VNF package's scripts/ (it has {have}): "
                "add it to the package or remove it from the event",
            )
    return tuple(events), tuple(
        LifecycleScript(name, package[name]) for name in named if name in package
    )


def _package_scripts(r: FieldReader, raw: JsonObject, path: str) -> dict[str, str] | None:
    if PACKAGE_SCRIPTS not in raw:
        return None
    found: dict[str, str] = {}
    for name, text in r.obj(raw, PACKAGE_SCRIPTS, path).items():
        if isinstance(text, str):
            found[name] = text
        else:
            r.report(f"{path}.{PACKAGE_SCRIPTS}.{name}", "expected the script's text")
    return found
