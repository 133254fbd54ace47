"""CallbackCredentials: the headers that authenticate nubo to a subscriber's callback.

BASIC sends the user and password of the subscription; OAUTH2_CLIENT_CREDENTIALS
gets an access token from the subscription's token endpoint, keeps it until
shortly before it expires (or the callback answers 401), and sends it as a
bearer token. The credentials are opened from their sealed form only here, in
memory; no log line, error or answer carries them.
"""

from __future__ import annotations

import base64
import time

from nubo.model.callback_auth import AuthType
from nubo.model.subscriptions import Subscription
from nubo.notify.delivery import CallbackClient, DeliveryFailed
from nubo.notify.sealing import CredentialsKeyError, Seal

#: seconds before its end a token is no longer used
_MARGIN = 30.0


class CallbackCredentials:
    def __init__(self, seal: Seal, client: CallbackClient) -> None:
        self.seal = seal
        self.client = client
        #: subscription id -> (access token, when to stop using it)
        self._tokens: dict[str, tuple[str, float]] = {}

    async def headers(self, subscription: Subscription) -> dict[str, str]:
        if not subscription.credentials:
            return {}
        try:
            auth = self.seal.open(subscription.credentials)
        except CredentialsKeyError as exc:
            raise DeliveryFailed(str(exc)) from None
        if auth.kind is AuthType.BASIC:
            pair = base64.b64encode(f"{auth.user}:{auth.password}".encode()).decode()
            return {"Authorization": f"Basic {pair}"}
        cached = self._tokens.get(subscription.id)
        if cached is None or time.monotonic() >= cached[1]:
            token, lifetime = await self.client.token(
                auth.token_endpoint, auth.client_id, auth.client_password
            )
            cached = (token, time.monotonic() + max(0.0, lifetime - _MARGIN))
            self._tokens[subscription.id] = cached
        return {"Authorization": f"Bearer {cached[0]}"}

    def refused(self, subscription: Subscription) -> None:
        self._tokens.pop(subscription.id, None)
