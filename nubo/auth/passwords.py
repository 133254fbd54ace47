"""Argon2id password (and API client secret) hashing, off the event loop.

Hashing is meant to be slow (about 0.2 s with the default cost on a small
machine), so it runs in a thread, and only the token endpoint and password
changes hash: requests are checked on their token, never on a password.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError


@dataclass(frozen=True)
class HashCost:
    """Argon2id's cost parameters (RFC 9106); lower them only for tests."""

    time_cost: int = 3
    memory_cost_kib: int = 65536
    parallelism: int = 4


class Passwords:
    """Hash and verify secrets with Argon2id at a configured cost."""

    def __init__(self, cost: HashCost | None = None) -> None:
        cost = cost or HashCost()
        self._hasher = PasswordHasher(
            time_cost=cost.time_cost,
            memory_cost=cost.memory_cost_kib,
            parallelism=cost.parallelism,
            type=Type.ID,
        )
        # verified against when the user is unknown, so that the answer takes as long
        # as for a wrong password and does not tell which user names exist
        self._decoy = self._hasher.hash("nubo-decoy-password")

    async def hash(self, secret: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, secret)

    async def verify(self, hashed: str | None, secret: str) -> bool:
        """Whether ``secret`` matches ``hashed``; ``None`` costs the same and is False."""
        return await asyncio.to_thread(self._verify, hashed, secret)

    def _verify(self, hashed: str | None, secret: str) -> bool:
        try:
            self._hasher.verify(hashed or self._decoy, secret)
        except (VerificationError, InvalidHashError):
            return False
        return hashed is not None
