"""How the SQL repositories map aggregates onto rows.

An aggregate (NSR, LCM operation occurrence, alarm) is stored whole as a JSON
``body``; where its table keeps a ``version`` column, that is the aggregate's
revision, and every write is a compare-and-set on the revision the writer
read, so two writers (two replicas, or a task and a stale copy) can never
both win. Instants are stored in UTC so that columns sort correctly.

Write transactions start with a write statement (UPDATE, INSERT or DELETE)
and never read first, so that SQLite takes its write lock at the start of
the transaction: a read-then-write transaction can fail with "database is
locked" when another writer commits in between, and a busy timeout does not
help with that case.

The statements every step of every operation runs (read by id, the
compare-and-set update) are built once per table and columns, with bound
parameters: building and hashing a new statement per call cost more CPU
than the database's own work.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Row, Select, Table, Update, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from nubo.model.errors import NotFound, StaleRecord
from nubo.model.tenancy import SYSTEM, Scope

_Body = TypeVar("_Body", bound=BaseModel)
_Query = TypeVar("_Query", bound=Select[Any])


def versioned(table: Table) -> Select[Any]:
    """Select an aggregate's body, with its revision and project where the table keeps them."""
    columns = [table.c.body]
    columns += [table.c[name] for name in ("version", "project_id") if name in table.c]
    return select(*columns)


def aggregate_of(row: Row[Any], model: type[_Body]) -> _Body:
    body = dict(row.body)
    if "version" in row._fields:
        body["revision"] = row.version
    if "project_id" in row._fields:
        # the column is the record's project (bodies written before tenancy have none)
        body["project_id"] = row.project_id
    return model.model_validate(body)


def in_scope(query: _Query, table: Table, scope: Scope) -> _Query:
    """``query`` restricted to the rows of the project ``scope`` sees (all: unchanged)."""
    project = scope.visible
    return query if project is None else query.where(table.c.project_id == project)


async def read_body(
    engine: AsyncEngine,
    table: Table,
    row_id: str,
    model: type[_Body],
    kind: str,
    field: str,
    scope: Scope = SYSTEM,
) -> _Body:
    """The aggregate stored in ``table`` under ``row_id``; ``NotFound`` names kind and id.

    A row of a project ``scope`` does not see is not found either, with the same
    answer: whether another project has a record of that id does not show.
    """
    project = scope.visible
    async with engine.connect() as conn:
        if project is None:
            row = (await conn.execute(_by_id(table), {"row_id": row_id})).first()
        else:
            params = {"row_id": row_id, "project": project}
            row = (await conn.execute(_by_id_in_project(table), params)).first()
    if row is None:
        raise NotFound(f"{kind} {row_id} not found", **{field: row_id})
    return aggregate_of(row, model)


async def read_bodies(engine: AsyncEngine, query: Select[Any], model: type[_Body]) -> list[_Body]:
    async with engine.connect() as conn:
        rows = await conn.execute(query)
        return [aggregate_of(row, model) for row in rows]


async def compare_and_set(
    conn: AsyncConnection,
    table: Table,
    row_id: str,
    revision: int,
    values: dict[str, Any],
    kind: str,
) -> int:
    """Write ``values`` if the row is still at ``revision`` (0: insert); the new revision.

    A row that moved on raises ``StaleRecord`` and the transaction rolls back.
    """
    if revision == 0:
        await conn.execute(insert(table), {"id": row_id, "version": 1, **values})
        return 1
    statement = _update_at_revision(table, tuple(values))
    params = {f"new_{k}": v for k, v in values.items()}
    result = await conn.execute(
        statement, {"row_id": row_id, "read": revision, "new_version": revision + 1, **params}
    )
    if result.rowcount == 1:
        return revision + 1
    current = (
        await conn.execute(select(table.c.version).where(table.c.id == row_id))
    ).scalar_one_or_none()
    if current is None:
        raise NotFound(f"{kind} {row_id} not found", id=row_id)
    raise StaleRecord(
        f"{kind} {row_id} changed meanwhile (read at revision {revision}, now {current}); "
        "read it again",
        id=row_id,
        read_revision=revision,
        current_revision=current,
    )


@functools.cache
def _by_id(table: Table) -> Select[Any]:
    return versioned(table).where(table.c.id == bindparam("row_id"))


@functools.cache
def _by_id_in_project(table: Table) -> Select[Any]:
    return _by_id(table).where(table.c.project_id == bindparam("project"))


@functools.cache
def _update_at_revision(table: Table, columns: tuple[str, ...]) -> Update:
    """UPDATE of ``columns`` and the version where id and version are as read."""
    return (
        update(table)
        .where(table.c.id == bindparam("row_id"), table.c.version == bindparam("read"))
        .values(version=bindparam("new_version"), **{c: bindparam(f"new_{c}") for c in columns})
    )


async def delete_row(conn: AsyncConnection, table: Table, row_id: str) -> bool:
    result = await conn.execute(delete(table).where(table.c.id == row_id))
    return result.rowcount > 0


def to_utc(moment: datetime) -> datetime:
    """Store instants in UTC so that columns sort correctly whatever offset they came with."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def from_db(moment: datetime) -> datetime:
    """SQLite hands DateTime columns back without a zone; they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


__all__ = [
    "aggregate_of",
    "compare_and_set",
    "delete_row",
    "from_db",
    "in_scope",
    "read_bodies",
    "read_body",
    "to_utc",
    "versioned",
]
