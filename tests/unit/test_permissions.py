"""The permission matrix, generated from the OpenAPI document.

For every operation the document lists, and each kind of caller (anonymous,
an expired token, a revoked token, GUEST, USER and ADMIN of the project, the
ADMIN of another project, the system administrator), the answer must be the
one the operation's ``x-nubo-access`` documents: 401 without a valid token,
403 when the role does not reach it, 404 for a project the caller does not
administer, otherwise whatever the operation answers to a request with
made-up ids and a body it accepts (never 401 or 403). The ADMIN of another
project is asked with the ids of real records of the ``default`` project
(one of every kind): it gets 404 for each, and lists without them. The
matrix is printed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from nubo.app import Nubo
from nubo.model.identity import Role
from tests.auth import add_project, add_user, expired_token, revoked_token, token_for
from tests.callback_server import CallbackServer
from tests.conftest import fake_nubo, running
from tests.sol005 import asgi_client
from tests.tenancy import concrete as concrete_path
from tests.tenancy import make_records, record_params, request_for

RANK = {"GUEST": 1, "USER": 2, "ADMIN": 3}
#: the callers, with their role in the ``default`` project (None: no valid token)
CALLERS: dict[str, str | None] = {
    "anonymous": None,
    "expired": None,
    "revoked": None,
    "guest": "GUEST",
    "user": "USER",
    "admin": "ADMIN",
    "other-admin": "ADMIN",
    "sysadmin": "ADMIN",
}
#: valid bodies where the body is checked before the record (else every caller gets a 400)
BODIES = {
    ("put", "/api/v1/projects/{project_id}/members/{user_name}"): {"role": "GUEST"},
    ("post", "/api/v1/projects/{project_id}/clients"): {"name": "matrix", "role": "GUEST"},
}
#: SELF operations are asked about this user's own account
SELF_USER = "user"


def expected(access: str, caller: str, path: str) -> str:
    """What the table promises: ``401``, ``403``, ``404`` or ``ok`` (anything but those)."""
    if access == "PUBLIC":
        return "ok"
    role = CALLERS[caller]
    if role is None:
        return "401"
    if caller == "sysadmin":
        return "ok"
    if access == "SYSTEM_ADMIN":
        return "403"
    if access == "SELF":
        return "ok" if caller == SELF_USER else "403"
    if RANK[role] < RANK[access]:
        return "403"
    if caller == "other-admin" and ("{project_id}" in path or record_params(path)):
        return "404"
    return "ok"


def answers_as(want: str, status: int) -> bool:
    """``ok``: the caller got through (a made-up id may well answer 404 then)."""
    return status not in (401, 403) if want == "ok" else str(status) == want


@pytest.fixture
async def app(tmp_path: Path) -> Any:
    async with running(fake_nubo(tmp_path)) as nubo:
        await add_user(nubo, "guest", {"default": Role.GUEST})
        await add_user(nubo, "user", {"default": Role.USER})
        await add_user(nubo, "project-admin", {"default": Role.ADMIN})
        await add_project(nubo, "other")
        await add_user(nubo, "other-admin", {"other": Role.ADMIN})
        yield nubo


@pytest.fixture
async def records(tmp_path: Path) -> Any:
    """An orchestrator with monitoring, and records of every kind in ``default``."""
    with CallbackServer() as callback:
        async with running(fake_nubo(tmp_path, background=True)) as nubo:
            await add_user(nubo, "guest", {"default": Role.GUEST})
            await add_user(nubo, "user", {"default": Role.USER})
            await add_user(nubo, "project-admin", {"default": Role.ADMIN})
            await add_project(nubo, "other")
            await add_user(nubo, "other-admin", {"other": Role.ADMIN})
            token = await token_for(nubo, "project-admin")
            async with asgi_client(nubo.api(), token=token) as http:
                ids = await make_records(nubo, http, callback.url)
            yield nubo, ids


def token_makers(app: Nubo) -> dict[str, Callable[[], Awaitable[str | None]]]:
    async def none() -> None:
        return None

    return {
        "anonymous": none,
        "expired": lambda: expired_token(app, "user"),
        "revoked": lambda: revoked_token(app, "user"),
        "guest": lambda: token_for(app, "guest"),
        "user": lambda: token_for(app, "user"),
        "admin": lambda: token_for(app, "project-admin"),
        "other-admin": lambda: token_for(app, "other-admin", project="other"),
        "sysadmin": lambda: token_for(app, "admin"),
    }


def concrete(path: str, access: str, project_id: str, ids: dict[str, str]) -> str:
    values = {
        "project_id": project_id,
        # SELF operations ask about the "user" account; the others about nobody (so
        # that a system administrator's allowed DELETE removes nothing the test needs)
        "user_id": SELF_USER if access == "SELF" else "nobody",
        "user_name": "nobody",
        **ids,
    }
    return concrete_path(path, values)


async def test_every_operation_answers_each_caller_as_documented(
    records: tuple[Nubo, dict[str, str]], capsys: pytest.CaptureFixture[str]
) -> None:
    app, ids = records
    secret_ids = sorted(set(ids.values()) - {ids["artifact_path"]})
    project_id = (await app.repositories.identity.get_project("default")).id
    makers = token_makers(app)
    async with asgi_client(app.api()) as http:
        document = (await http.get("/openapi.json")).json()
        rows: list[tuple[str, str, str, dict[str, str]]] = []
        wrong: list[str] = []
        for path, operations in sorted(document["paths"].items()):
            for method, operation in sorted(operations.items()):
                access = operation["x-nubo-access"]
                answers: dict[str, str] = {}
                for caller in CALLERS:
                    token = await makers[caller]()
                    # only the other project's ADMIN is given real records of "default"
                    real = ids if caller == "other-admin" else {}
                    kwargs = request_for(method, path, real)
                    if (method, path) in BODIES:
                        kwargs = {"json": BODIES[(method, path)]}
                    headers = {"Authorization": f"Bearer {token}"} if token else {}
                    headers |= kwargs.pop("headers", {})
                    response = await http.request(
                        method.upper(),
                        concrete(path, access, project_id, real),
                        headers=headers,
                        **kwargs,
                    )
                    want = expected(access, caller, path)
                    answers[caller] = str(response.status_code)
                    if not answers_as(want, response.status_code):
                        wrong.append(
                            f"{method.upper()} {path} as {caller}: {want} expected, got "
                            f"{response.status_code} {response.text[:200]}"
                        )
                    # ids it was not asked about (a 404 names the id it was given, as for any)
                    sent = str(kwargs)
                    shown = [i for i in secret_ids if i in response.text and i not in sent]
                    if caller == "other-admin" and shown and not record_params(path):
                        wrong.append(f"{method.upper()} {path} as {caller} shows {shown}")
                rows.append((method.upper(), path, access, answers))
    with capsys.disabled():
        print("\n" + render(rows))
    assert not wrong, "\n".join(wrong)
    assert len(rows) > 90


def render(rows: list[tuple[str, str, str, dict[str, str]]]) -> str:
    width = max(len(f"{m} {p}") for m, p, _a, _s in rows)
    head = f"{'operation':<{width}}  {'access':<12} " + " ".join(f"{c:>11}" for c in CALLERS)
    lines = [head, "-" * len(head)]
    for method, path, access, answers in rows:
        cells = " ".join(f"{answers[c]:>11}" for c in CALLERS)
        lines.append(f"{method + ' ' + path:<{width}}  {access:<12} {cells}")
    return "\n".join(lines)


async def test_a_token_of_a_user_that_is_gone_is_refused(app: Nubo) -> None:
    token = await token_for(app, "guest")
    async with asgi_client(app.api(), token=token) as http:
        assert (await http.get("/api/v1/whoami")).status_code == 200
        sysadmin = await token_for(app)
        gone = await http.delete(
            "/api/v1/users/guest", headers={"Authorization": f"Bearer {sysadmin}"}
        )
        assert gone.status_code == 204
        refused = await http.get("/api/v1/whoami")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")


async def test_unknown_paths_answer_401_to_anonymous_callers(app: Nubo) -> None:
    async with asgi_client(app.api()) as http:
        assert (await http.get("/api/v1/no-such-thing")).status_code == 401
        assert (await http.post("/api/v1/ns-descriptors", content=b"{not json")).status_code == 401
    async with asgi_client(app.api(), token=await token_for(app)) as http:
        assert (await http.get("/api/v1/no-such-thing")).status_code == 404


def test_the_table_covers_exactly_the_routes() -> None:
    from nubo.api.permissions import PERMISSIONS
    from nubo.api.security import check_permissions

    with pytest.raises(RuntimeError, match="no route for"):
        check_permissions([])
    assert ("POST", "/oauth/token") in PERMISSIONS


def test_only_token_issuance_health_and_the_openapi_document_need_no_token() -> None:
    from nubo.api.permissions import public_paths

    assert public_paths() == {
        "/oauth/token",
        "/health",
        "/openapi.json",
        "/docs",
        "/docs/oauth2-redirect",
        "/redoc",
    }


__all__ = ["httpx"]
