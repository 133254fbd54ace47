"""Authentication and access control: password hashing, tokens, identity, rate limits,
and the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from nubo.auth.audit import RETENTION as AUDIT_RETENTION
from nubo.auth.audit import AuditTrail
from nubo.auth.grants import Grants, RateLimits
from nubo.auth.identity import IdentityService
from nubo.auth.passwords import HashCost, Passwords
from nubo.auth.tokens import TokenPolicy, TokenService
from nubo.store.port import AuditRepository, IdentityRepository, TokenRepository


@dataclass(frozen=True)
class Auth:
    """The authentication services the API and the composition root use."""

    tokens: TokenService
    grants: Grants
    identity: IdentityService
    #: every mutating API call, for administrators (``nubo audit``)
    audit: AuditTrail

    async def start(self, admin_password: str | None) -> str | None:
        """Ready the signing key and, on a first start, the initial administrator.

        Returns the administrator's password when it was generated here.
        """
        await self.tokens.start()
        return await self.identity.ensure_admin(admin_password)


def build_auth(
    identity: IdentityRepository,
    tokens: TokenRepository,
    audit: AuditRepository,
    *,
    cost: HashCost | None = None,
    policy: TokenPolicy | None = None,
    limits: RateLimits | None = None,
    audit_retention: float = AUDIT_RETENTION,
) -> Auth:
    passwords = Passwords(cost)
    token_service = TokenService(tokens, policy)
    return Auth(
        tokens=token_service,
        grants=Grants(identity, token_service, passwords, limits),
        identity=IdentityService(identity, token_service, passwords),
        audit=AuditTrail(audit, audit_retention),
    )


__all__ = ["Auth", "HashCost", "RateLimits", "TokenPolicy", "build_auth"]
