"""``SqlNsRecordRepository``: NS records with their VNFC and virtual link index.

An NSR is saved whole (it is an aggregate), under the NS's lease, with a
compare-and-set on the revision it was read at. Its VNFCs and virtual links
are copied into rows of their own (``vnfc_instances``, ``virtual_links``) in
the same transaction, so the loops can ask which VNFC runs where, or which NS
is in which status, without loading any NSR.

``write_nsr`` is the row writer on an open connection: the operation
repository calls it too, for the transactions that write an NSR together
with the occurrence changing it, so that both share one memory of the index
rows this process wrote (``_IndexedRevisions``).
"""

from __future__ import annotations

import functools
import random
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Select, bindparam, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.model.errors import NotFound
from nubo.model.records import NetworkServiceRecord, VnfcLocation
from nubo.model.states import NsStatus, VnfcState
from nubo.model.tenancy import SYSTEM, Scope
from nubo.store.database import Database
from nubo.store.rows import (
    compare_and_set,
    delete_row,
    in_scope,
    read_bodies,
    read_body,
    to_utc,
    versioned,
)
from nubo.store.tables import nsrs, virtual_links, vnfc_instances

#: an NSR's VNFC rows and virtual link rows, without the NSR id
IndexRows = tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]


#: each state by its stored value (a dict lookup costs less than the enum's own)
_NS_STATUSES = {status.value: status for status in NsStatus}
_VNFC_STATES = {state.value: state for state in VnfcState}


@functools.lru_cache(maxsize=16)
def _revisions_query(statuses: tuple[str, ...]) -> Select[Any]:
    """NSD id, id and version of the NSs in ``statuses``, oldest first (built once)."""
    return (
        select(nsrs.c.nsd_id, nsrs.c.id, nsrs.c.version)
        .where(nsrs.c.status.in_(statuses))
        .order_by(nsrs.c.created_at, nsrs.c.id)
    )


#: stamps need no secrecy, only to differ (see ``nsr_fingerprint``)
_stamps = random.Random()


@functools.lru_cache(maxsize=16)
def _fingerprint_query(statuses: tuple[str, ...]) -> Select[Any]:
    return select(func.count(), func.coalesce(func.sum(nsrs.c.stamp), 0)).where(
        nsrs.c.status.in_(statuses)
    )


class SqlNsRecordRepository:
    """The ``NsRecordRepository`` port; one transaction per call."""

    def __init__(self, database: Database) -> None:
        self._engine = database.engine
        self._indexed = _IndexedRevisions()

    async def save_nsr(self, nsr: NetworkServiceRecord) -> None:
        """Insert a new NSR (revision 0) or update the revision it was read at."""
        async with self._engine.begin() as conn:
            revision, parts = await self.write_nsr(conn, nsr)
        self.written(nsr.id, revision, parts)
        nsr.revision = revision

    async def write_nsr(
        self, conn: AsyncConnection, nsr: NetworkServiceRecord
    ) -> tuple[int, IndexRows]:
        """Write the NSR row, and its index rows unless they are unchanged, in the caller's
        transaction; the new revision and the rows, for ``written`` after the commit."""
        parts = _index_parts(nsr)
        known = self._indexed.rows_at(nsr.id, nsr.revision)
        revision = await _write_nsr_row(conn, nsr)
        if nsr.revision == 0:  # an insert: no index rows to replace
            await _rewrite_index(conn, nsr.id, parts, replace=False)
        elif known is None:
            await _rewrite_index(conn, nsr.id, parts)
        elif known != parts:
            await _update_index(conn, nsr.id, known, parts)
        return revision, parts

    def written(self, nsr_id: str, revision: int, parts: IndexRows) -> None:
        """Call once the transaction of ``write_nsr`` has committed."""
        self._indexed.remember(nsr_id, revision, parts)

    async def get_nsr(self, nsr_id: str, scope: Scope = SYSTEM) -> NetworkServiceRecord:
        return await read_body(
            self._engine, nsrs, nsr_id, NetworkServiceRecord, "NSR", "nsr_id", scope
        )

    async def list_nsrs(
        self, include_terminated: bool = True, scope: Scope = SYSTEM
    ) -> list[NetworkServiceRecord]:
        query = in_scope(versioned(nsrs).order_by(nsrs.c.created_at, nsrs.c.id), nsrs, scope)
        if not include_terminated:
            query = query.where(nsrs.c.status != NsStatus.TERMINATED.value)
        return await read_bodies(self._engine, query, NetworkServiceRecord)

    async def nsrs_using_nsd(self, nsd_id: str) -> list[NetworkServiceRecord]:
        """NSRs of that NSD whose status is not TERMINATED."""
        query = (
            versioned(nsrs)
            .where(nsrs.c.nsd_id == nsd_id, nsrs.c.status != NsStatus.TERMINATED.value)
            .order_by(nsrs.c.created_at, nsrs.c.id)
        )
        return await read_bodies(self._engine, query, NetworkServiceRecord)

    async def delete_nsr(self, nsr_id: str) -> None:
        """Remove the NSR; raise ``NotFound`` when there is none. Its operations stay as history."""
        async with self._engine.begin() as conn:
            deleted = await delete_row(conn, nsrs, nsr_id)
            await conn.execute(delete(vnfc_instances).where(vnfc_instances.c.nsr_id == nsr_id))
            await conn.execute(delete(virtual_links).where(virtual_links.c.nsr_id == nsr_id))
        if not deleted:
            raise NotFound(f"NSR {nsr_id} not found", nsr_id=nsr_id)

    async def vnfc_locations(
        self,
        *,
        vim_id: str | None = None,
        ns_statuses: Iterable[NsStatus] | None = None,
        nsr_ids: Iterable[str] | None = None,
        states: Iterable[VnfcState] | None = None,
        vc_id: str | None = None,
    ) -> list[VnfcLocation]:
        """VNFCs (of NSs in ``ns_statuses``, on ``vim_id``) from the index; no NSR is loaded."""
        query = select(
            vnfc_instances.c.nsr_id,
            nsrs.c.status,
            vnfc_instances.c.vnfr_id,
            vnfc_instances.c.id,
            vnfc_instances.c.vim_id,
            vnfc_instances.c.vc_id,
            vnfc_instances.c.state,
        ).join(nsrs, nsrs.c.id == vnfc_instances.c.nsr_id)
        if vim_id is not None:
            query = query.where(vnfc_instances.c.vim_id == vim_id)
        if ns_statuses is not None:
            query = query.where(nsrs.c.status.in_(sorted(s.value for s in ns_statuses)))
        if nsr_ids is not None:
            query = query.where(vnfc_instances.c.nsr_id.in_(sorted(set(nsr_ids))))
        if states is not None:
            query = query.where(vnfc_instances.c.state.in_(sorted(s.value for s in states)))
        if vc_id is not None:
            query = query.where(vnfc_instances.c.vc_id == vc_id)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        ns_status, state = _NS_STATUSES, _VNFC_STATES
        return [
            VnfcLocation(r[0], ns_status[r[1]], r[2], r[3], r[4], r[5], state[r[6]]) for r in rows
        ]

    async def vnfc_on_server(self, vim_id: str, vc_id: str) -> VnfcLocation | None:
        """The VNFC whose server on ``vim_id`` is ``vc_id`` (which NS owns a container)."""
        found = await self.vnfc_locations(vim_id=vim_id, vc_id=vc_id)
        return found[0] if found else None

    async def nsr_revisions_by_nsd(
        self, ns_statuses: Iterable[NsStatus]
    ) -> dict[str, dict[str, int]]:
        """The revision of each NS in ``ns_statuses``, by the NSD it was made from (one
        query): a reader holding copies reloads only the NSs whose revision moved."""
        statuses = tuple(sorted(s.value for s in ns_statuses))
        query = _revisions_query(statuses)
        async with self._engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        found: dict[str, dict[str, int]] = {}
        for row in rows:  # asked every second: one fetch, no per-row attribute lookups
            by_id = found.get(row[0])
            if by_id is None:
                by_id = found[row[0]] = {}
            by_id[row[1]] = row[2]
        return found

    async def nsr_fingerprint(self, ns_statuses: Iterable[NsStatus]) -> tuple[int, int]:
        """The count and the sum of the stamps of the NSs in ``ns_statuses``.

        Every write gives a row a new random stamp, so the pair moves when one
        of these NSs is written or one enters or leaves the statuses; that two
        changes cancel out (a leaving and an entering NS with equal stamps)
        has a chance of 2**-31, and readers still compare in full now and then.
        """
        statuses = tuple(sorted(s.value for s in ns_statuses))
        async with self._engine.connect() as conn:
            count, total = (await conn.execute(_fingerprint_query(statuses))).one()
        return int(count), int(total)

    async def nsrs_with_ids(self, nsr_ids: Iterable[str]) -> list[NetworkServiceRecord]:
        """The NSRs of ``nsr_ids`` that exist, oldest first."""
        wanted = sorted(set(nsr_ids))
        if not wanted:
            return []
        query = versioned(nsrs).where(nsrs.c.id.in_(wanted)).order_by(nsrs.c.created_at, nsrs.c.id)
        return await read_bodies(self._engine, query, NetworkServiceRecord)

    async def ns_statuses(self, nsr_ids: Iterable[str] | None = None) -> dict[str, NsStatus]:
        """The status of each NS (of ``nsr_ids``, or all), from one column."""
        query = select(nsrs.c.id, nsrs.c.status)
        if nsr_ids is not None:
            query = query.where(nsrs.c.id.in_(sorted(set(nsr_ids))))
        async with self._engine.connect() as conn:
            return {row.id: NsStatus(row.status) for row in await conn.execute(query)}


async def _write_nsr_row(conn: AsyncConnection, nsr: NetworkServiceRecord) -> int:
    values = {
        "project_id": nsr.project_id,
        "nsd_id": nsr.descriptor_reference,
        "name": nsr.name,
        "status": nsr.status.value,
        "body": nsr.model_dump(mode="json", exclude={"revision"}),
        "created_at": to_utc(nsr.created_at),
        "updated_at": to_utc(nsr.updated_at),
        "stamp": _stamps.getrandbits(31),
    }
    return await compare_and_set(conn, nsrs, nsr.id, nsr.revision, values, "NSR")


def _index_parts(nsr: NetworkServiceRecord) -> IndexRows:
    """The NSR's rows in the VNFC and virtual link index."""
    vnfcs = tuple(
        (
            vnfc.id,
            vnfr.id,
            vdu.id,
            vnfc.hostname,
            vnfc.vim_id or nsr.vim_id,
            vnfc.vc_id,
            vnfc.state.value,
        )
        for vnfr in nsr.vnfr
        for vdu in vnfr.vdu
        for vnfc in vdu.vnfc_instance
    )
    links = tuple((v.name, v.vim_network_id, v.cidr) for v in nsr.vlr)
    return vnfcs, links


async def _rewrite_index(
    conn: AsyncConnection, nsr_id: str, parts: IndexRows, *, replace: bool = True
) -> None:
    """Write the NSR's VNFC and virtual link rows (same transaction as the NSR), replacing
    the ones it had unless the NSR is new."""
    vnfcs, links = parts
    if replace:
        await conn.execute(delete(vnfc_instances).where(vnfc_instances.c.nsr_id == nsr_id))
        await conn.execute(delete(virtual_links).where(virtual_links.c.nsr_id == nsr_id))
    await _insert_vnfcs(conn, nsr_id, vnfcs)
    await _insert_links(conn, nsr_id, links)


async def _insert_vnfcs(
    conn: AsyncConnection, nsr_id: str, vnfcs: Iterable[tuple[str, ...]]
) -> None:
    rows = [dict(zip(_VNFC_COLUMNS, (nsr_id, *row), strict=True)) for row in vnfcs]
    if rows:
        await conn.execute(insert(vnfc_instances), rows)


async def _insert_links(
    conn: AsyncConnection, nsr_id: str, links: Iterable[tuple[str, ...]]
) -> None:
    rows = [dict(zip(_LINK_COLUMNS, (nsr_id, *row), strict=True)) for row in links]
    if rows:
        await conn.execute(insert(virtual_links), rows)


async def _update_index(conn: AsyncConnection, nsr_id: str, old: IndexRows, new: IndexRows) -> None:
    """Change the index rows from ``old`` (what the index holds) to ``new``: a step of
    an operation changes one VNFC's state or server, not the whole NSR's rows."""
    (old_vnfcs, old_links), (vnfcs, links) = old, new
    if links != old_links:
        await conn.execute(delete(virtual_links).where(virtual_links.c.nsr_id == nsr_id))
        await _insert_links(conn, nsr_id, links)
    before = {row[0]: row for row in old_vnfcs}
    after = {row[0]: row for row in vnfcs}
    gone = sorted(before.keys() - after.keys())
    if gone:
        t = vnfc_instances
        await conn.execute(delete(t).where(t.c.nsr_id == nsr_id, t.c.id.in_(gone)))
    await _insert_vnfcs(conn, nsr_id, [row for key, row in after.items() if key not in before])
    changed = [row for key, row in after.items() if key in before and before[key] != row]
    if changed:
        columns = _VNFC_COLUMNS[2:]
        params = [
            {"key_nsr": nsr_id, "key_id": row[0]}
            | {f"new_{c}": v for c, v in zip(columns, row[1:], strict=True)}
            for row in changed
        ]
        await conn.execute(_UPDATE_VNFC, params)


_VNFC_COLUMNS = ("nsr_id", "id", "vnfr_id", "vdu_id", "hostname", "vim_id", "vc_id", "state")
_LINK_COLUMNS = ("nsr_id", "name", "vim_network_id", "cidr")
_UPDATE_VNFC = (
    update(vnfc_instances)
    .where(
        vnfc_instances.c.nsr_id == bindparam("key_nsr"),
        vnfc_instances.c.id == bindparam("key_id"),
    )
    .values({c: bindparam(f"new_{c}") for c in _VNFC_COLUMNS[2:]})
)


class _IndexedRevisions:
    """The index rows of the NSR revisions this repository wrote itself, most recent ones.

    Most writes of an NSR (an operation's progress) leave its VNFCs and
    links as they were, or change one VNFC. When the revision being replaced
    is one this repository wrote, the index holds its rows, so only the
    difference is written; anything else (another replica wrote it, a
    restart, an evicted entry) rewrites them.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._rows: OrderedDict[str, tuple[int, IndexRows]] = OrderedDict()

    def rows_at(self, nsr_id: str, revision: int) -> IndexRows | None:
        """The rows the index holds for the NSR at ``revision``, when this repository
        wrote that revision; None when it does not know."""
        known = self._rows.get(nsr_id)
        return known[1] if known is not None and known[0] == revision else None

    def remember(self, nsr_id: str, revision: int, parts: IndexRows) -> None:
        """Call once the transaction that wrote ``revision`` has committed."""
        self._rows[nsr_id] = (revision, parts)
        self._rows.move_to_end(nsr_id)
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)


__all__ = ["IndexRows", "SqlNsRecordRepository"]
