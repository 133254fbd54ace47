"""Tokens: the grants of ``/oauth/token``, revocation, expiry, signing keys, rate limits,
the initial administrator, and the 500 answer that tells nothing but an id."""

from __future__ import annotations

import base64
import logging
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nubo.app import Nubo
from nubo.model.identity import Role
from tests.auth import ADMIN_PASSWORD, add_project, add_user, bearer, expired_token, token_for
from tests.conftest import fake_nubo, running
from tests.sol005 import asgi_client

PASSWORD = "password-of-test"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Nubo]:
    async with running(fake_nubo(tmp_path)) as nubo:
        await add_user(nubo, "alice", {"default": Role.USER})
        yield nubo


@pytest.fixture
async def http(app: Nubo) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app.api()) as client:
        yield client


async def login(http: httpx.AsyncClient, user: str, password: str, **form: str) -> httpx.Response:
    data = {"grant_type": "password", "username": user, "password": password, **form}
    return await http.post("/oauth/token", data=data)


async def as_(http: httpx.AsyncClient, token: str, path: str = "/api/v1/whoami") -> httpx.Response:
    return await http.get(path, headers=bearer(token))


async def test_password_grant_gives_a_token_of_the_users_project_and_role(
    http: httpx.AsyncClient,
) -> None:
    answer = await login(http, "alice", PASSWORD)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert body["role"] == "USER" and body["refresh_token"]
    me = (await as_(http, body["access_token"])).json()
    assert me["name"] == "alice" and me["role"] == "USER" and not me["systemAdmin"]
    assert me["projectId"] == body["project_id"]


async def test_wrong_credentials_say_nothing_of_who_exists(http: httpx.AsyncClient) -> None:
    wrong = await login(http, "alice", "not-the-password")
    unknown = await login(http, "nobody", "not-the-password")
    for answer in (wrong, unknown):
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_grant"
        assert answer.json()["detail"] == "wrong user name or password"


async def test_the_project_comes_from_the_parameter_or_the_project_id_header(
    app: Nubo, http: httpx.AsyncClient
) -> None:
    other = await add_project(app, "other")
    await add_user(app, "bob", {"default": Role.GUEST, "other": Role.ADMIN})
    several = await login(http, "bob", PASSWORD)
    assert several.status_code == 400 and "default, other" in several.json()["detail"]
    by_name = (await login(http, "bob", PASSWORD, project="other")).json()
    assert (by_name["project_id"], by_name["role"]) == (other, "ADMIN")
    by_header = await http.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "bob", "password": PASSWORD},
        headers={"project-id": other},
    )
    assert by_header.json()["project_id"] == other
    foreign = await login(http, "alice", PASSWORD, project="other")
    assert foreign.status_code == 400


async def test_missing_malformed_expired_tokens_are_401_with_www_authenticate(
    app: Nubo, http: httpx.AsyncClient
) -> None:
    for headers in (
        {},
        {"Authorization": "Basic YTpi"},
        {"Authorization": "Bearer not.a.jwt"},
        bearer(await expired_token(app)),
        bearer((await token_for(app))[:-4] + "AAAA"),
    ):
        answer = await http.get("/nslcm/v1/ns_instances", headers=headers)
        assert answer.status_code == 401, (headers, answer.text)
        assert answer.headers["www-authenticate"].startswith("Bearer")
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.headers["version"] == "1.2.0"  # still a SOL005 answer
    expired = await http.get("/api/v1/whoami", headers=bearer(await expired_token(app)))
    assert "expired" in expired.json()["detail"]
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]


async def test_health_token_issuance_and_the_openapi_document_need_no_token(
    http: httpx.AsyncClient,
) -> None:
    assert (await http.get("/health")).status_code == 200
    document = (await http.get("/openapi.json")).json()
    assert document["paths"]["/oauth/token"]["post"]["security"] == []
    assert document["paths"]["/api/v1/vims"]["post"]["x-nubo-access"] == "ADMIN"
    assert "bearer" in document["components"]["securitySchemes"]
    assert (await http.post("/oauth/token", data={"grant_type": "x"})).status_code == 400


async def test_logout_revokes_the_access_and_the_refresh_token(http: httpx.AsyncClient) -> None:
    tokens = (await login(http, "alice", PASSWORD)).json()
    access, refresh = tokens["access_token"], tokens["refresh_token"]
    out = await http.post("/oauth/revoke", data={"token": refresh}, headers=bearer(access))
    assert out.status_code == 200 and out.json() == {"revoked": 2}
    assert (await as_(http, access)).status_code == 401
    again = await http.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": refresh}
    )
    assert again.status_code == 400 and "revoked" in again.json()["detail"]


async def test_a_refresh_token_gives_new_tokens_once(http: httpx.AsyncClient) -> None:
    refresh = (await login(http, "alice", PASSWORD)).json()["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh}
    renewed = await http.post("/oauth/token", data=form)
    assert renewed.status_code == 200, renewed.text
    assert (await as_(http, renewed.json()["access_token"])).json()["name"] == "alice"
    assert (await http.post("/oauth/token", data=form)).status_code == 400  # used up
    # a refresh token is no access token
    assert (await as_(http, renewed.json()["refresh_token"])).status_code == 401


async def test_password_change_disable_delete_and_role_change_end_the_tokens(
    app: Nubo, http: httpx.AsyncClient
) -> None:
    admin = bearer(await token_for(app))
    token = (await login(http, "alice", PASSWORD)).json()["access_token"]
    changed = await http.put(
        "/api/v1/users/alice/password",
        json={"currentPassword": PASSWORD, "newPassword": "a-new-password"},
        headers=bearer(token),
    )
    assert changed.status_code == 204, changed.text
    assert (await as_(http, token)).status_code == 401
    assert (await login(http, "alice", PASSWORD)).status_code == 400
    token = (await login(http, "alice", "a-new-password")).json()["access_token"]

    await http.patch("/api/v1/users/alice", json={"enabled": False}, headers=admin)
    assert (await as_(http, token)).status_code == 401
    assert (await login(http, "alice", "a-new-password")).json()["detail"] == "the user is disabled"
    await http.patch("/api/v1/users/alice", json={"enabled": True}, headers=admin)

    token = (await login(http, "alice", "a-new-password")).json()["access_token"]
    project = (await as_(http, token)).json()["projectId"]
    promoted = await http.put(
        f"/api/v1/projects/{project}/members/alice", json={"role": "ADMIN"}, headers=admin
    )
    assert promoted.status_code == 200 and promoted.json()["role"] == "ADMIN"
    assert (await as_(http, token)).status_code == 401
    token = (await login(http, "alice", "a-new-password")).json()["access_token"]
    assert (await as_(http, token)).json()["role"] == "ADMIN"

    assert (await http.delete("/api/v1/users/alice", headers=admin)).status_code == 204
    assert (await as_(http, token)).status_code == 401


async def test_api_clients_get_tokens_and_a_rotated_secret_ends_them(
    app: Nubo, http: httpx.AsyncClient
) -> None:
    admin = bearer(await token_for(app))
    created = await http.post(
        "/api/v1/projects/default/clients", json={"name": "oss", "role": "GUEST"}, headers=admin
    )
    assert created.status_code == 201, created.text
    client_id, secret = created.json()["clientId"], created.json()["clientSecret"]
    listed = (await http.get("/api/v1/projects/default/clients", headers=admin)).json()
    assert [c["clientId"] for c in listed] == [client_id] and "clientSecret" not in listed[0]

    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    token = (await http.post("/oauth/token", data=form)).json()["access_token"]
    me = (await as_(http, token)).json()
    assert me["client"] and me["role"] == "GUEST"
    # a GUEST client reads, and may not operate
    assert (await as_(http, token, "/api/v1/ns-records")).status_code == 200
    onboard = await http.post("/api/v1/ns-descriptors", json={}, headers=bearer(token))
    assert onboard.status_code == 403 and onboard.json()["needed"] == "USER"
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    by_basic = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert by_basic.status_code == 200

    rotated = await http.post(f"/api/v1/projects/default/clients/{client_id}/secret", headers=admin)
    assert rotated.json()["clientSecret"] != secret
    assert (await as_(http, token)).status_code == 401
    refused = await http.post("/oauth/token", data=form)
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"


async def test_a_project_admin_manages_its_own_project_only(
    app: Nubo, http: httpx.AsyncClient
) -> None:
    await add_project(app, "other")
    await add_user(app, "carol", {"other": Role.ADMIN})
    carol = bearer(await token_for(app, "carol", project="other"))
    assert (await http.get("/api/v1/projects/other/members", headers=carol)).status_code == 200
    for path in ("/api/v1/projects/default/members", "/api/v1/projects/default"):
        assert (await http.get(path, headers=carol)).status_code == 404
    listed = (await http.get("/api/v1/projects", headers=carol)).json()
    assert [p["name"] for p in listed] == ["other"]
    assert (await http.get("/api/v1/users", headers=carol)).status_code == 403


async def test_a_rotated_key_signs_and_the_old_one_verifies_until_dropped(
    app: Nubo, http: httpx.AsyncClient
) -> None:
    admin = await token_for(app)
    rotated = await http.post("/api/v1/signing-keys", json={}, headers=bearer(admin))
    assert rotated.status_code == 201
    assert (await as_(http, admin)).status_code == 200
    fresh = await token_for(app)
    keys = (await http.get("/api/v1/signing-keys", headers=bearer(fresh))).json()
    assert len(keys) == 2 and keys[0]["retiredAt"] and not keys[1]["retiredAt"]
    dropped = await http.post("/api/v1/signing-keys", json={"dropOld": True}, headers=bearer(fresh))
    assert dropped.status_code == 201
    assert (await as_(http, admin)).status_code == 401
    assert (await as_(http, fresh)).status_code == 401
    assert (await as_(http, await token_for(app))).status_code == 200


async def test_token_requests_are_rate_limited_per_user_and_per_address(tmp_path: Path) -> None:
    limits = {"token_rate_per_user": 3, "token_rate_per_address": 5, "token_rate_period": 60.0}
    async with running(fake_nubo(tmp_path, **limits)) as app, asgi_client(app.api()) as http:
        for _ in range(3):
            assert (await login(http, "admin", "wrong-password")).status_code == 400
        limited = await login(http, "admin", ADMIN_PASSWORD)
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 20
        assert limited.json()["code"] == "TOO_MANY_REQUESTS"
        # another user from the same address, until the address's own limit
        assert (await login(http, "someone", "x")).status_code == 400
        assert (await login(http, "someone", "x")).status_code == 429


async def test_refreshes_count_against_their_own_user(tmp_path: Path) -> None:
    limits = {"token_rate_per_user": 3, "token_rate_per_address": 100}
    async with running(fake_nubo(tmp_path, **limits)) as app, asgi_client(app.api()) as http:
        await add_user(app, "alice", {"default": Role.USER})
        await add_user(app, "bob", {"default": Role.USER})

        async def refreshed(refresh: str) -> httpx.Response:
            form = {"grant_type": "refresh_token", "refresh_token": refresh}
            return await http.post("/oauth/token", data=form)

        tokens = (await login(http, "alice", PASSWORD)).json()
        for _ in range(2):
            tokens = (await refreshed(tokens["refresh_token"])).json()
        assert (await refreshed(tokens["refresh_token"])).status_code == 429
        bob = (await login(http, "bob", PASSWORD)).json()
        assert (await refreshed(bob["refresh_token"])).status_code == 200


async def test_an_unexpected_error_answers_an_id_that_is_in_the_log(
    app: Nubo, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*_args: Any) -> Any:
        raise RuntimeError("password=hunter2 in an exception")

    app.vims.list = broken  # type: ignore[method-assign]
    # Starlette raises the error again after answering; the transport must not pass it on
    transport = httpx.ASGITransport(app=app.api(), raise_app_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="nubo.api"):
        async with httpx.AsyncClient(transport=transport, base_url="http://nubo") as raw:
            answer = await as_(raw, await token_for(app), "/api/v1/vims")
    assert answer.status_code == 500
    problem = answer.json()
    assert "hunter2" not in answer.text and "RuntimeError" not in answer.text
    assert problem["errorId"] in problem["detail"]
    logged = [r for r in caplog.records if problem["errorId"] in r.getMessage()]
    assert logged and "hunter2" in str(logged[0].exc_info[1])  # type: ignore[index]


async def test_the_initial_admin_password_comes_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "admin-password"
    secret.write_text("from-a-file-123\n")
    app = fake_nubo(tmp_path / "data", admin_password="", admin_password_file=str(secret))
    async with running(app), asgi_client(app.api()) as http:
        assert (await login(http, "admin", "from-a-file-123")).status_code == 200
        admin = bearer(await token_for(app))
        refused = await http.delete("/api/v1/users/admin", headers=admin)
        assert refused.status_code == 409


async def test_a_generated_admin_password_is_printed_once_and_never_logged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    app = fake_nubo(tmp_path, admin_password="")
    with caplog.at_level(logging.DEBUG):
        async with running(app), asgi_client(app.api()) as http:
            printed = capsys.readouterr().err
            password = printed.split("the password")[1].split()[0]
            assert (await login(http, "admin", password)).status_code == 200
    assert password not in caplog.text
    async with running(fake_nubo(tmp_path, admin_password="")):
        assert "the password" not in capsys.readouterr().err  # not a second time


def test_the_cli_config_file_is_private(tmp_path: Path) -> None:
    from nubo.cli.credentials import Credentials

    credentials = Credentials("http://nubo", tmp_path / "nubo" / "config.json")
    credentials.save({"access_token": "t", "expires_in": 60}, username="admin")
    mode = stat.S_IMODE((tmp_path / "nubo" / "config.json").stat().st_mode)
    assert mode == 0o600
    assert credentials.session()["access_token"] == "t"  # type: ignore[index]
