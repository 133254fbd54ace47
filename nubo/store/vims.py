"""``SqlVimRepository``: the registered VIMs (table ``vims``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, insert, or_, select
from sqlalchemy.exc import IntegrityError

from nubo.model.catalogue import VimRegistration
from nubo.model.errors import Conflict, NotFound
from nubo.model.tenancy import SYSTEM, Scope
from nubo.store.database import Database
from nubo.store.rows import from_db, in_scope, to_utc
from nubo.store.tables import vims


class SqlVimRepository:
    """The ``VimRepository`` port; one transaction per call."""

    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    async def add_vim(self, vim: VimRegistration) -> None:
        """Register a VIM; raise ``Conflict`` when its name or id is taken."""
        values = vim.model_dump()
        values["created_at"] = to_utc(vim.created_at)
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(vims).values(**values))
        except IntegrityError as exc:
            raise Conflict(
                f"a VIM named {vim.name!r} or with id {vim.id} already exists in the project",
                field="name",
            ) from exc

    async def list_vims(self, scope: Scope = SYSTEM) -> list[VimRegistration]:
        query = in_scope(select(vims).order_by(vims.c.created_at, vims.c.name), vims, scope)
        async with self._engine.connect() as conn:
            return [_vim_of(row) for row in await conn.execute(query)]

    async def get_vim(self, id_or_name: str, scope: Scope = SYSTEM) -> VimRegistration:
        """The VIM with that id, or that name in the scope's project; ``NotFound`` naming it.

        A name is unique in a project only: across projects, the scope's own
        project's VIM of that name comes first, then the oldest.
        """
        query = select(vims).where(or_(vims.c.id == id_or_name, vims.c.name == id_or_name))
        query = in_scope(query, vims, scope).order_by(
            (vims.c.project_id != scope.project_id), vims.c.created_at
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"VIM {id_or_name} not found", vim_id=id_or_name)
        return _vim_of(row)


def _vim_of(row: Row[Any]) -> VimRegistration:
    values = row._asdict()
    values["created_at"] = from_db(values["created_at"])
    return VimRegistration.model_validate(values)


__all__ = ["SqlVimRepository"]
