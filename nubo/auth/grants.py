"""The OAuth 2.0 grants of ``POST /oauth/token``: password, client credentials, refresh token.

Every grant is rate-limited before any hashing, per user (or client) name and
per client address, so that guessing passwords costs the guesser time and
cannot keep the server's CPUs busy. A refused grant never says whether the
user name exists: an unknown user costs one verification of a decoy hash,
like a wrong password.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from nubo.auth.passwords import Passwords
from nubo.auth.ratelimit import RateLimiter
from nubo.auth.tokens import REFRESH, IssuedToken, TokenService
from nubo.model.errors import (
    BadRequest,
    InvalidClient,
    InvalidGrant,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from nubo.model.identity import Principal, Project, Role, User
from nubo.store.port import IdentityRepository

log = logging.getLogger("nubo.auth")


@dataclass(frozen=True)
class RateLimits:
    """Token requests allowed per ``period`` seconds, per user or client, and per address."""

    per_user: int = 10
    per_address: int = 30
    period: float = 60.0


class Grants:
    """Checks credentials and issues tokens."""

    def __init__(
        self,
        identity: IdentityRepository,
        tokens: TokenService,
        passwords: Passwords,
        limits: RateLimits | None = None,
    ) -> None:
        self._identity = identity
        self._tokens = tokens
        self._passwords = passwords
        limits = limits or RateLimits()
        self._per_user = RateLimiter(limits.per_user, limits.period)
        self._per_address = RateLimiter(limits.per_address, limits.period)

    def limit(self, address: str, name: str | None) -> None:
        """Count one token request; ``TooManyRequests`` with the seconds to wait."""
        self._limit(self._per_address, address, "client address")
        if name is not None:
            self._limit(self._per_user, name, "user")

    @staticmethod
    def _limit(limiter: RateLimiter, key: str, what: str) -> None:
        wait = limiter.take(key)
        if wait is not None:
            log.warning("auth.rate_limited by=%s", what)
            raise TooManyRequests(
                f"too many token requests for this {what}; retry in {wait} s", wait
            )

    async def password(
        self, address: str, username: str, password: str, project: str | None
    ) -> IssuedToken:
        """The password grant: a user's name and password, in one of its projects."""
        self.limit(address, f"user:{username}")
        try:
            user: User | None = await self._identity.get_user(username)
        except NotFound:
            user = None
        hashed = user.password_hash if user is not None else None
        if not await self._passwords.verify(hashed, password) or user is None:
            log.info("auth.login_refused reason=credentials")
            raise InvalidGrant("wrong user name or password", error="invalid_grant")
        if not user.enabled:
            log.info("auth.login_refused user=%s reason=disabled", user.name)
            raise InvalidGrant("the user is disabled", error="invalid_grant")
        chosen = await self._project_for(user, project)
        role = user.role_in(chosen.id) or Role.ADMIN
        principal = Principal(
            subject=user.id,
            name=user.name,
            project_id=chosen.id,
            role=role,
            system_admin=user.system_admin,
        )
        log.info("auth.login user=%s project=%s role=%s", user.name, chosen.name, role.value)
        return await self._tokens.issue(principal, user.generation, refresh=True)

    async def client_credentials(self, address: str, client_id: str, secret: str) -> IssuedToken:
        """SOL013's grant: an API client's id and secret; its project and role are its own."""
        self.limit(address, f"client:{client_id}")
        try:
            client = await self._identity.get_client(client_id)
        except NotFound:
            client = None
        hashed = client.secret_hash if client is not None else None
        if not await self._passwords.verify(hashed, secret) or client is None:
            log.info("auth.client_refused reason=credentials")
            raise InvalidClient("wrong client id or secret", error="invalid_client")
        principal = Principal(
            subject=client.id,
            name=client.name,
            project_id=client.project_id,
            role=client.role,
            client=True,
        )
        log.info("auth.client_token client=%s project=%s", client.id, client.project_id)
        return await self._tokens.issue(principal, client.generation, refresh=False)

    async def refresh(self, address: str, refresh_token: str) -> IssuedToken:
        """A new access token for a refresh token, which is used up (a new one comes along)."""
        self.limit(address, None)
        try:
            principal = await self._tokens.verify(refresh_token, kind=REFRESH)
        except Unauthorized as exc:
            raise InvalidGrant(
                f"refresh token refused: {exc.detail}", error="invalid_grant"
            ) from None
        # counted per user once the token says whose it is (checking it hashes nothing)
        self._limit(self._per_user, f"user:{principal.name}", "user")
        await self._tokens.revoke(refresh_token)
        try:
            user = await self._identity.get_user(principal.subject)
        except NotFound:
            raise InvalidGrant("the user is gone", error="invalid_grant") from None
        return await self._tokens.issue(principal, user.generation, refresh=True)

    async def _project_for(self, user: User, wanted: str | None) -> Project:
        if wanted:
            try:
                project = await self._identity.get_project(wanted)
            except NotFound:
                project = None
            if project is None or (not user.system_admin and user.role_in(project.id) is None):
                raise InvalidGrant(
                    f"user {user.name} has no role in a project {wanted!r}", error="invalid_grant"
                )
            return project
        if len(user.roles) == 1:
            return await self._identity.get_project(user.roles[0].project_id)
        names = sorted([(await self._identity.get_project(m.project_id)).name for m in user.roles])
        if not names:
            raise InvalidGrant(f"user {user.name} has a role in no project", error="invalid_grant")
        raise BadRequest(
            f"user {user.name} has roles in several projects ({', '.join(names)}): name one "
            "with the 'project' parameter or the 'project-id' header",
            field="project",
        )
