"""SOL001 ``Vnflcm`` operations implemented by scripts of the package, as lifecycle events.

A VNFD gives the VNF's lifecycle operations on the VNF node, each naming its
implementation: an artifact of the node (``{type, file}``) or a file,
relative to the VNFD as imports are. nubo runs those it can inside every
VNFC of the VNF, as it runs an Open Baton package's scripts (see
``nubo.nfvo.lifecycle``): ``instantiate_start``, ``instantiate`` and
``instantiate_end`` as the INSTANTIATE, CONFIGURE and START events once
the VNF's VNFCs run (``instantiate`` gets the dependency values, and runs
again when a source scales out), ``terminate_start`` and ``terminate``
before the VNF is removed. An implementation must be a script of the
package: ``tosca.artifacts.Implementation.Bash``, or ``...Python`` with a
``#!`` line (it runs in the container, by that line). What nubo cannot run
is refused with the reason, at the operation: a Mistral workflow, an
Ansible playbook, a file the package lacks or one it would have to fetch.
Implementations of other operations (scale, heal, modify_information...)
are warned about: nubo does not go through them.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING, Any

from nubo.model.descriptors import LifecycleEvent, LifecycleEventType, LifecycleScript

if TYPE_CHECKING:
    from nubo.descriptors.tosca_vnfd import _VnfdReader

__all__ = ["OPERATION_EVENTS", "VNFLCM", "read_operations"]

VNFLCM = "Vnflcm"
_NODES = "topology_template.node_templates"
BASH = "tosca.artifacts.Implementation.Bash"
PYTHON = "tosca.artifacts.Implementation.Python"
MISTRAL = "tosca.artifacts.Implementation.nfv.Mistral"
#: the Vnflcm operations nubo runs, in the order it runs them, and as which event
OPERATION_EVENTS: dict[str, LifecycleEventType] = {
    "instantiate_start": LifecycleEventType.INSTANTIATE,
    "instantiate": LifecycleEventType.CONFIGURE,
    "instantiate_end": LifecycleEventType.START,
    "terminate_start": LifecycleEventType.TERMINATE,
    "terminate": LifecycleEventType.TERMINATE,
}
_BY_EXTENSION = {".sh": BASH, ".bash": BASH, ".py": PYTHON, ".yaml": MISTRAL, ".yml": MISTRAL}
_RUN = ", ".join(OPERATION_EVENTS)
_RANK = {operation: rank for rank, operation in enumerate(OPERATION_EVENTS)}


def read_operations(
    reader: _VnfdReader,
) -> tuple[tuple[LifecycleEvent, ...], tuple[LifecycleScript, ...], set[str]]:
    """The VNF's lifecycle events, their scripts, and the artifact keys they use."""
    node = reader.nodes.get(reader.vnf_node) if reader.vnf_node else None
    interfaces = node.get("interfaces") if isinstance(node, dict) else None
    lcm = interfaces.get(VNFLCM) if isinstance(interfaces, dict) else None
    listed = lcm.get("operations", lcm) if isinstance(lcm, dict) else {}
    path = f"{_NODES}.{reader.vnf_node}.interfaces.{VNFLCM}"
    scripts: dict[str, LifecycleScript] = {}
    by_event: dict[LifecycleEventType, list[str]] = {}
    used: set[str] = set()
    ignored: list[str] = []
    given = listed if isinstance(listed, dict) else {}
    # run in nubo's order (start before end), whatever order the VNFD lists them in
    ordered = sorted(given.items(), key=lambda item: _RANK.get(str(item[0]), len(_RANK)))
    for operation, definition in ordered:
        where = f"{path}.{operation}"
        primary = _primary(definition)
        if primary is None:
            continue
        if operation not in OPERATION_EVENTS:
            ignored.append(str(operation))
            continue
        if isinstance(definition, dict) and definition.get("inputs"):
            reader.r.warn(
                reader.at(f"{where}.inputs"),
                "operation inputs are not passed to the script: it gets the VNF's "
                "configurable properties, hostname and addresses as environment variables",
            )
        script = _script(reader, where, primary, used)
        if script is None:
            continue
        if script.name in scripts and scripts[script.name].text != script.text:
            reader.report(where, f"another implementation is already named {script.name!r}")
            continue
        scripts[script.name] = script
        by_event.setdefault(OPERATION_EVENTS[str(operation)], []).append(script.name)
    if ignored:
        reader.r.warn(
            reader.at(path),
            f"lifecycle operations are not run ({', '.join(ignored)}): nubo runs the "
            f"implementations of {_RUN} only",
        )
    events = tuple(LifecycleEvent(event, tuple(names)) for event, names in by_event.items())
    return events, tuple(scripts.values()), used


def _primary(definition: Any) -> str | None:
    """The implementation an operation names (its primary), or None when it has none."""
    implementation = definition.get("implementation") if isinstance(definition, dict) else None
    if isinstance(definition, str):
        implementation = definition
    if isinstance(implementation, dict):
        implementation = implementation.get("primary")
    if isinstance(implementation, str) and implementation.strip():
        return implementation.strip()
    return None


def _artifact(reader: _VnfdReader, name: str) -> tuple[str, dict[str, Any]] | None:
    """(node, definition) of the artifact called ``name``: the VNF node's first, then any."""
    order = [reader.vnf_node, *(n for n in reader.nodes if n != reader.vnf_node)]
    for node_name in order:
        node = reader.nodes.get(node_name)
        artifacts = node.get("artifacts") if isinstance(node, dict) else None
        found = artifacts.get(name) if isinstance(artifacts, dict) else None
        if isinstance(found, dict):
            return str(node_name), found
    return None


def _kind(reader: _VnfdReader, artifact_type: str) -> str:
    for known in (BASH, PYTHON, MISTRAL):
        if artifact_type == known or reader.index.is_a("artifact_types", artifact_type, known):
            return known
    return artifact_type


def _script(
    reader: _VnfdReader, where: str, primary: str, used: set[str]
) -> LifecycleScript | None:
    found = _artifact(reader, primary)
    if found is not None:
        node_name, artifact = found
        used.add(f"{node_name}.{primary}")
        reference = artifact.get("file")
        artifact_type = artifact.get("type")
        kind = _kind(reader, artifact_type) if isinstance(artifact_type, str) else ""
        at = f"{_NODES}.{node_name}.artifacts.{primary}"
        if artifact.get("repository"):
            reader.report(f"{at}.repository", _not_fetched(str(reference)))
            return None
    else:
        reference = primary
        kind = _BY_EXTENSION.get(posixpath.splitext(primary)[1].lower(), "")
        at = where
    if not isinstance(reference, str) or not reference.strip():
        reader.report(f"{at}.file", "required: the script, relative to this VNFD")
        return None
    reason = _not_runnable(kind, reference)
    if reason:
        reader.report(where, reason)
        return None
    if "://" in reference or reference.startswith("/"):
        reader.report(where, _not_fetched(reference))
        return None
    name, text = reader.sources.artifact(reader.file.name, reference)
    if text is None:
        reader.report(
            where,
            f"cannot read the implementation {reference!r}: no file {name} in the package "
            "(the path is relative to this VNFD, as imports are)",
        )
        return None
    if kind == PYTHON and not text.startswith("#!"):
        reader.report(
            where,
            f"{reference!r} is Python without a #! line: nubo runs an implementation inside "
            "the VNFC's container by its #! line (#!/usr/bin/env python3), else with /bin/sh",
        )
        return None
    return LifecycleScript(posixpath.basename(name), text)


def _not_runnable(kind: str, reference: str) -> str | None:
    if kind == MISTRAL:
        return (
            f"{reference!r} is a Mistral workflow: nubo has no workflow engine; it runs "
            f"scripts ({BASH}) inside the VNFC's container"
        )
    if "ansible" in kind.lower():
        return (
            f"{reference!r} is an Ansible playbook, which runs against VMs over SSH: nubo "
            f"runs scripts ({BASH}) inside the VNFC's container"
        )
    if kind not in (BASH, PYTHON):
        what = f"of type {kind!r}" if kind else "of no known script type"
        return (
            f"{reference!r} is an implementation {what}: nubo runs scripts inside the VNFC's "
            f"container, {BASH} (or {PYTHON} with a #! line)"
        )
    return None


def _not_fetched(reference: str) -> str:
    return (
        f"{reference!r}: nubo reads implementations from the package only; put the script in "
        "it and give its path relative to this VNFD (../Scripts/install.sh for a VNFD in "
        "Definitions/)"
    )
