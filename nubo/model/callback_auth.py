"""How nubo authenticates to a subscriber's callback (SOL013 §8.3, SubscriptionAuthentication).

A subscription request may carry ``authentication``: ``authType`` lists
``BASIC`` (``paramsBasic``: ``userName``, ``password``) or
``OAUTH2_CLIENT_CREDENTIALS`` (``paramsOauth2ClientCredentials``:
``clientId``, ``clientPassword``, ``tokenEndpoint``); ``TLS_CERT`` (client
certificates) is refused. The credentials are stored sealed (see
``nubo.notify.sealing``) and are never shown again.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from nubo.model.errors import BadRequest, NotSupported


class AuthType(StrEnum):
    BASIC = "BASIC"
    OAUTH2_CLIENT_CREDENTIALS = "OAUTH2_CLIENT_CREDENTIALS"


@dataclass(frozen=True)
class CallbackAuth:
    kind: AuthType
    user: str = ""
    password: str = ""
    client_id: str = ""
    client_password: str = ""
    token_endpoint: str = ""

    def to_dict(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> CallbackAuth:
        return cls(**{**data, "kind": AuthType(data["kind"])})  # type: ignore[arg-type]


def callback_auth(raw: Any) -> CallbackAuth:
    """The validated credentials of a request's ``authentication``; ``BadRequest`` at the
    field in error, ``NotSupported`` for TLS client certificates."""
    if not isinstance(raw, dict):
        raise BadRequest("authentication must be an object", field="authentication")
    kinds = raw.get("authType")
    if not isinstance(kinds, list) or not kinds or not all(isinstance(k, str) for k in kinds):
        raise BadRequest(
            'authentication.authType must be a list such as ["BASIC"]',
            field="authentication.authType",
        )
    if "TLS_CERT" in kinds:
        raise NotSupported(
            "authentication by TLS client certificate (TLS_CERT) is not supported: use "
            "BASIC or OAUTH2_CLIENT_CREDENTIALS",
            field="authentication.authType",
        )
    unknown = sorted(set(kinds) - set(AuthType))
    if unknown or len(kinds) != 1:
        raise BadRequest(
            f"authentication.authType must name one of BASIC, OAUTH2_CLIENT_CREDENTIALS; "
            f"got {kinds}",
            field="authentication.authType",
        )
    if kinds[0] == AuthType.BASIC:
        params = _params(raw, "paramsBasic", ("userName", "password"))
        return CallbackAuth(AuthType.BASIC, user=params["userName"], password=params["password"])
    params = _params(
        raw, "paramsOauth2ClientCredentials", ("clientId", "clientPassword", "tokenEndpoint")
    )
    endpoint = params["tokenEndpoint"]
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise BadRequest(
            f"tokenEndpoint {endpoint!r} must be an absolute http(s) URL",
            field="authentication.paramsOauth2ClientCredentials.tokenEndpoint",
        )
    return CallbackAuth(
        AuthType.OAUTH2_CLIENT_CREDENTIALS,
        client_id=params["clientId"],
        client_password=params["clientPassword"],
        token_endpoint=endpoint,
    )


def _params(raw: dict[str, Any], name: str, keys: tuple[str, ...]) -> dict[str, str]:
    params = raw.get(name)
    where = f"authentication.{name}"
    if not isinstance(params, dict):
        raise BadRequest(f"{where} is required for {raw['authType'][0]}", field=where)
    for key in keys:
        value = params.get(key)
        if not isinstance(value, str) or not value:
            raise BadRequest(
                f"{where}.{key} is required (a non-empty string)", field=f"{where}.{key}"
            )
    return {key: params[key] for key in keys}
