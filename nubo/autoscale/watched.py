"""WatchedServices: the NSs the auto-scaler evaluates, as copies refreshed by revision.

A pass needs every ACTIVE (or SCALING) NS made from an NSD with policies.
Loading and validating each of those records on every pass costs in
proportion to the live NSs; instead one query gives the ids and revisions by
NSD, and only records whose revision moved since the copy held are loaded.
"""

from __future__ import annotations

from collections.abc import Collection

from nubo.model.descriptors import Nsd
from nubo.model.errors import NotFound
from nubo.model.records import NetworkServiceRecord
from nubo.model.states import NsStatus
from nubo.nfvo.service import NsService
from nubo.nfvo.workflows import NsdLoader

WATCHED_NS = frozenset({NsStatus.ACTIVE, NsStatus.SCALING})


class WatchedServices:
    """Copies of the NSs with auto-scaling policies, each with its parsed NSD."""

    def __init__(self, ns: NsService, load_nsd: NsdLoader) -> None:
        self.ns = ns
        self.load_nsd = load_nsd
        self._copies: dict[str, NetworkServiceRecord] = {}

    async def current(self, following: Collection[str]) -> list[tuple[NetworkServiceRecord, Nsd]]:
        """The watched NSs, and those of ``following`` (an action under way) whatever
        their status, oldest first; loads only what changed since the last call."""
        nsds: dict[str, Nsd] = {}
        revisions: dict[str, int] = {}
        for nsd_id, by_id in (await self.ns.revisions_by_nsd(WATCHED_NS)).items():
            nsd = await self.nsd_with_policies(nsd_id)
            if nsd is not None:
                nsds[nsd_id] = nsd
                revisions.update(by_id)
        stale = [
            nsr_id
            for nsr_id, revision in revisions.items()
            if nsr_id not in self._copies or self._copies[nsr_id].revision != revision
        ]
        # an NS under way may have left the watched statuses: always read it again
        stale += [nsr_id for nsr_id in following if nsr_id not in revisions]
        kept = {nsr_id: self._copies[nsr_id] for nsr_id in revisions if nsr_id in self._copies}
        for nsr in await self.ns.get_many(stale):
            kept[nsr.id] = nsr
        self._copies = kept
        found = []
        for nsr in sorted(kept.values(), key=lambda r: (r.created_at, r.id)):
            nsd = nsds.get(nsr.descriptor_reference) or await self.nsd_with_policies(
                nsr.descriptor_reference
            )
            if nsd is not None and (nsr.status in WATCHED_NS or nsr.id in following):
                found.append((nsr, nsd))
        return found

    async def nsd_with_policies(self, nsd_id: str) -> Nsd | None:
        try:
            nsd = await self.load_nsd(nsd_id)
        except NotFound:
            return None
        return nsd if any(vnfd.auto_scale_policies for vnfd in nsd.vnfds) else None
