"""The user and project API of seed 000 §4.3.1.3 (``/api/v1/users``, ``/api/v1/projects``),
with project members, API clients (SOL013 client credentials) and signing keys.

Views are their own models: a password or secret hash never leaves the
server, and a client's secret is shown once, in the answer that made it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from nubo.api.security import caller
from nubo.auth import Auth
from nubo.auth.identity import IdentityService
from nubo.model.identity import ApiClient, Name, Principal, Project, Role, SigningKey, User

router = APIRouter(tags=["identity"])

Caller = Annotated[Principal, Depends(caller)]


class _Camel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class RoleView(_Camel):
    """A user's role in a project (the seed's Role: project name and role)."""

    project: str
    project_id: str | None = None
    role: Role


class UserView(_Camel):
    id: str
    username: str
    email: str
    enabled: bool
    system_admin: bool
    roles: list[RoleView]
    created_at: datetime


class UserCreate(_Camel):
    username: Name
    password: str = Field(min_length=1, max_length=1024)
    email: str = Field(default="", max_length=255)
    enabled: bool = True
    system_admin: bool = False
    roles: list[RoleView] = Field(default_factory=list)


class UserUpdate(_Camel):
    email: str | None = Field(default=None, max_length=255)
    enabled: bool | None = None
    system_admin: bool | None = None
    password: str | None = Field(default=None, min_length=1, max_length=1024)
    roles: list[RoleView] | None = None


class PasswordChange(_Camel):
    current_password: str | None = Field(default=None, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class ProjectView(_Camel):
    id: str
    name: str
    description: str
    created_at: datetime


class ProjectCreate(_Camel):
    name: Name
    description: str = Field(default="", max_length=1024)


class MemberView(_Camel):
    user_id: str
    username: str
    role: Role


class MemberSet(_Camel):
    role: Role


class ClientView(_Camel):
    client_id: str
    name: str
    project_id: str
    role: Role
    created_at: datetime


class ClientCreate(_Camel):
    name: Name
    role: Role = Role.USER


class ClientWithSecret(ClientView):
    """Shown once: the secret is kept only as a hash."""

    client_secret: str


class SigningKeyView(_Camel):
    id: str
    created_at: datetime
    retired_at: datetime | None = None


class Rotation(_Camel):
    #: also stop the old keys verifying: every token issued so far is refused
    drop_old: bool = False


class WhoAmI(_Camel):
    subject: str
    name: str
    project_id: str
    role: Role
    system_admin: bool
    client: bool
    expires_at: datetime


def _auth(request: Request) -> Auth:
    auth: Auth = request.app.state.services.auth
    return auth


def _identity(request: Request) -> IdentityService:
    return _auth(request).identity


async def _user_view(identity: IdentityService, user: User) -> UserView:
    names = await identity.project_names()
    return UserView(
        id=user.id,
        username=user.name,
        email=user.email,
        enabled=user.enabled,
        system_admin=user.system_admin,
        roles=[
            RoleView(
                project=names.get(m.project_id, m.project_id), project_id=m.project_id, role=m.role
            )
            for m in user.roles
        ],
        created_at=user.created_at,
    )


def _roles(roles: list[RoleView] | None) -> list[tuple[str, Role]] | None:
    if roles is None:
        return None
    return [(r.project_id or r.project, r.role) for r in roles]


def _project_view(project: Project) -> ProjectView:
    return ProjectView(
        id=project.id,
        name=project.name,
        description=project.description,
        created_at=project.created_at,
    )


def _client_view(client: ApiClient) -> ClientView:
    return ClientView(
        client_id=client.id,
        name=client.name,
        project_id=client.project_id,
        role=client.role,
        created_at=client.created_at,
    )


def _with_secret(client: ApiClient, secret: str) -> ClientWithSecret:
    return ClientWithSecret(**_client_view(client).model_dump(), client_secret=secret)


def _key_view(key: SigningKey) -> SigningKeyView:
    return SigningKeyView(id=key.id, created_at=key.created_at, retired_at=key.retired_at)


@router.get("/api/v1/whoami", response_model=WhoAmI)
async def whoami(principal: Caller) -> WhoAmI:
    """The caller as its token names it."""
    return WhoAmI(
        subject=principal.subject,
        name=principal.name,
        project_id=principal.project_id,
        role=principal.role,
        system_admin=principal.system_admin,
        client=principal.client,
        expires_at=datetime.fromtimestamp(principal.expires_at, UTC),
    )


# -- users -----------------------------------------------------------------------------


@router.get("/api/v1/users", response_model=list[UserView])
async def list_users(request: Request, principal: Caller) -> list[UserView]:
    identity = _identity(request)
    return [await _user_view(identity, u) for u in await identity.list_users(principal)]


@router.post("/api/v1/users", response_model=UserView, status_code=201)
async def create_user(request: Request, principal: Caller, body: UserCreate) -> UserView:
    identity = _identity(request)
    user = await identity.create_user(
        principal,
        body.username,
        body.password,
        email=body.email,
        enabled=body.enabled,
        system_admin=body.system_admin,
        roles=_roles(body.roles) or (),
    )
    return await _user_view(identity, user)


@router.get("/api/v1/users/{user_id}", response_model=UserView)
async def get_user(request: Request, principal: Caller, user_id: str) -> UserView:
    identity = _identity(request)
    return await _user_view(identity, await identity.get_user(principal, user_id))


@router.patch("/api/v1/users/{user_id}", response_model=UserView)
async def update_user(
    request: Request, principal: Caller, user_id: str, body: UserUpdate
) -> UserView:
    identity = _identity(request)
    user = await identity.update_user(
        principal,
        user_id,
        email=body.email,
        enabled=body.enabled,
        system_admin=body.system_admin,
        password=body.password,
        roles=_roles(body.roles),
    )
    return await _user_view(identity, user)


@router.put("/api/v1/users/{user_id}/password", status_code=204)
async def change_password(
    request: Request, principal: Caller, user_id: str, body: PasswordChange
) -> Response:
    """Change a password; every token of the user ends (log in again)."""
    await _identity(request).change_password(
        principal, user_id, body.current_password, body.new_password
    )
    return Response(status_code=204)


@router.delete("/api/v1/users/{user_id}", status_code=204)
async def delete_user(request: Request, principal: Caller, user_id: str) -> Response:
    await _identity(request).delete_user(principal, user_id)
    return Response(status_code=204)


# -- projects --------------------------------------------------------------------------


@router.get("/api/v1/projects", response_model=list[ProjectView])
async def list_projects(request: Request, principal: Caller) -> list[ProjectView]:
    return [_project_view(p) for p in await _identity(request).list_projects(principal)]


@router.post("/api/v1/projects", response_model=ProjectView, status_code=201)
async def create_project(request: Request, principal: Caller, body: ProjectCreate) -> ProjectView:
    project = await _identity(request).create_project(principal, body.name, body.description)
    return _project_view(project)


@router.get("/api/v1/projects/{project_id}", response_model=ProjectView)
async def get_project(request: Request, principal: Caller, project_id: str) -> ProjectView:
    return _project_view(await _identity(request).get_project(principal, project_id))


@router.delete("/api/v1/projects/{project_id}", status_code=204)
async def delete_project(request: Request, principal: Caller, project_id: str) -> Response:
    await _identity(request).delete_project(principal, project_id)
    return Response(status_code=204)


@router.get("/api/v1/projects/{project_id}/members", response_model=list[MemberView])
async def members(request: Request, principal: Caller, project_id: str) -> list[MemberView]:
    return [
        MemberView(user_id=user.id, username=user.name, role=role)
        for user, role in await _identity(request).members(principal, project_id)
    ]


@router.put("/api/v1/projects/{project_id}/members/{user_name}", response_model=MemberView)
async def set_member(
    request: Request, principal: Caller, project_id: str, user_name: str, body: MemberSet
) -> MemberView:
    """Give a user a role in the project; the user's tokens end (log in again)."""
    user = await _identity(request).set_member(principal, project_id, user_name, body.role)
    return MemberView(user_id=user.id, username=user.name, role=body.role)


@router.delete("/api/v1/projects/{project_id}/members/{user_name}", status_code=204)
async def remove_member(
    request: Request, principal: Caller, project_id: str, user_name: str
) -> Response:
    await _identity(request).set_member(principal, project_id, user_name, None)
    return Response(status_code=204)


# -- API clients -----------------------------------------------------------------------


@router.get("/api/v1/projects/{project_id}/clients", response_model=list[ClientView])
async def list_clients(request: Request, principal: Caller, project_id: str) -> list[ClientView]:
    return [_client_view(c) for c in await _identity(request).list_clients(principal, project_id)]


@router.post(
    "/api/v1/projects/{project_id}/clients",
    response_model=ClientWithSecret,
    status_code=201,
)
async def create_client(
    request: Request, principal: Caller, project_id: str, body: ClientCreate
) -> ClientWithSecret:
    """A new API client; its secret is in this answer only."""
    client, secret = await _identity(request).create_client(
        principal, project_id, body.name, body.role
    )
    return _with_secret(client, secret)


@router.post(
    "/api/v1/projects/{project_id}/clients/{client_id}/secret",
    response_model=ClientWithSecret,
)
async def rotate_client_secret(
    request: Request, principal: Caller, project_id: str, client_id: str
) -> ClientWithSecret:
    """A new secret for the client; its tokens end."""
    client, secret = await _identity(request).rotate_client_secret(principal, project_id, client_id)
    return _with_secret(client, secret)


@router.delete("/api/v1/projects/{project_id}/clients/{client_id}", status_code=204)
async def delete_client(
    request: Request, principal: Caller, project_id: str, client_id: str
) -> Response:
    await _identity(request).delete_client(principal, project_id, client_id)
    return Response(status_code=204)


# -- signing keys ----------------------------------------------------------------------


@router.get("/api/v1/signing-keys", response_model=list[SigningKeyView])
async def signing_keys(request: Request, principal: Caller) -> list[SigningKeyView]:
    return [_key_view(k) for k in await _auth(request).tokens.signing_keys()]


@router.post("/api/v1/signing-keys", response_model=SigningKeyView, status_code=201)
async def rotate_signing_key(
    request: Request, principal: Caller, body: Rotation | None = None
) -> SigningKeyView:
    """A new key signs from now on; the old ones still verify unless ``dropOld``."""
    drop_old = body.drop_old if body is not None else False
    return _key_view(await _auth(request).tokens.rotate(drop_old=drop_old))
