"""Subscriptions that authenticate nubo to their callback (SOL013: BASIC and
OAUTH2_CLIENT_CREDENTIALS): credentials stored sealed with the operator's key,
never shown, sent with the endpoint test and with every notification."""

from __future__ import annotations

import base64
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from nubo.app import Nubo
from nubo.notify.sealing import CredentialsKeyError, Seal
from nubo.store.tables import subscriptions as subscription_rows
from tests.callback_server import CallbackServer
from tests.conftest import api_client, fake_nubo, running
from tests.unit.test_subscriptions import FAST, SUBS, run_lifecycle

KEY = base64.urlsafe_b64encode(os.urandom(32)).decode()
PASSWORD = "cb-pass-W4tch"
CLIENT_SECRET = "cb-client-s3cret"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Nubo]:
    async with running(fake_nubo(tmp_path, callback_credentials_key=KEY, **FAST)) as nubo:
        yield nubo


@pytest.fixture
async def http(app: Nubo) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as client:
        yield client


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


async def stored_bodies(app: Nubo) -> str:
    async with app.database.engine.connect() as conn:
        rows = (await conn.execute(select(subscription_rows))).mappings().all()
    return json.dumps([dict(r) for r in rows], default=str)


async def test_basic_credentials_go_with_the_test_and_every_notification(
    app: Nubo, http: httpx.AsyncClient
) -> None:
    expected = basic("nubo", PASSWORD)
    with CallbackServer(authorization=lambda header: header == expected) as callback:
        body: dict[str, Any] = {
            "callbackUri": callback.url,
            "authentication": {
                "authType": ["BASIC"],
                "paramsBasic": {"userName": "nubo", "password": PASSWORD},
            },
        }
        created = await http.post(SUBS, json=body)
        assert created.status_code == 201, created.text
        await run_lifecycle(http)
        await callback.wait_for(6)
        assert set(callback.authorizations) == {expected}
        shown = [created.text, (await http.get(SUBS)).text]
        shown.append((await http.get(f"{SUBS}/{created.json()['id']}")).text)
    assert all(PASSWORD not in text and "paramsBasic" not in text for text in shown)
    assert PASSWORD not in await stored_bodies(app)  # sealed in the database


async def test_oauth2_tokens_are_fetched_kept_and_renewed_after_a_401(
    app: Nubo, http: httpx.AsyncClient
) -> None:
    accepted: set[str] = {"Bearer tok-1"}
    with CallbackServer(
        authorization=lambda header: header in accepted,
        token_client=("nubo-client", CLIENT_SECRET),
    ) as callback:
        body = {
            "callbackUri": callback.url,
            "authentication": {
                "authType": ["OAUTH2_CLIENT_CREDENTIALS"],
                "paramsOauth2ClientCredentials": {
                    "clientId": "nubo-client",
                    "clientPassword": CLIENT_SECRET,
                    "tokenEndpoint": callback.token_url,
                },
            },
        }
        created = await http.post(SUBS, json=body)
        assert created.status_code == 201, created.text
        await run_lifecycle(http)
        await callback.wait_for(6)
        assert callback.tokens == ["tok-1"]  # one token for the test and all of them
        # the subscriber revokes it: the next notification gets a 401, then a new token
        accepted.clear()
        accepted.add("Bearer tok-2")
        await run_lifecycle(http)
        await callback.wait_for(12)
        assert callback.tokens == ["tok-1", "tok-2"]
        assert "Bearer tok-1" in callback.authorizations[-7:]  # the refused try
    assert CLIENT_SECRET not in created.text + await stored_bodies(app)


async def test_a_token_endpoint_that_refuses_fails_the_subscription(
    http: httpx.AsyncClient,
) -> None:
    with CallbackServer(token_client=("right", "pw")) as callback:
        body = {
            "callbackUri": callback.url,
            "authentication": {
                "authType": ["OAUTH2_CLIENT_CREDENTIALS"],
                "paramsOauth2ClientCredentials": {
                    "clientId": "wrong",
                    "clientPassword": "pw",
                    "tokenEndpoint": callback.token_url,
                },
            },
        }
        refused = await http.post(SUBS, json=body)
        assert refused.status_code >= 400
        assert "token endpoint" in refused.json()["detail"]
        assert callback.gets == 0
    assert (await http.get(SUBS)).json() == []


def test_a_malformed_key_and_a_foreign_seal_are_refused() -> None:
    with pytest.raises(CredentialsKeyError, match="URL-safe base64"):
        Seal("not-a-key")
    from nubo.model.callback_auth import AuthType, CallbackAuth

    sealed = Seal(KEY).seal(CallbackAuth(AuthType.BASIC, user="u", password="p"))
    other = base64.urlsafe_b64encode(os.urandom(32)).decode()
    with pytest.raises(CredentialsKeyError, match="another"):
        Seal(other).open(sealed)
    assert Seal(KEY).open(sealed).password == "p"
