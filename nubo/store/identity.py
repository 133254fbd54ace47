"""``SqlIdentityRepository``: users and their roles, projects, API clients.

A user's roles are rows of ``project_members``, written in the transaction
that writes the user, so a reader never sees a user with half its roles.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from nubo.model.errors import Conflict, NotFound
from nubo.model.identity import ApiClient, Membership, Project, Role, User
from nubo.store.database import Database
from nubo.store.rows import from_db, to_utc
from nubo.store.tables import api_clients, project_members, projects, users


class SqlIdentityRepository:
    """The ``IdentityRepository`` port; one transaction per call."""

    def __init__(self, database: Database) -> None:
        self._engine = database.engine

    # -- users ---------------------------------------------------------------------

    async def add_user(self, user: User) -> None:
        values = user.model_dump(exclude={"roles"})
        values["created_at"] = to_utc(user.created_at)
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(users).values(**values))
                await _write_roles(conn, user)
        except IntegrityError as exc:
            raise Conflict(f"a user named {user.name!r} already exists", field="name") from exc

    async def get_user(self, id_or_name: str) -> User:
        query = select(users).where(or_(users.c.id == id_or_name, users.c.name == id_or_name))
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
            if row is None:
                raise NotFound(f"user {id_or_name} not found", user=id_or_name)
            roles = await conn.execute(
                select(project_members).where(project_members.c.user_id == row.id)
            )
            return _user_of(row, list(roles))

    async def list_users(self) -> list[User]:
        async with self._engine.connect() as conn:
            rows = list(await conn.execute(select(users).order_by(users.c.name)))
            memberships = list(await conn.execute(select(project_members)))
        by_user: dict[str, list[Row[Any]]] = {}
        for membership in memberships:
            by_user.setdefault(membership.user_id, []).append(membership)
        return [_user_of(row, by_user.get(row.id, [])) for row in rows]

    async def save_user(self, user: User) -> None:
        values = user.model_dump(exclude={"roles", "id", "created_at"})
        async with self._engine.begin() as conn:
            result = await conn.execute(update(users).where(users.c.id == user.id).values(**values))
            if result.rowcount != 1:
                raise NotFound(f"user {user.id} not found", user=user.id)
            await conn.execute(delete(project_members).where(project_members.c.user_id == user.id))
            await _write_roles(conn, user)

    async def delete_user(self, user_id: str) -> None:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(users).where(users.c.id == user_id))
            if result.rowcount != 1:
                raise NotFound(f"user {user_id} not found", user=user_id)
            await conn.execute(delete(project_members).where(project_members.c.user_id == user_id))

    async def count_users(self) -> int:
        async with self._engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(users))).scalar_one())

    # -- projects ------------------------------------------------------------------

    async def add_project(self, project: Project) -> None:
        values = project.model_dump()
        values["created_at"] = to_utc(project.created_at)
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(projects).values(**values))
        except IntegrityError as exc:
            raise Conflict(
                f"a project named {project.name!r} already exists", field="name"
            ) from exc

    async def get_project(self, id_or_name: str) -> Project:
        query = select(projects).where(
            or_(projects.c.id == id_or_name, projects.c.name == id_or_name)
        )
        async with self._engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            raise NotFound(f"project {id_or_name} not found", project=id_or_name)
        return _project_of(row)

    async def list_projects(self) -> list[Project]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(projects).order_by(projects.c.name))
            return [_project_of(row) for row in rows]

    async def delete_project(self, project_id: str) -> None:
        members = select(project_members.c.user_id).where(
            project_members.c.project_id == project_id
        )
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(projects).where(projects.c.id == project_id))
            if result.rowcount != 1:
                raise NotFound(f"project {project_id} not found", project=project_id)
            # the members' tokens name the project: they must end with it
            await conn.execute(
                update(users)
                .where(users.c.id.in_(members.scalar_subquery()))
                .values(generation=users.c.generation + 1)
            )
            await conn.execute(
                delete(project_members).where(project_members.c.project_id == project_id)
            )
            await conn.execute(delete(api_clients).where(api_clients.c.project_id == project_id))

    # -- API clients ---------------------------------------------------------------

    async def add_client(self, client: ApiClient) -> None:
        values = client.model_dump()
        values["created_at"] = to_utc(client.created_at)
        async with self._engine.begin() as conn:
            await conn.execute(insert(api_clients).values(**values))

    async def get_client(self, client_id: str) -> ApiClient:
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(select(api_clients).where(api_clients.c.id == client_id))
            ).first()
        if row is None:
            raise NotFound(f"API client {client_id} not found", client=client_id)
        return _client_of(row)

    async def list_clients(self, project_id: str) -> list[ApiClient]:
        query = (
            select(api_clients)
            .where(api_clients.c.project_id == project_id)
            .order_by(api_clients.c.created_at)
        )
        async with self._engine.connect() as conn:
            return [_client_of(row) for row in await conn.execute(query)]

    async def save_client(self, client: ApiClient) -> None:
        values = client.model_dump(exclude={"id", "project_id", "created_at"})
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(api_clients).where(api_clients.c.id == client.id).values(**values)
            )
        if result.rowcount != 1:
            raise NotFound(f"API client {client.id} not found", client=client.id)

    async def delete_client(self, client_id: str) -> None:
        async with self._engine.begin() as conn:
            result = await conn.execute(delete(api_clients).where(api_clients.c.id == client_id))
        if result.rowcount != 1:
            raise NotFound(f"API client {client_id} not found", client=client_id)


async def _write_roles(conn: AsyncConnection, user: User) -> None:
    if user.roles:
        await conn.execute(
            insert(project_members),
            [
                {"user_id": user.id, "project_id": m.project_id, "role": m.role.value}
                for m in user.roles
            ],
        )


def _user_of(row: Row[Any], memberships: list[Row[Any]]) -> User:
    values = row._asdict()
    values["created_at"] = from_db(values["created_at"])
    values["roles"] = tuple(
        Membership(project_id=m.project_id, role=Role(m.role))
        for m in sorted(memberships, key=lambda m: str(m.project_id))
    )
    return User.model_validate(values)


def _project_of(row: Row[Any]) -> Project:
    values = row._asdict()
    values["created_at"] = from_db(values["created_at"])
    return Project.model_validate(values)


def _client_of(row: Row[Any]) -> ApiClient:
    values = row._asdict()
    values["created_at"] = from_db(values["created_at"])
    return ApiClient.model_validate(values)


__all__ = ["SqlIdentityRepository"]
