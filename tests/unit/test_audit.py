"""The audit trail: every mutating call (who, project, what, result, when), none of
the bodies; listed for administrators, by project, with filters and paging."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from nubo.app import Nubo
from nubo.model.identity import Role
from nubo.store.port import AuditQuery
from tests.auth import ADMIN, add_project, add_user, token_for
from tests.conftest import fake_nubo, running
from tests.sol005 import asgi_client

NSD = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"
SECRET_TRY = "not-the-password-x9"


@dataclass
class World:
    app: Nubo
    other: str


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with running(fake_nubo(tmp_path)) as app:
        await add_user(app, "a-admin", {"default": Role.ADMIN})
        await add_user(app, "a-guest", {"default": Role.GUEST})
        other = await add_project(app, "other")
        await add_user(app, "b-admin", {"other": Role.ADMIN})
        yield World(app, other)


async def as_user(app: Nubo, user: str, project: str = "default") -> Any:
    return asgi_client(app.api(), version=None, token=await token_for(app, user, project))


async def audit(app: Nubo, user: str, project: str = "default", **params: Any) -> Any:
    async with await as_user(app, user, project) as http:
        answer = await http.get("/api/v1/audit", params=params)
    return answer


async def test_mutating_calls_are_recorded_with_who_what_and_result(world: World) -> None:
    app = world.app
    async with await as_user(app, "a-admin") as http:
        created = await http.post("/api/v1/ns-descriptors", content=NSD.read_bytes())
        assert created.status_code == 201, created.text
        assert (await http.get("/api/v1/ns-descriptors")).status_code == 200  # not recorded
        refused = await http.delete("/api/v1/ns-descriptors/no-such-nsd")
        assert refused.status_code == 404
    async with asgi_client(app.api(), version=None) as anonymous:
        assert (await anonymous.post("/api/v1/ns-descriptors", content=b"{}")).status_code == 401
        login = await anonymous.post(
            "/oauth/token",
            data={"grant_type": "password", "username": "mallory", "password": SECRET_TRY},
        )
        assert login.status_code in (400, 401)

    answer = await audit(app, ADMIN, allProjects="true")
    assert answer.status_code == 200, answer.text
    events = answer.json()
    calls = [(e["actor"], e["actorKind"], e["method"], e["route"], e["status"]) for e in events]
    assert calls == [
        ("mallory", "anonymous", "POST", "/oauth/token", login.status_code),
        ("", "anonymous", "POST", "/api/v1/ns-descriptors", 401),
        ("a-admin", "user", "DELETE", "/api/v1/ns-descriptors/{nsd_id}", 404),
        ("a-admin", "user", "POST", "/api/v1/ns-descriptors", 201),
    ]
    made = events[-1]
    assert made["projectId"] == "default" and made["outcome"] == "succeeded"
    assert made["resource"].endswith(created.json()["id"])  # the Location of the creation
    assert events[1]["projectId"] is None and events[0]["outcome"] == "refused"
    assert events[2]["path"] == "/api/v1/ns-descriptors/no-such-nsd"
    assert all(e["time"] <= time.time() and e["durationMs"] >= 0 for e in events)
    # nothing of a body is kept: the password tried is nowhere in the trail
    assert SECRET_TRY not in json.dumps(events)
    rows = await app.auth.audit.list(AuditQuery())
    assert SECRET_TRY not in repr(rows)


async def test_administrators_see_their_project_only(world: World) -> None:
    app = world.app
    async with await as_user(app, "a-admin") as http:
        assert (
            await http.post("/api/v1/ns-descriptors", content=NSD.read_bytes())
        ).status_code == 201
    async with await as_user(app, "b-admin", "other") as http:
        assert (await http.delete("/api/v1/ns-descriptors/x")).status_code == 404
    ours = (await audit(app, "a-admin")).json()
    theirs = (await audit(app, "b-admin", "other")).json()
    assert [e["actor"] for e in ours] == ["a-admin"]
    assert [(e["actor"], e["projectId"]) for e in theirs] == [("b-admin", world.other)]
    # a project administrator may not look across projects; a guest not at all
    assert (await audit(app, "a-admin", allProjects="true")).status_code == 403
    assert (await audit(app, "a-guest")).status_code == 403
    every = (await audit(app, ADMIN, allProjects="true")).json()
    assert {e["actor"] for e in every} == {"a-admin", "b-admin"}


async def test_filters_and_paging(world: World) -> None:
    app = world.app
    async with await as_user(app, "a-admin") as http:
        for name in ("x1", "x2", "x3"):
            assert (await http.delete(f"/api/v1/ns-descriptors/{name}")).status_code == 404
        assert (
            await http.post("/api/v1/ns-descriptors", content=NSD.read_bytes())
        ).status_code == 201
    refused = (await audit(app, "a-admin", outcome="refused")).json()
    assert [e["path"].rsplit("/", 1)[1] for e in refused] == ["x3", "x2", "x1"]
    assert len((await audit(app, "a-admin", method="post")).json()) == 1
    assert (await audit(app, "a-admin", actor="nobody")).json() == []
    assert len((await audit(app, "a-admin", path="/api/v1/ns-descriptors/x")).json()) == 3
    assert (await audit(app, "a-admin", since="2h", until="1h")).json() == []
    first = (await audit(app, "a-admin", limit=2)).json()
    rest = (await audit(app, "a-admin", limit=2, beforeId=first[-1]["id"])).json()
    assert [e["id"] for e in first + rest] == sorted((e["id"] for e in first + rest), reverse=True)
    assert len(first + rest) == 4
    bad = await audit(app, "a-admin", since="yesterday-ish")
    assert bad.status_code == 400 and "since" in bad.text


async def test_events_past_their_retention_are_deleted(world: World) -> None:
    app = world.app
    async with await as_user(app, "a-admin") as http:
        assert (await http.delete("/api/v1/ns-descriptors/gone")).status_code == 404
    trail = app.auth.audit
    assert await trail.prune_once(now=time.time()) == 0  # a fresh event stays
    trail._pruned_at = float("-inf")
    assert await trail.prune_once(now=time.time() + trail.retention + 1) == 1
    assert (await audit(app, "a-admin")).json() == []


async def test_a_trail_that_cannot_be_written_does_not_fail_the_call(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(event: Any) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(world.app.auth.audit.store, "record", broken)
    async with await as_user(world.app, "a-admin") as http:
        answer = await http.delete("/api/v1/ns-descriptors/x")
    assert answer.status_code == 404
    assert "audit.not_recorded" in caplog.text


@pytest.mark.parametrize(
    "params",
    [
        {"beforeId": str(10**30)},
        {"beforeId": str(-(10**30))},
        {"since": "1e400"},
        {"since": "nan"},
        {"until": "-1e308"},
        {"since": "99999999999999999999999d"},
        {"path": "\x00"},
        {"actor": "a\x00b"},
    ],
)
async def test_odd_queries_are_answered_without_a_server_error(
    world: World, params: dict[str, str]
) -> None:
    answer = await audit(world.app, "a-admin", **params)
    assert answer.status_code in (200, 400, 422), answer.text
