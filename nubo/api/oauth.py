"""``POST /oauth/token`` (RFC 6749: password, client credentials, refresh token grants)
and ``POST /oauth/revoke`` (RFC 7009), as seed 000 §4.3.1.3 and SOL013 §8 ask.

The project a password grant acts in comes from the ``project`` parameter or
the ``project-id`` header (the seed's name); client credentials may come as
form parameters or as HTTP Basic (RFC 6749 §2.3.1). Errors are problem
documents that also carry RFC 6749's ``error`` field.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Header, Request, Response
from pydantic import BaseModel

from nubo.api.audit import claim
from nubo.api.security import bearer_token, caller
from nubo.auth import Auth
from nubo.auth.tokens import IssuedToken
from nubo.model.errors import InvalidGrant
from nubo.model.identity import Principal

router = APIRouter(tags=["identity"])

_REQUEST = "invalid_request"
_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenAnswer(BaseModel):
    """RFC 6749 §5.1, with the project and role the token acts with."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_token: str | None = None
    project_id: str
    role: str
    system_admin: bool = False


class Revoked(BaseModel):
    revoked: int


def _auth(request: Request) -> Auth:
    auth: Auth = request.app.state.services.auth
    return auth


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _answer(issued: IssuedToken, response: Response) -> TokenAnswer:
    response.headers.update(_NO_STORE)
    principal = issued.principal
    return TokenAnswer(
        access_token=issued.access_token,
        expires_in=issued.expires_in,
        refresh_token=issued.refresh_token,
        project_id=principal.project_id,
        role=principal.role.value,
        system_admin=principal.system_admin,
    )


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidGrant("malformed Basic credentials", error="invalid_request") from None
    client_id, _, secret = decoded.partition(":")
    return client_id, secret


@router.post("/oauth/token", response_model=TokenAnswer, response_model_exclude_none=True)
async def token(
    request: Request,
    response: Response,
    grant_type: Annotated[str, Form()],
    username: Annotated[str | None, Form()] = None,
    password: Annotated[str | None, Form()] = None,
    project: Annotated[str | None, Form()] = None,
    client_id: Annotated[str | None, Form()] = None,
    client_secret: Annotated[str | None, Form()] = None,
    refresh_token: Annotated[str | None, Form()] = None,
    scope: Annotated[str | None, Form()] = None,
    project_id: Annotated[str | None, Header(alias="project-id")] = None,
    authorization: Annotated[str | None, Header()] = None,
) -> TokenAnswer:
    """Issue a bearer token."""
    grants = _auth(request).grants
    address = _address(request)
    if grant_type == "password":
        claim(request, username)
        if not username or password is None:
            raise InvalidGrant(
                "the password grant needs username and password", error="invalid_request"
            )
        issued = await grants.password(address, username, password, project or project_id)
    elif grant_type == "client_credentials":
        credentials = _basic(authorization) or (client_id or "", client_secret or "")
        claim(request, credentials[0])
        if not credentials[0]:
            raise InvalidGrant(
                "the client credentials grant needs client_id and client_secret",
                error="invalid_request",
            )
        issued = await grants.client_credentials(address, *credentials)
    elif grant_type == "refresh_token":
        if not refresh_token:
            raise InvalidGrant(
                "the refresh_token grant needs refresh_token", error="invalid_request"
            )
        issued = await grants.refresh(address, refresh_token)
    else:
        raise InvalidGrant(
            f"grant_type {grant_type!r} is not served: password, client_credentials or "
            "refresh_token",
            error="unsupported_grant_type",
        )
    return _answer(issued, response)


@router.post("/oauth/revoke", response_model=Revoked)
async def revoke(
    request: Request,
    principal: Annotated[Principal, Depends(caller)],
    token: Annotated[str | None, Form()] = None,
) -> Revoked:
    """Log out: revoke the bearer token of this request, and ``token`` (its refresh token)."""
    tokens = _auth(request).tokens
    revoked = 0
    if token:
        # only the caller's own tokens: another one is left alone, as RFC 7009 §2.2 allows
        named = await tokens.holder_of(token)
        if named is not None and named.subject == principal.subject:
            revoked += await tokens.revoke(token) is not None
    revoked += await tokens.revoke(bearer_token(request.scope)) is not None
    return Revoked(revoked=revoked)
