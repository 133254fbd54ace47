"""Sealing callback credentials: encrypted with the operator's key before they are stored.

The key is ``NUBO_CALLBACK_CREDENTIALS_KEY`` (a Fernet key: 32 random bytes,
URL-safe base64; ``nubo serve`` prints how to make one when it is missing or
malformed). Fernet authenticates what it decrypts, so a sealed value changed
in the database, or sealed under another key, is refused instead of used.
Every replica needs the same key. Without a key, subscriptions with
``authentication`` are refused, saying which setting to give.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken

from nubo.model.callback_auth import CallbackAuth
from nubo.model.errors import NotSupported

KEY_SETTING = "NUBO_CALLBACK_CREDENTIALS_KEY"
HOW_TO_MAKE = (
    "python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'"
)


class CredentialsKeyError(ValueError):
    """The configured key is not a Fernet key."""


class Seal:
    def __init__(self, key: str = "") -> None:
        self._fernet: Fernet | None = None
        if key.strip():
            try:
                self._fernet = Fernet(key.strip().encode())
            except ValueError:
                raise CredentialsKeyError(
                    f"{KEY_SETTING} is not a key: it must be 32 random bytes in URL-safe "
                    f"base64 (44 characters); make one with {HOW_TO_MAKE}"
                ) from None

    @property
    def ready(self) -> bool:
        return self._fernet is not None

    def seal(self, auth: CallbackAuth) -> str:
        if self._fernet is None:
            raise NotSupported(
                f"authentication of notifications needs {KEY_SETTING} on the server, to store "
                "the credentials encrypted; ask the operator, or subscribe without "
                "'authentication'",
                field="authentication",
            )
        return self._fernet.encrypt(json.dumps(auth.to_dict()).encode()).decode()

    def open(self, sealed: str) -> CallbackAuth:
        """The credentials; ``CredentialsKeyError`` when this key did not seal them."""
        if self._fernet is None:
            raise CredentialsKeyError(
                f"{KEY_SETTING} is not set: stored credentials cannot be read"
            )
        try:
            return CallbackAuth.from_dict(json.loads(self._fernet.decrypt(sealed.encode())))
        except InvalidToken:
            raise CredentialsKeyError(
                f"stored callback credentials were sealed with another {KEY_SETTING}"
            ) from None
