"""Managing users, projects, members and API clients, with the checks of who may.

Which role an operation needs is decided by the API's permission table; what
this module adds is the part that depends on the record: a project ADMIN
manages only the project its token names (another project answers 404, as
if it did not exist), and only a system administrator creates users and
projects. Every change that must end a holder's tokens (password, roles,
disabling; a client's secret) moves its ``generation`` on.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Iterable

from nubo.auth.passwords import Passwords
from nubo.auth.tokens import TokenService
from nubo.model.errors import BadRequest, Conflict, Forbidden, NotFound
from nubo.model.identity import ApiClient, Membership, Principal, Project, Role, User
from nubo.model.tenancy import DEFAULT_PROJECT
from nubo.store.port import IdentityRepository

log = logging.getLogger("nubo.auth")

INITIAL_ADMIN = "admin"
MIN_PASSWORD = 8


class IdentityService:
    """Users, projects, memberships and API clients."""

    def __init__(
        self, identity: IdentityRepository, tokens: TokenService, passwords: Passwords
    ) -> None:
        self._identity = identity
        self._tokens = tokens
        self._passwords = passwords

    async def ensure_admin(self, password: str | None) -> str | None:
        """On a first start: the ``default`` project and the administrator ``admin`` in it.

        Without ``password`` one is generated and returned (to be shown once).
        Another replica starting at the same moment may win the race; then
        nothing is made here and ``None`` is returned.
        """
        if await self._identity.count_users() > 0:
            return None
        try:
            project = await self._identity.get_project(DEFAULT_PROJECT)
        except NotFound:
            project = Project(id=DEFAULT_PROJECT, name=DEFAULT_PROJECT, description="")
            try:
                await self._identity.add_project(project)
            except Conflict:
                project = await self._identity.get_project(DEFAULT_PROJECT)
        generated = password is None
        secret = password if password is not None else secrets.token_urlsafe(18)
        admin = User(
            id=str(uuid.uuid4()),
            name=INITIAL_ADMIN,
            system_admin=True,
            password_hash=await self._passwords.hash(secret),
            roles=(Membership(project_id=project.id, role=Role.ADMIN),),
        )
        try:
            await self._identity.add_user(admin)
        except Conflict:
            return None
        log.warning("auth.initial_admin user=%s project=%s", INITIAL_ADMIN, DEFAULT_PROJECT)
        return secret if generated else None

    # -- users ---------------------------------------------------------------------

    async def create_user(
        self,
        caller: Principal,
        name: str,
        password: str,
        *,
        email: str = "",
        enabled: bool = True,
        system_admin: bool = False,
        roles: Iterable[tuple[str, Role]] = (),
    ) -> User:
        _system_admin(caller)
        _check_password(password)
        user = User(
            id=str(uuid.uuid4()),
            name=name,
            email=email,
            enabled=enabled,
            system_admin=system_admin,
            password_hash=await self._passwords.hash(password),
            roles=await self._memberships(roles),
        )
        await self._identity.add_user(user)
        self._tokens.invalidate()
        log.info("auth.user_created user=%s by=%s", user.name, caller.name)
        return user

    async def list_users(self, caller: Principal) -> list[User]:
        _system_admin(caller)
        return await self._identity.list_users()

    async def get_user(self, caller: Principal, id_or_name: str) -> User:
        user = await self._identity.get_user(id_or_name)
        if not caller.system_admin and (caller.client or user.id != caller.subject):
            raise NotFound(f"user {id_or_name} not found", user=id_or_name)
        return user

    async def update_user(
        self,
        caller: Principal,
        id_or_name: str,
        *,
        email: str | None = None,
        enabled: bool | None = None,
        system_admin: bool | None = None,
        password: str | None = None,
        roles: Iterable[tuple[str, Role]] | None = None,
    ) -> User:
        """A system administrator's change of a user; the user's tokens end unless only email."""
        _system_admin(caller)
        user = await self._identity.get_user(id_or_name)
        changes: dict[str, object] = {}
        if email is not None:
            changes["email"] = email
        if enabled is not None and enabled != user.enabled:
            if user.name == INITIAL_ADMIN and not enabled:
                raise Conflict("the initial administrator cannot be disabled", user=user.name)
            changes["enabled"] = enabled
        if system_admin is not None and system_admin != user.system_admin:
            if user.name == INITIAL_ADMIN and not system_admin:
                raise Conflict("the initial administrator stays a system administrator")
            changes["system_admin"] = system_admin
        if password is not None:
            _check_password(password)
            changes["password_hash"] = await self._passwords.hash(password)
        if roles is not None:
            changes["roles"] = await self._memberships(roles)
        if set(changes) - {"email"}:
            changes["generation"] = user.generation + 1
        updated = user.model_copy(update=changes)
        await self._save(updated)
        log.info(
            "auth.user_updated user=%s by=%s fields=%s", user.name, caller.name, sorted(changes)
        )
        return updated

    async def change_password(
        self, caller: Principal, id_or_name: str, current: str | None, new: str
    ) -> None:
        """A user's own change (with the current password), or a system administrator's."""
        user = await self.get_user(caller, id_or_name)
        # a system administrator resets another user's password without knowing it
        own = not caller.system_admin or user.id == caller.subject
        if own and (
            current is None or not await self._passwords.verify(user.password_hash, current)
        ):
            raise Forbidden("the current password is wrong", field="currentPassword")
        _check_password(new)
        hashed = await self._passwords.hash(new)
        await self._save(
            user.model_copy(update={"password_hash": hashed, "generation": user.generation + 1})
        )
        log.info("auth.password_changed user=%s by=%s", user.name, caller.name)

    async def delete_user(self, caller: Principal, id_or_name: str) -> None:
        _system_admin(caller)
        user = await self._identity.get_user(id_or_name)
        if user.name == INITIAL_ADMIN:
            raise Conflict("the initial administrator cannot be deleted", user=user.name)
        await self._identity.delete_user(user.id)
        self._tokens.invalidate()
        log.info("auth.user_deleted user=%s by=%s", user.name, caller.name)

    # -- projects ------------------------------------------------------------------

    async def create_project(self, caller: Principal, name: str, description: str) -> Project:
        _system_admin(caller)
        project = Project(id=str(uuid.uuid4()), name=name, description=description)
        await self._identity.add_project(project)
        log.info("auth.project_created project=%s by=%s", project.name, caller.name)
        return project

    async def list_projects(self, caller: Principal) -> list[Project]:
        """Every project for a system administrator; the caller's own otherwise."""
        projects = await self._identity.list_projects()
        if caller.system_admin:
            return projects
        if caller.client:
            return [p for p in projects if p.id == caller.project_id]
        user = await self._identity.get_user(caller.subject)
        return [p for p in projects if user.role_in(p.id) is not None]

    async def get_project(self, caller: Principal, id_or_name: str) -> Project:
        project = await self._identity.get_project(id_or_name)
        if caller.system_admin or project.id == caller.project_id:
            return project
        if not caller.client:
            user = await self._identity.get_user(caller.subject)
            if user.role_in(project.id) is not None:
                return project
        raise NotFound(f"project {id_or_name} not found", project=id_or_name)

    async def delete_project(self, caller: Principal, id_or_name: str) -> None:
        _system_admin(caller)
        project = await self._identity.get_project(id_or_name)
        if project.name == DEFAULT_PROJECT:
            raise Conflict("the default project cannot be deleted", project=project.name)
        await self._identity.delete_project(project.id)
        self._tokens.invalidate()
        log.info("auth.project_deleted project=%s by=%s", project.name, caller.name)

    async def members(self, caller: Principal, id_or_name: str) -> list[tuple[User, Role]]:
        project = await self._managed(caller, id_or_name)
        return [
            (user, role)
            for user in await self._identity.list_users()
            if (role := user.role_in(project.id)) is not None
        ]

    async def set_member(
        self, caller: Principal, id_or_name: str, user_name: str, role: Role | None
    ) -> User:
        """Give a user a role in the project (``None``: remove it); their tokens end."""
        project = await self._managed(caller, id_or_name)
        user = await self._identity.get_user(user_name)
        roles = [m for m in user.roles if m.project_id != project.id]
        if role is not None:
            roles.append(Membership(project_id=project.id, role=role))
        elif len(roles) == len(user.roles):
            raise NotFound(f"user {user.name} is no member of {project.name}", user=user.name)
        updated = user.model_copy(update={"roles": tuple(roles), "generation": user.generation + 1})
        await self._save(updated)
        log.info(
            "auth.member_set project=%s user=%s role=%s by=%s",
            project.name,
            user.name,
            role.value if role else "-",
            caller.name,
        )
        return updated

    # -- API clients ---------------------------------------------------------------

    async def create_client(
        self, caller: Principal, id_or_name: str, name: str, role: Role
    ) -> tuple[ApiClient, str]:
        """A new API client of the project, with its secret (shown this once)."""
        project = await self._managed(caller, id_or_name)
        secret = secrets.token_urlsafe(32)
        client = ApiClient(
            id=str(uuid.uuid4()),
            project_id=project.id,
            name=name,
            role=role,
            secret_hash=await self._passwords.hash(secret),
        )
        await self._identity.add_client(client)
        self._tokens.invalidate()
        log.info(
            "auth.client_created client=%s project=%s by=%s", client.id, project.name, caller.name
        )
        return client, secret

    async def list_clients(self, caller: Principal, id_or_name: str) -> list[ApiClient]:
        project = await self._managed(caller, id_or_name)
        return await self._identity.list_clients(project.id)

    async def rotate_client_secret(
        self, caller: Principal, id_or_name: str, client_id: str
    ) -> tuple[ApiClient, str]:
        """A new secret for the client; its tokens end."""
        client = await self._client_of(caller, id_or_name, client_id)
        secret = secrets.token_urlsafe(32)
        rotated = client.model_copy(
            update={
                "secret_hash": await self._passwords.hash(secret),
                "generation": client.generation + 1,
            }
        )
        await self._identity.save_client(rotated)
        self._tokens.invalidate()
        log.info("auth.client_rotated client=%s by=%s", client.id, caller.name)
        return rotated, secret

    async def delete_client(self, caller: Principal, id_or_name: str, client_id: str) -> None:
        client = await self._client_of(caller, id_or_name, client_id)
        await self._identity.delete_client(client.id)
        self._tokens.invalidate()
        log.info("auth.client_deleted client=%s by=%s", client.id, caller.name)

    async def project_names(self) -> dict[str, str]:
        """Project names by id, to show roles by name."""
        return {p.id: p.name for p in await self._identity.list_projects()}

    # -- internals -----------------------------------------------------------------

    async def _managed(self, caller: Principal, id_or_name: str) -> Project:
        """A project the caller administers; another one answers as if it did not exist."""
        try:
            project = await self._identity.get_project(id_or_name)
        except NotFound:
            project = None
        if project is None or not (caller.system_admin or project.id == caller.project_id):
            raise NotFound(f"project {id_or_name} not found", project=id_or_name)
        return project

    async def _client_of(self, caller: Principal, id_or_name: str, client_id: str) -> ApiClient:
        project = await self._managed(caller, id_or_name)
        try:
            client = await self._identity.get_client(client_id)
        except NotFound:
            client = None
        if client is None or client.project_id != project.id:
            raise NotFound(f"API client {client_id} not found", client=client_id)
        return client

    async def _memberships(self, roles: Iterable[tuple[str, Role]]) -> tuple[Membership, ...]:
        by_project: dict[str, Role] = {}
        for project_ref, role in roles:
            try:
                project = await self._identity.get_project(project_ref)
            except NotFound:
                raise BadRequest(f"no project {project_ref!r}", field="roles") from None
            by_project[project.id] = role
        return tuple(Membership(project_id=p, role=r) for p, r in sorted(by_project.items()))

    async def _save(self, user: User) -> None:
        await self._identity.save_user(user)
        self._tokens.invalidate()


def _system_admin(caller: Principal) -> None:
    if not caller.system_admin:
        raise Forbidden("only a system administrator may do this", role="SYSTEM_ADMIN")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise BadRequest(
            f"a password must have at least {MIN_PASSWORD} characters", field="password"
        )
