"""Bearer tokens: JWTs signed with a persisted, rotatable key; checked without the database.

Checking a token is a signature (HS256), an expiry and three dictionary
look-ups in a ``TokenState`` this replica keeps: the signing keys, the ids of
tokens revoked early (logout, a refresh token once used) and every token
holder's generation (a user's password, roles or state changed, a client's
secret rotated: the generation moved on and older tokens are refused). The
state is read again from the database when it is older than
``sync_interval`` (so a revocation on another replica holds here within that
time), at once after a change on this replica, and when a valid token names
what it does not know yet (a key or a user another replica just made).
"""

from __future__ import annotations

import asyncio
import math
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import jwt

from nubo.model.errors import Unauthorized
from nubo.model.identity import Principal, Role, SigningKey
from nubo.store.port import TokenRepository, TokenState

ISSUER = "nubo"
ALGORITHM = "HS256"
ACCESS = "access"
REFRESH = "refresh"
#: a token naming an unknown key reads the state again, at most this often (s): the key
#: may be new (a rotation on another replica), or the token forged
_FORCED_REFRESH_GAP = 0.1
#: a valid token issued after the state was read, naming a holder the state does not know
#: (yet), reads it again at most this often (s)
_NEWER_HOLDER_GAP = 0.01
_REQUIRED = ["exp", "iat", "sub", "jti", "typ", "gen", "prj", "role"]


@dataclass(frozen=True)
class TokenPolicy:
    """Lifetimes of tokens and how fresh the replica's view of revocations is kept."""

    access_ttl: float = 3600.0
    refresh_ttl: float = 7 * 86400.0
    sync_interval: float = 1.0


@dataclass(frozen=True)
class IssuedToken:
    """What the token endpoint answers."""

    access_token: str
    expires_in: int
    principal: Principal
    refresh_token: str | None = None


class TokenService:
    """Issues, checks, revokes tokens; rotates the signing key."""

    def __init__(
        self,
        repository: TokenRepository,
        policy: TokenPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._repository = repository
        self.policy = policy or TokenPolicy()
        self._clock = clock
        self._state = TokenState()
        self._loaded_at = -1.0
        self._lock = asyncio.Lock()
        #: when a token last made the state be read again, per reason (see the gaps)
        self._forced_at: dict[str, float] = {}

    async def start(self) -> None:
        """Make sure a key signs; drop keys retired longer ago than any token lives."""
        state = await self._refresh(0.0)
        if _signing_key(state) is None:
            await self._add_key(retire_others=False)
        horizon = self._clock() - max(self.policy.access_ttl, self.policy.refresh_ttl)
        await self._repository.delete_signing_keys(datetime.fromtimestamp(horizon, UTC))

    def invalidate(self) -> None:
        """Read the state again at the next check: something changed on this replica."""
        self._loaded_at = -1.0

    async def issue(self, principal: Principal, generation: int, *, refresh: bool) -> IssuedToken:
        """An access token for ``principal`` (and a refresh token) at the holder's generation."""
        state = await self._refresh(self.policy.sync_interval)
        key = _signing_key(state)
        if key is None:
            key = await self._add_key(retire_others=False)
        now = self._clock()
        ttl = self.policy.access_ttl
        access = self._encode(key, principal, generation, ACCESS, now, ttl)
        issued = principal.model_copy(update={"expires_at": now + ttl})
        refresh_token = None
        if refresh:
            refresh_token = self._encode(
                key, principal, generation, REFRESH, now, self.policy.refresh_ttl
            )
        return IssuedToken(access, int(ttl), issued, refresh_token)

    async def verify(self, token: str, kind: str = ACCESS) -> Principal:
        """The caller a token names; ``Unauthorized`` saying why it is refused."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise Unauthorized("the bearer token is malformed", error="invalid_token") from None
        state = await self._refresh(self.policy.sync_interval)
        key = state.keys.get(str(header.get("kid", "")))
        if key is None:
            state = await self._read_again("key", _FORCED_REFRESH_GAP)
            key = state.keys.get(str(header.get("kid", "")))
        if key is None:
            raise Unauthorized("the bearer token's signing key is unknown", error="invalid_token")
        claims = _decode(token, key)
        if claims["typ"] != kind:
            raise Unauthorized(f"not an {kind} token", error="invalid_token")
        if claims["jti"] in state.revoked:
            raise Unauthorized("the bearer token was revoked", error="invalid_token")
        holders = state.clients if claims.get("cli") else state.users
        known = holders.get(str(claims["sub"]))
        issued_after_state = int(claims["iat"]) + 1 > self._loaded_at
        if (known is None or known < int(claims["gen"])) and issued_after_state:
            # the holder may be newer than this replica's state: read it once more
            state = await self._read_again("holder", _NEWER_HOLDER_GAP)
            holders = state.clients if claims.get("cli") else state.users
            known = holders.get(str(claims["sub"]))
        if known != int(claims["gen"]):
            raise Unauthorized("the bearer token was revoked", error="invalid_token")
        return _principal_of(claims)

    async def holder_of(self, token: str) -> Principal | None:
        """Who a valid access or refresh token names; ``None`` for anything else."""
        for kind in (REFRESH, ACCESS):
            try:
                return await self.verify(token, kind)
            except Unauthorized:
                continue
        return None

    async def revoke(self, token: str) -> Principal | None:
        """Refuse a token from now on; ``None`` when it is not a valid token of nubo."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            return None
        state = await self._refresh(self.policy.sync_interval)
        key = state.keys.get(str(header.get("kid", "")))
        if key is None:
            return None
        try:
            claims = _decode(token, key)
        except Unauthorized:
            return None
        expires = datetime.fromtimestamp(float(claims["exp"]), UTC)
        await self._repository.revoke(str(claims["jti"]), expires)
        self._state = replace(self._state, revoked=self._state.revoked | {str(claims["jti"])})
        return _principal_of(claims)

    async def rotate(self, *, drop_old: bool) -> SigningKey:
        """A new signing key; the old ones verify until their tokens expire, or not at all."""
        key = await self._add_key(retire_others=True)
        if drop_old:
            await self._repository.delete_signing_keys(key.created_at)
        self.invalidate()
        return key

    async def signing_keys(self) -> list[SigningKey]:
        state = await self._refresh(0.0)
        return sorted(state.keys.values(), key=lambda k: k.created_at)

    async def _add_key(self, *, retire_others: bool) -> SigningKey:
        key = SigningKey(id=uuid.uuid4().hex, secret=secrets.token_bytes(32))
        await self._repository.add_signing_key(key, retire_others=retire_others)
        self.invalidate()
        return key

    def _encode(
        self,
        key: SigningKey,
        principal: Principal,
        generation: int,
        kind: str,
        now: float,
        ttl: float,
    ) -> str:
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": principal.subject,
            "name": principal.name,
            "prj": principal.project_id,
            "role": principal.role.value,
            "sys": principal.system_admin,
            "cli": principal.client,
            "gen": generation,
            "typ": kind,
            "jti": uuid.uuid4().hex,
            "iat": int(now),
            "exp": int(now + ttl),
        }
        return jwt.encode(claims, key.secret, algorithm=ALGORITHM, headers={"kid": key.id})

    async def _read_again(self, reason: str, gap: float) -> TokenState:
        """The state read now, unless a token read it for ``reason`` less than ``gap``
        seconds ago: a flood of such tokens costs a read per gap, not one each. The gap
        runs from the last read a token forced, not from the last read: one made by the
        periodic refresh a moment before another replica's change knows nothing of it."""
        now = self._clock()
        if now - self._forced_at.get(reason, -math.inf) < gap:
            return self._state
        self._forced_at[reason] = now
        return await self._refresh(0.0)

    async def _refresh(self, max_age: float) -> TokenState:
        """The state, read again when it is older than ``max_age`` seconds."""
        if self._clock() - self._loaded_at < max_age and self._loaded_at >= 0:
            return self._state
        async with self._lock:
            if self._clock() - self._loaded_at < max_age and self._loaded_at >= 0:
                return self._state
            started = self._clock()
            self._state = await self._repository.token_state(datetime.fromtimestamp(started, UTC))
            self._loaded_at = started
            return self._state


def _signing_key(state: TokenState) -> SigningKey | None:
    current = [k for k in state.keys.values() if k.retired_at is None]
    return max(current, key=lambda k: k.created_at) if current else None


def _decode(token: str, key: SigningKey) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": _REQUIRED},
        )
    except jwt.ExpiredSignatureError:
        raise Unauthorized("the bearer token has expired", error="invalid_token") from None
    except jwt.InvalidTokenError:
        raise Unauthorized("the bearer token is not valid", error="invalid_token") from None
    return claims


def _principal_of(claims: dict[str, Any]) -> Principal:
    try:
        return Principal(
            subject=str(claims["sub"]),
            name=str(claims.get("name", "")),
            project_id=str(claims["prj"]),
            role=Role(claims["role"]),
            system_admin=bool(claims.get("sys")),
            client=bool(claims.get("cli")),
            token_id=str(claims["jti"]),
            expires_at=float(claims["exp"]),
        )
    except (ValueError, KeyError):
        raise Unauthorized("the bearer token is not valid", error="invalid_token") from None
