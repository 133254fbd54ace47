"""Authentication and access control: password hashing, tokens, identity, rate limits."""

from __future__ import annotations

from dataclasses import dataclass

from nubo.auth.grants import Grants, RateLimits
from nubo.auth.identity import IdentityService
from nubo.auth.passwords import HashCost, Passwords
from nubo.auth.tokens import TokenPolicy, TokenService
from nubo.store.port import IdentityRepository, TokenRepository


@dataclass(frozen=True)
class Auth:
    """The authentication services the API and the composition root use."""

    tokens: TokenService
    grants: Grants
    identity: IdentityService

    async def start(self, admin_password: str | None) -> str | None:
        """Ready the signing key and, on a first start, the initial administrator.

        Returns the administrator's password when it was generated here.
        """
        await self.tokens.start()
        return await self.identity.ensure_admin(admin_password)


def build_auth(
    identity: IdentityRepository,
    tokens: TokenRepository,
    *,
    cost: HashCost | None = None,
    policy: TokenPolicy | None = None,
    limits: RateLimits | None = None,
) -> Auth:
    passwords = Passwords(cost)
    token_service = TokenService(tokens, policy)
    return Auth(
        tokens=token_service,
        grants=Grants(identity, token_service, passwords, limits),
        identity=IdentityService(identity, token_service, passwords),
    )


__all__ = ["Auth", "HashCost", "RateLimits", "TokenPolicy", "build_auth"]
