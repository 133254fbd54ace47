"""Identity: users with their roles, projects, API clients; the state tokens are checked on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from nubo.model.identity import ApiClient, Project, SigningKey, User


class IdentityRepository(Protocol):
    """Users (with their memberships), projects and API clients (see ``nubo.store.identity``)."""

    async def add_user(self, user: User) -> None:
        """Store a new user; ``Conflict`` when the name is taken."""
        ...

    async def get_user(self, id_or_name: str) -> User:
        """The user with that id or name; ``NotFound`` otherwise."""
        ...

    async def list_users(self) -> list[User]: ...

    async def save_user(self, user: User) -> None:
        """Replace a user's fields and roles; ``NotFound`` when it is gone."""
        ...

    async def delete_user(self, user_id: str) -> None: ...

    async def count_users(self) -> int: ...

    async def add_project(self, project: Project) -> None:
        """Store a new project; ``Conflict`` when the name is taken."""
        ...

    async def get_project(self, id_or_name: str) -> Project: ...

    async def list_projects(self) -> list[Project]: ...

    async def delete_project(self, project_id: str) -> None:
        """Remove the project, its memberships and API clients; members' tokens end."""
        ...

    async def add_client(self, client: ApiClient) -> None: ...

    async def get_client(self, client_id: str) -> ApiClient: ...

    async def list_clients(self, project_id: str) -> list[ApiClient]: ...

    async def save_client(self, client: ApiClient) -> None: ...

    async def delete_client(self, client_id: str) -> None: ...


@dataclass(frozen=True)
class TokenState:
    """What checking a token needs, read at once: keys, revocations, holders' generations."""

    keys: dict[str, SigningKey] = field(default_factory=dict)
    revoked: frozenset[str] = frozenset()
    #: user id -> generation, for enabled users only
    users: dict[str, int] = field(default_factory=dict)
    #: API client id -> generation
    clients: dict[str, int] = field(default_factory=dict)


class TokenRepository(Protocol):
    """Signing keys and revoked tokens (see ``nubo.store.tokens``)."""

    async def add_signing_key(self, key: SigningKey, *, retire_others: bool) -> None:
        """Add a key; ``retire_others`` stops the older ones signing (they still verify)."""
        ...

    async def delete_signing_keys(self, retired_before: datetime) -> int:
        """Drop keys retired at or before that instant: the tokens they signed have expired."""
        ...

    async def revoke(self, token_id: str, expires_at: datetime) -> None:
        """Refuse that token from now on (it is forgotten once it would have expired)."""
        ...

    async def token_state(self, now: datetime) -> TokenState: ...
