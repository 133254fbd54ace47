"""``NsdCatalogue``: onboard, list, show and delete network service descriptors.

The catalogue keeps the document exactly as the user sent it, so that a later
parser version can re-read it and a user can download what they uploaded. The
parser is injected (one per descriptor format) rather than imported: the
catalogue does not care which format it stores, and tests can stand in a tiny
one.
"""

from __future__ import annotations

import builtins
import copy
import json
import logging
from collections.abc import Callable
from typing import Any

from nubo.model.catalogue import NsdEntry
from nubo.model.descriptors import Nsd
from nubo.model.errors import Conflict, FieldProblem, InvalidDescriptor
from nubo.model.ids import new_id
from nubo.store.port import Store

log = logging.getLogger(__name__)

#: turns a decoded descriptor into an ``Nsd``; raises ``InvalidDescriptor`` listing every problem
NsdParser = Callable[[dict[str, Any]], Nsd]


class NsdCatalogue:
    """Network service descriptors: validated at onboarding, refused deletion while in use."""

    def __init__(self, store: Store, parse: NsdParser, *, descriptor_format: str = "openbaton"):
        self._store = store
        self._parse = parse
        self._format = descriptor_format
        # Parsed descriptors by NSD id. An entry's body never changes after
        # onboarding, so a cached parse stays valid until the NSD is deleted.
        self._parsed: dict[str, Nsd] = {}

    async def onboard(self, document: dict[str, Any] | str | bytes) -> NsdEntry:
        """Validate and store a descriptor; nothing is stored when it is invalid."""
        body = decode_document(document)
        # The parser gets its own copy so that whatever it does to its input,
        # the stored body stays the document the user sent.
        nsd = self._parse(copy.deepcopy(body))
        entry = NsdEntry(
            id=new_id(),
            name=nsd.name,
            vendor=nsd.vendor,
            version=nsd.version,
            format=self._format,
            body=body,
        )
        await self._store.add_nsd(entry)
        self._parsed[entry.id] = nsd
        log.info("nsd.onboarded nsd_id=%s name=%s version=%s", entry.id, nsd.name, nsd.version)
        return entry

    async def list(self) -> builtins.list[NsdEntry]:
        return await self._store.list_nsds()

    async def get(self, nsd_id: str) -> NsdEntry:
        """The entry; ``NotFound`` naming the id when there is none."""
        return await self._store.get_nsd(nsd_id)

    async def parsed(self, nsd_id: str) -> Nsd:
        """The descriptor of an onboarded NSD as model objects."""
        cached = self._parsed.get(nsd_id)
        if cached is not None:
            return cached
        entry = await self._store.get_nsd(nsd_id)
        nsd = self._parse(copy.deepcopy(entry.body))
        self._parsed[nsd_id] = nsd
        return nsd

    async def delete(self, nsd_id: str) -> None:
        """Delete an NSD; ``Conflict`` naming the NSRs when running services still use it."""
        await self._store.get_nsd(nsd_id)
        users = await self._store.nsrs_using_nsd(nsd_id)
        if users:
            nsr_ids = [nsr.id for nsr in users]
            raise Conflict(
                f"NSD {nsd_id} is used by network service records {', '.join(nsr_ids)}; "
                "terminate them first",
                nsd_id=nsd_id,
                nsr_ids=nsr_ids,
            )
        self._parsed.pop(nsd_id, None)
        await self._store.delete_nsd(nsd_id)
        log.info("nsd.deleted nsd_id=%s", nsd_id)


def decode_document(document: dict[str, Any] | str | bytes) -> dict[str, Any]:
    """The descriptor as a JSON object; ``InvalidDescriptor`` at path ``$`` when it is not one."""
    if isinstance(document, dict):
        return copy.deepcopy(document)
    if isinstance(document, bytes):
        try:
            document = document.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise _invalid(f"not UTF-8 text: {exc.reason} at byte {exc.start}") from exc
    try:
        decoded = json.loads(document)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno} (char {exc.pos})"
        raise _invalid(f"malformed JSON: {exc.msg} at {where}") from exc
    if not isinstance(decoded, dict):
        kind = _JSON_KINDS.get(type(decoded), type(decoded).__name__)
        raise _invalid(f"expected a JSON object, got {kind}")
    return decoded


# Users write JSON, so name what they sent in JSON's words, not Python's.
_JSON_KINDS: dict[type, str] = {
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "a boolean",
    type(None): "null",
}


def _invalid(message: str) -> InvalidDescriptor:
    return InvalidDescriptor([FieldProblem(path="$", message=message)])
