"""Credentials of the test orchestrators: the initial administrator, cheap hashing, tokens.

Every orchestrator a test builds (in process or as a ``nubo serve`` process)
has authentication on, with a known administrator password and Argon2id at
its lowest cost, so that logging in costs milliseconds; in-process tests get
their tokens from the token service directly (no password hashing at all).
"""

from __future__ import annotations

from time import time
from typing import Any

from nubo.api.security import PRINCIPAL_KEY
from nubo.app import Nubo
from nubo.auth.tokens import TokenService
from nubo.model.identity import Principal, Role

ADMIN = "admin"
ADMIN_PASSWORD = "test-admin-password"

#: settings of every test orchestrator (in process)
TEST_AUTH_SETTINGS: dict[str, Any] = {
    "admin_password": ADMIN_PASSWORD,
    "password_time_cost": 1,
    "password_memory_cost": 8,
    "password_parallelism": 1,
    # tests log in often from one address; the rate-limit tests set their own limits
    "token_rate_per_user": 1000,
    "token_rate_per_address": 1000,
}

#: the same for a server process, as environment
TEST_AUTH_ENV = {f"NUBO_{k.upper()}": str(v) for k, v in TEST_AUTH_SETTINGS.items()}


async def token_for(
    app: Nubo, user: str = ADMIN, project: str = "default", role: Role | None = None
) -> str:
    """An access token of ``user`` in ``project``, issued as the password grant would."""
    account = await app.repositories.identity.get_user(user)
    chosen = await app.repositories.identity.get_project(project)
    principal = Principal(
        subject=account.id,
        name=account.name,
        project_id=chosen.id,
        role=role or account.role_in(chosen.id) or Role.ADMIN,
        system_admin=account.system_admin,
    )
    issued = await app.auth.tokens.issue(principal, account.generation, refresh=False)
    return issued.access_token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def expired_token(app: Nubo, user: str = ADMIN) -> str:
    """A token of ``user`` signed with the live key, that expired an hour ago."""
    account = await app.repositories.identity.get_user(user)
    principal = Principal(
        subject=account.id,
        name=account.name,
        project_id=account.roles[0].project_id,
        role=account.roles[0].role,
        system_admin=account.system_admin,
    )
    past = TokenService(
        app.repositories.tokens, app.auth.tokens.policy, clock=lambda: time() - 7200
    )
    return (await past.issue(principal, account.generation, refresh=False)).access_token


async def revoked_token(app: Nubo, user: str = ADMIN) -> str:
    token = await token_for(app, user)
    assert await app.auth.tokens.revoke(token) is not None
    return token


async def add_user(
    app: Nubo, name: str, roles: dict[str, Role], *, password: str = "password-of-" + "test"
) -> None:
    """A user with roles in projects (by name), made as a system administrator would."""
    admin = await app.repositories.identity.get_user(ADMIN)
    caller = Principal(
        subject=admin.id, name=admin.name, project_id="", role=Role.ADMIN, system_admin=True
    )
    await app.auth.identity.create_user(caller, name, password, roles=list(roles.items()))


async def add_project(app: Nubo, name: str) -> str:
    admin = await app.repositories.identity.get_user(ADMIN)
    caller = Principal(
        subject=admin.id, name=admin.name, project_id="", role=Role.ADMIN, system_admin=True
    )
    return (await app.auth.identity.create_project(caller, name, "")).id


class ActingAs:
    """ASGI middleware for routers tested without authentication: every request is
    ``principal``'s, as if its token had been checked."""

    def __init__(self, app: Any, principal: Principal) -> None:
        self.app = app
        self.principal = principal

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            scope[PRINCIPAL_KEY] = self.principal
        await self.app(scope, receive, send)


#: a USER of the default project, for ``ActingAs``
DEFAULT_USER = Principal(subject="u-1", name="user", project_id="default", role=Role.USER)
