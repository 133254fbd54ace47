"""Users, projects, per-project roles, API clients, and the caller of a request.

A user holds one role per project (GUEST reads, USER operates, ADMIN also
manages the project's members, clients and VIMs); a system administrator acts
in any project as its ADMIN and manages users and projects. API clients
(SOL013 client credentials, for OSS/BSS systems) belong to one project with
one role. Every token names one project, so that the caller of a request
(``Principal``) always carries the project it acts in.

``generation`` counts the changes that must end a holder's tokens (password,
roles, disabling; a client's secret): a token names the generation it was
issued at and is refused once the count moved on.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from nubo.model.records import utcnow

#: user, project and client names: letters, digits and . _ - (they appear in URLs and tokens)
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class Role(StrEnum):
    """A role in a project, from the least to the most allowed."""

    GUEST = "GUEST"
    USER = "USER"
    ADMIN = "ADMIN"

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank


_RANKS = {Role.GUEST: 1, Role.USER: 2, Role.ADMIN: 3}


def _checked_name(value: str) -> str:
    if not NAME_PATTERN.match(value):
        raise ValueError(
            "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return value


#: a user, project or API client name
Name = Annotated[str, AfterValidator(_checked_name)]


class Project(BaseModel):
    """A project: the unit that records, members and API clients belong to."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: Name
    description: str = ""
    created_at: datetime = Field(default_factory=utcnow)


class Membership(BaseModel):
    """A user's role in one project."""

    model_config = ConfigDict(frozen=True)

    project_id: str
    role: Role


class User(BaseModel):
    """A user account; ``password_hash`` is an Argon2id hash and never leaves the server."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: Name
    email: str = ""
    enabled: bool = True
    system_admin: bool = False
    password_hash: str = Field(repr=False)
    generation: int = 1
    roles: tuple[Membership, ...] = ()
    created_at: datetime = Field(default_factory=utcnow)

    def role_in(self, project_id: str) -> Role | None:
        for membership in self.roles:
            if membership.project_id == project_id:
                return membership.role
        return None


class ApiClient(BaseModel):
    """An API client of one project (SOL013 client credentials grant)."""

    model_config = ConfigDict(frozen=True)

    id: str
    project_id: str
    name: Name
    role: Role = Role.USER
    secret_hash: str = Field(repr=False)
    generation: int = 1
    created_at: datetime = Field(default_factory=utcnow)


class SigningKey(BaseModel):
    """A key that signs tokens (HS256); the newest one not retired signs, every one verifies."""

    model_config = ConfigDict(frozen=True)

    id: str
    secret: bytes = Field(repr=False)
    created_at: datetime = Field(default_factory=utcnow)
    #: no longer signs; still verifies the tokens it signed until they expire
    retired_at: datetime | None = None


class Principal(BaseModel):
    """The caller of a request, as its bearer token names it."""

    model_config = ConfigDict(frozen=True)

    #: the user's id, or the API client's id
    subject: str
    #: the user's name, or the API client's name
    name: str
    project_id: str
    role: Role
    system_admin: bool = False
    #: True when the caller is an API client rather than a user
    client: bool = False
    token_id: str = ""
    expires_at: float = 0.0

    def allows(self, needed: Role) -> bool:
        """Whether the caller's role in its project reaches ``needed``."""
        return self.system_admin or self.role.allows(needed)
