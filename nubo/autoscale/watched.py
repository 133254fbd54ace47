"""WatchedServices: the NSs the auto-scaler evaluates, as copies refreshed by revision.

A pass needs every ACTIVE (or SCALING) NS made from an NSD with policies.
Loading and validating each of those records on every pass costs in
proportion to the live NSs; instead one query gives the ids and revisions by
NSD, and only records whose revision moved since the copy held are loaded.
That query still returns a row per NS: a pass first asks for the watched
NSs' fingerprint (``NsService.fingerprint``, one row), and compares the
revisions only when it moved, or every ``resync`` seconds in any case.
The pass is told which copies it got anew (``Watched.changed``): the other
NSs are as the previous pass saw them, and what is built from all of them
(their order, which NS owns a VNF, the policies' metrics) is built again only
when one came, changed or left.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from nubo.autoscale.tracks import metrics_of
from nubo.model.descriptors import Nsd
from nubo.model.errors import NotFound
from nubo.model.metrics import Metric
from nubo.model.records import NetworkServiceRecord
from nubo.model.states import NsStatus
from nubo.nfvo.service import NsService
from nubo.nfvo.workflows import NsdLoader

WATCHED_NS = frozenset({NsStatus.ACTIVE, NsStatus.SCALING})


@dataclass
class Watched:
    """The watched NSs as one pass sees them."""

    #: nsr id -> (record, its parsed NSD), oldest NS first
    services: dict[str, tuple[NetworkServiceRecord, Nsd]] = field(default_factory=dict)
    #: the NSs whose copy is new to this pass: just watched, or their revision moved
    changed: set[str] = field(default_factory=set)
    #: vnfr id -> nsr id, for every VNF of a watched NS
    owners: dict[str, str] = field(default_factory=dict)
    #: nsr id -> its place in ``services``
    order: dict[str, int] = field(default_factory=dict)
    #: the metrics the policies of the watched NSs' descriptors name
    metrics: frozenset[Metric] = frozenset()


class WatchedServices:
    """Copies of the NSs with auto-scaling policies, each with its parsed NSD."""

    def __init__(
        self,
        ns: NsService,
        load_nsd: NsdLoader,
        *,
        resync: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ns = ns
        self.load_nsd = load_nsd
        self.resync = resync
        self.clock = clock
        self._copies: dict[str, NetworkServiceRecord] = {}
        #: the revisions the copies were last compared with
        self._revisions: dict[str, int] = {}
        #: the fingerprint read before that comparison, and when to compare anyway
        self._fingerprint: tuple[int, int] | None = None
        self._compare_by = -math.inf
        self._view = Watched()

    async def current(self, following: Collection[str]) -> Watched:
        """The watched NSs, and those of ``following`` (an action under way) whatever
        their status; loads only what changed since the last call."""
        # read before the revisions: a write in between moves it for the next pass
        fingerprint = await self.ns.fingerprint(WATCHED_NS)
        now = self.clock()
        if (
            fingerprint == self._fingerprint
            and now < self._compare_by
            and all(nsr_id in self._revisions for nsr_id in following)
        ):
            self._view.changed = set()
            return self._view
        self._fingerprint, self._compare_by = fingerprint, now + self.resync
        nsds: dict[str, Nsd] = {}
        revisions: dict[str, int] = {}
        for nsd_id, by_id in (await self.ns.revisions_by_nsd(WATCHED_NS)).items():
            nsd = await self.nsd_with_policies(nsd_id)
            if nsd is not None:
                nsds[nsd_id] = nsd
                revisions.update(by_id)
        # an NS under way may have left the watched statuses: always read it again
        gone = [nsr_id for nsr_id in following if nsr_id not in revisions]
        if revisions == self._revisions and not gone:  # the common case, compared in C
            self._view.changed = set()
            return self._view
        # with an NS under way out of the watched statuses, the next pass compares again
        self._revisions = {} if gone else revisions
        stale = [
            nsr_id
            for nsr_id, revision in revisions.items()
            if nsr_id not in self._copies or self._copies[nsr_id].revision != revision
        ]
        stale += gone
        kept = {nsr_id: self._copies[nsr_id] for nsr_id in revisions if nsr_id in self._copies}
        loaded = await self.ns.get_many(stale)
        for nsr in loaded:
            kept[nsr.id] = nsr
        changed = {nsr.id for nsr in loaded}
        if changed or kept.keys() != self._copies.keys():
            self._view = await self._build(kept, nsds, following)
        self._copies = kept
        self._view.changed = changed
        return self._view

    async def _build(
        self,
        copies: dict[str, NetworkServiceRecord],
        nsds: dict[str, Nsd],
        following: Collection[str],
    ) -> Watched:
        view = Watched()
        for nsr in sorted(copies.values(), key=lambda r: (r.created_at, r.id)):
            nsd = nsds.get(nsr.descriptor_reference) or await self.nsd_with_policies(
                nsr.descriptor_reference
            )
            if nsd is not None and (nsr.status in WATCHED_NS or nsr.id in following):
                view.order[nsr.id] = len(view.services)
                view.services[nsr.id] = (nsr, nsd)
                view.owners.update((vnfr.id, nsr.id) for vnfr in nsr.vnfr)
        parsed = {id(nsd): nsd for _, nsd in view.services.values()}  # one NSD serves many NSs
        view.metrics = frozenset(
            m
            for nsd in parsed.values()
            for vnfd in nsd.vnfds
            for m in metrics_of(vnfd.auto_scale_policies)
        )
        return view

    async def nsd_with_policies(self, nsd_id: str) -> Nsd | None:
        try:
            nsd = await self.load_nsd(nsd_id)
        except NotFound:
            return None
        return nsd if any(vnfd.auto_scale_policies for vnfd in nsd.vnfds) else None
