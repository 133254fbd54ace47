"""VNFDs an Open Baton NSD gives by reference: ``"vnfd": [{"id": "..."}]``.

Open Baton keeps every VNFD it onboards in its VNF catalogue, whether it came
inline in an NSD or in a VNF package, and an NSD may name one of them by id
instead of writing it out. nubo's catalogue does the same with the VNFDs of
enabled Open Baton VNF packages and those that onboarded Open Baton NSDs
carry inline with an ``id``: the catalogue finds the referenced ones (for
NSDs, ``vnfds_by_id``), stores them with the NSD that uses them and
substitutes them (``with_references``) before the NSD is parsed, so the NSD
reads the same for as long as it exists, whatever later happens to where the
VNFD came from. A reference left unresolved is a problem at its ``id``,
naming it.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from nubo.descriptors.fields import JsonObject

__all__ = [
    "is_reference",
    "referenced_ids",
    "unresolved_reference",
    "vnfds_by_id",
    "with_references",
]


def is_reference(vnfd: JsonObject) -> bool:
    """A VNFD item that names a catalogue VNFD by id instead of describing one."""
    return isinstance(vnfd.get("id"), str) and "vdu" not in vnfd and "name" not in vnfd


def referenced_ids(body: JsonObject) -> list[str]:
    """The ids of the VNFDs the NSD gives by reference, in order."""
    items = body.get("vnfd")
    if not isinstance(items, list):
        return []
    return [item["id"] for item in items if isinstance(item, dict) and is_reference(item)]


def vnfds_by_id(bodies: Iterable[JsonObject], wanted: Iterable[str]) -> dict[str, JsonObject]:
    """The inline VNFDs with one of the ``wanted`` ids among onboarded NSD ``bodies``.

    The first one onboarded wins when two NSDs carry VNFDs of the same id.
    """
    remaining = set(wanted)
    found: dict[str, JsonObject] = {}
    for body in bodies:
        items = body.get("vnfd")
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict) or is_reference(item):
                continue
            vnfd_id = item.get("id")
            if isinstance(vnfd_id, str) and vnfd_id in remaining:
                found[vnfd_id] = copy.deepcopy(item)
                remaining.discard(vnfd_id)
    return found


def with_references(body: JsonObject, vnfds: Mapping[str, Any]) -> JsonObject:
    """A copy of the NSD with every reference to one of ``vnfds`` replaced by the VNFD."""
    expanded = copy.deepcopy(body)
    items = expanded.get("vnfd")
    if isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict) and is_reference(item) and item["id"] in vnfds:
                items[index] = copy.deepcopy(vnfds[item["id"]])
    return expanded


def unresolved_reference(item: JsonObject) -> str:
    """The problem of a reference the catalogue had no VNFD for."""
    return (
        f"VNFD {item['id']!r} is given by reference, but the catalogue has no VNFD with "
        "that id: onboard its Open Baton VNF package (Metadata.yaml, vnfd.json) or an NSD "
        "that carries it inline (with that id) first, or write the VNFD here in full"
    )
