"""Which keys of each Open Baton object nubo reads, and why it leaves the others.

Open Baton documents carry much that a container orchestrator has no use for
(VM flavours, forwarding graphs, monitoring parameters of Zabbix...). None of
it is refused, since Open Baton accepts it, but none of it is dropped
silently either: every key that is not read is reported as a warning at its
path, with the reason when nubo knows the key, or with the nearest key it
reads when it does not (a typo of ``scale_in_out`` should not go unseen).

Open Baton's own bookkeeping (``id``, ``hb_version``, ``projectId``,
``shared``...), which it adds to every object it exports, says nothing about
the service and is passed over without a warning.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from nubo.descriptors.fields import FieldReader, JsonObject

__all__ = ["report_unused"]

_BOOKKEEPING = frozenset(
    {"id", "hb_version", "projectId", "shared", "createdAt", "updatedAt", "@class", "enabled"}
)

_VM_ONLY = "describes a virtual machine; containers have no such resources, so it is not used"
_MONITORING = (
    "monitoring parameters are not collected; nubo samples each VNFC's CPU, memory and "
    "network itself (auto_scale_policy alarms name those metrics)"
)
_FAULTS = "not applied: nubo heals VNFCs by the VNFD's heal_policy (restart, then recreate)"


@dataclass(frozen=True)
class _Keys:
    """The keys nubo reads from one kind of object, and reasons for some it does not."""

    read: frozenset[str]
    unused: dict[str, str] = field(default_factory=dict)


_KINDS: dict[str, _Keys] = {
    "nsd": _Keys(
        frozenset({"name", "vendor", "version", "vld", "vnfd", "vnf_dependency"}),
        {
            "vnffgd": (
                "forwarding graphs are not built; traffic goes over the virtual links directly"
            ),
            "pnfd": "physical network functions are not managed",
            "nsd_security": "not applied",
            "monitoring_parameter": _MONITORING,
            "auto_scale_policy": "NS-level policies are not applied; put them on a VNFD",
            "service_deployment_flavour": "one deployment flavour per NS only; not used",
        },
    ),
    "vld": _Keys(
        frozenset({"name", "qos"}),
        {
            "connectivity_type": "every virtual link is a Docker network; not used",
            "root_requirements": _VM_ONLY,
            "leaf_requirement": _VM_ONLY,
        },
    ),
    "vnfd": _Keys(
        frozenset(
            {
                "name",
                "type",
                "vendor",
                "version",
                "endpoint",
                "vdu",
                "virtual_link",
                "configurations",
                "lifecycle_event",
                "deployment_flavour",
                "auto_scale_policy",
                "vnfPackageLocation",
                "heal_policy",
                "requires",
                "provides",
                "nuboScripts",
            }
        ),
        {
            "monitoring_parameter": _MONITORING,
            "fault_management_policy": _FAULTS,
            "connection_point": "VNFCs connect through their VDU's vnfc connection points",
            "vdu_dependency": "the VDUs of a VNF start together; not used",
            "manifest_file": "not used",
            "descriptor_version": "not used",
        },
    ),
    "vdu": _Keys(
        frozenset({"name", "vm_image", "scale_in_out", "vnfc", "vimInstanceName"}),
        {
            "computation_requirement": _VM_ONLY,
            "vdu_constraint": _VM_ONLY,
            "high_availability": "not applied: nubo heals by the VNFD's heal_policy",
            "monitoring_parameter": _MONITORING,
            "fault_management_policy": _FAULTS,
            "metadata": "not used",
        },
    ),
    "vnfc": _Keys(frozenset({"connection_point"})),
    "connection_point": _Keys(
        frozenset({"virtual_link_reference"}),
        {
            "floatingIp": (
                "containers get no floating IPs; a VNFC is reached at its address on the link"
            )
        },
    ),
    "virtual_link": _Keys(frozenset({"name"})),
    "configurations": _Keys(frozenset({"name", "configurationParameters"})),
    "configurationParameters": _Keys(frozenset({"confKey", "value", "description", "secret"})),
    "lifecycle_event": _Keys(frozenset({"event", "lifecycle_events"})),
    "deployment_flavour": _Keys(
        frozenset({"flavour_key"}), {"df_constraint": _VM_ONLY, "ram": _VM_ONLY}
    ),
    "auto_scale_policy": _Keys(
        frozenset(
            {
                "name",
                "threshold",
                "comparisonOperator",
                "period",
                "cooldown",
                "mode",
                "type",
                "alarms",
                "actions",
            }
        )
    ),
    "alarms": _Keys(
        frozenset({"metric", "statistic", "comparisonOperator", "threshold", "weight"})
    ),
    "actions": _Keys(
        frozenset({"type", "value"}),
        {"target": "not read: a policy always scales the VNF it belongs to"},
    ),
    "vnf_dependency": _Keys(frozenset({"source", "target", "parameters"})),
}


def report_unused(r: FieldReader, obj: JsonObject, path: str, kind: str) -> None:
    """Warn, at its path, about every key of ``obj`` that nubo does not read."""
    keys = _KINDS[kind]
    for key in obj:
        if key in keys.read or key in _BOOKKEEPING:
            continue
        where = f"{path}.{key}"
        reason = keys.unused.get(key)
        if reason is not None:
            r.warn(where, reason)
            continue
        close = difflib.get_close_matches(key, sorted(keys.read), n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        r.warn(where, f"unknown key {key!r}: nubo does not read it, so it has no effect{hint}")
