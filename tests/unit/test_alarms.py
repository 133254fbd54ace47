"""AlarmService, the SOL005 alarm routes, ``nubo alarm``, heal policies and event mapping."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI

from nubo.api.alarms import router
from nubo.api.problems import install_problem_handlers
from nubo.app import Repositories
from nubo.cli.client import CliConfig
from nubo.cli.main import main
from nubo.descriptors.heal_policy import heal_policy_of
from nubo.fault.alarms import AlarmService
from nubo.model.alarms import AckState, Alarm, PerceivedSeverity, ProbableCause
from nubo.model.descriptors import HealMode, HealPolicy
from nubo.model.errors import InvalidDescriptor, NotFound
from nubo.vim.docker.events import server_event_of
from nubo.vim.port import LABEL_NS, LABEL_SERVER, ServerStatus
from tests.auth import DEFAULT_USER, ActingAs
from tests.sol005 import asgi_client

FAILED = ProbableCause.VNFC_FAILED


async def test_raise_is_idempotent_and_updates_only_on_change(store: Repositories) -> None:
    told: list[Alarm] = []

    async def notify(alarm: Alarm) -> None:
        told.append(alarm)

    alarms = AlarmService(store.alarms, notify)
    first = await alarms.raise_alarm(
        "vnfc-1", FAILED, PerceivedSeverity.CRITICAL, ["x"], project_id="default"
    )
    again = await alarms.raise_alarm(
        "vnfc-1", FAILED, PerceivedSeverity.CRITICAL, ["x"], project_id="default"
    )
    assert again.id == first.id and again.alarm_changed_time == first.alarm_changed_time
    changed = await alarms.raise_alarm(
        "vnfc-1", FAILED, PerceivedSeverity.CRITICAL, ["y"], project_id="default"
    )
    assert changed.id == first.id and changed.fault_details == ["y"]
    assert changed.alarm_changed_time > first.alarm_changed_time
    assert len(await alarms.list(active_only=True)) == 1
    assert len(told) == 2  # raised, changed; the identical repeat said nothing

    cleared = await alarms.clear("vnfc-1", FAILED, "running again")
    assert cleared is not None and cleared.perceived_severity == PerceivedSeverity.CLEARED
    assert cleared.alarm_cleared_time is not None and not cleared.active
    assert await alarms.clear("vnfc-1", FAILED) is None
    fresh = await alarms.raise_alarm(
        "vnfc-1", FAILED, PerceivedSeverity.CRITICAL, ["z"], project_id="default"
    )
    assert fresh.id != first.id  # a new occurrence after the clear
    assert [a.id for a in await alarms.list()] == [fresh.id, first.id]


async def test_acknowledge_list_and_filters(store: Repositories) -> None:
    alarms = AlarmService(store.alarms)
    a = await alarms.raise_alarm(
        "vnfc-a",
        FAILED,
        PerceivedSeverity.CRITICAL,
        nsr_id="ns-1",
        vnfc_id="vnfc-a",
        project_id="default",
    )
    await alarms.raise_alarm(
        "vim-1",
        ProbableCause.VIM_UNREACHABLE,
        PerceivedSeverity.CRITICAL,
        vim_id="vim-1",
        project_id="default",
    )
    acked = await alarms.acknowledge(a.id)
    assert acked.ack_state == AckState.ACKNOWLEDGED and acked.active
    assert (await alarms.acknowledge(a.id)).ack_state == AckState.ACKNOWLEDGED
    with pytest.raises(NotFound):
        await alarms.acknowledge("nope")
    assert [x.id for x in await alarms.list(nsr_id="ns-1")] == [a.id]
    assert len(await alarms.list(active_only=True)) == 2


# -- API --------------------------------------------------------------------------


@pytest.fixture
async def http(store: Repositories) -> AsyncIterator[tuple[httpx.AsyncClient, AlarmService]]:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(router)
    app.add_middleware(ActingAs, principal=DEFAULT_USER)
    alarms = AlarmService(store.alarms)
    app.state.services = SimpleNamespace(alarms=alarms)
    async with asgi_client(app) as client:
        yield client, alarms


async def test_api_lists_reads_and_acknowledges(
    http: tuple[httpx.AsyncClient, AlarmService],
) -> None:
    client, alarms = http
    a = await alarms.raise_alarm(
        "vnfc-a",
        FAILED,
        PerceivedSeverity.CRITICAL,
        ["boom"],
        nsr_id="ns-1",
        vnfr_id="vnfr-1",
        vnfc_id="vnfc-a",
        vim_id="vim-1",
        project_id="default",
    )
    b = await alarms.raise_alarm(
        "vnfc-b", FAILED, PerceivedSeverity.MAJOR, nsr_id="ns-2", project_id="default"
    )
    await alarms.clear("vnfc-b", FAILED)
    # a VIM's alarm is about no NS instance: not one of SOL005's NS alarms
    vim = await alarms.raise_alarm(
        "vim-2", ProbableCause.VIM_UNREACHABLE, PerceivedSeverity.MAJOR, project_id="default"
    )
    assert_problem(await client.get(f"/nsfm/v1/alarms/{vim.id}"), 404, "NOT_FOUND")
    assert_problem(
        await client.patch(f"/nsfm/v1/alarms/{vim.id}", json={"ackState": "ACKNOWLEDGED"}),
        404,
        "NOT_FOUND",
    )

    r = await client.get("/nsfm/v1/alarms")
    assert r.status_code == 200 and [x["id"] for x in r.json()] == [b.id, a.id]
    body = (await client.get("/nsfm/v1/alarms", params={"active": "true"})).json()
    assert [x["id"] for x in body] == [a.id]
    [doc] = body
    # SOL005: managedObjectId is the NS instance; the VNFC's server is the faulty resource
    assert doc["managedObjectId"] == "ns-1" and doc["nsInstanceId"] == "ns-1"
    assert doc["rootCauseFaultyResource"] == {
        "faultyResource": {"resourceId": "vnfc-a", "vimId": "vim-1"},
        "faultyResourceType": "COMPUTE",
    }
    assert doc["vnfInstanceId"] == "vnfr-1" and doc["vnfcInstanceId"] == "vnfc-a"
    assert doc["perceivedSeverity"] == "CRITICAL" and doc["probableCause"] == "VNFC_FAILED"
    assert doc["eventType"] == "PROCESSING_ERROR_ALARM" and doc["ackState"] == "UNACKNOWLEDGED"
    assert doc["faultDetails"] == ["boom"] and "alarmClearedTime" not in doc
    assert doc["alarmRaisedTime"] and doc["alarmChangedTime"]
    assert doc["_links"]["self"]["href"] == f"/nsfm/v1/alarms/{a.id}"
    cleared = (await client.get("/nsfm/v1/alarms", params={"active": "false"})).json()
    assert [x["id"] for x in cleared] == [b.id]
    by_ns = (await client.get("/nsfm/v1/alarms", params={"nsInstanceId": "ns-1"})).json()
    assert [x["id"] for x in by_ns] == [a.id]
    assert (await client.get(f"/nsfm/v1/alarms/{b.id}")).json()["perceivedSeverity"] == "CLEARED"

    r = await client.patch(f"/nsfm/v1/alarms/{a.id}", json={"ackState": "ACKNOWLEDGED"})
    assert r.status_code == 200 and r.json() == {"ackState": "ACKNOWLEDGED"}
    assert (await alarms.get(a.id)).ack_state == AckState.ACKNOWLEDGED
    # acknowledging it again changes nothing: 409 (SOL005 §8.4.3.3.4)
    r = await client.patch(
        f"/nsfm/v1/alarms/{a.id}",
        content=json.dumps({"ackState": "ACKNOWLEDGED"}),
        headers={"content-type": "application/merge-patch+json"},
    )
    assert_problem(r, 409, "CONFLICT")
    c = await alarms.raise_alarm(
        "vnfc-c", FAILED, PerceivedSeverity.MINOR, nsr_id="ns-1", project_id="default"
    )
    r = await client.patch(
        f"/nsfm/v1/alarms/{c.id}",
        content=json.dumps({"ackState": "ACKNOWLEDGED"}),
        headers={"content-type": "application/merge-patch+json"},
    )
    assert r.status_code == 200, r.text


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == code and response.json()["detail"]


async def test_api_errors_are_problem_details(
    http: tuple[httpx.AsyncClient, AlarmService],
) -> None:
    client, alarms = http
    a = await alarms.raise_alarm(
        "vnfc-a", FAILED, PerceivedSeverity.CRITICAL, nsr_id="ns-1", project_id="default"
    )
    assert_problem(await client.get("/nsfm/v1/alarms/nope"), 404, "NOT_FOUND")
    url = f"/nsfm/v1/alarms/{a.id}"
    for bad in ({"ackState": "UNACKNOWLEDGED"}, {}, {"ackState": "ACKNOWLEDGED", "x": 1}, [1]):
        assert_problem(await client.patch(url, json=bad), 400, "BAD_REQUEST")
    assert_problem(
        await client.patch("/nsfm/v1/alarms/nope", json={"ackState": "ACKNOWLEDGED"}),
        404,
        "NOT_FOUND",
    )
    assert_problem(await client.get("/nsfm/v1/alarms?active=maybe"), 400, "BAD_REQUEST")
    assert (await alarms.get(a.id)).ack_state == AckState.UNACKNOWLEDGED


async def test_api_without_fault_management_says_so() -> None:
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(router)
    app.add_middleware(ActingAs, principal=DEFAULT_USER)
    app.state.services = SimpleNamespace()
    async with asgi_client(app) as client:
        assert_problem(await client.get("/nsfm/v1/alarms"), 503, "FAULT_MANAGEMENT_DISABLED")


# -- CLI --------------------------------------------------------------------------

ALARM = {
    "id": "al-1",
    "managedObjectId": "vnfc-1",
    "nsInstanceId": "ns-1",
    "perceivedSeverity": "CRITICAL",
    "probableCause": "VNFC_FAILED",
    "eventType": "PROCESSING_ERROR_ALARM",
    "ackState": "UNACKNOWLEDGED",
    "alarmRaisedTime": "2025-01-02T03:04:05.678+00:00",
    "alarmChangedTime": "2025-01-02T03:04:05.678+00:00",
    "alarmClearedTime": None,
    "faultDetails": ["VNFC sipp-server-0 of VNF sipp-server: server x failed (exit code 137)"],
}


def run_cli(args: list[str]) -> tuple[Any, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/nsfm/v1/alarms":
            return httpx.Response(200, json=[ALARM])
        if request.url.path == "/nsfm/v1/alarms/al-1":
            if request.method == "PATCH":
                return httpx.Response(200, json={"ackState": "ACKNOWLEDGED"})
            return httpx.Response(200, json=ALARM)
        problem = {"title": "Not found", "status": 404, "detail": "alarm x not found"}
        return httpx.Response(404, json=problem, headers={"content-type": "application/json"})

    config = CliConfig(url="http://nubo", transport=httpx.MockTransport(handler))
    result = CliRunner().invoke(main, args, obj=config)
    return result, seen


def test_cli_alarm_list_show_and_ack() -> None:
    result, seen = run_cli(["alarm", "list"])
    assert result.exit_code == 0, result.output
    assert "al-1" in result.output and "VNFC_FAILED" in result.output
    assert "CRITICAL" in result.output and "2025-01-02 03:04:05" in result.output
    assert dict(seen[0].url.params) == {"active": "true"}

    result, seen = run_cli(["alarm", "list", "--all", "--ns", "ns-1", "--json"])
    assert result.exit_code == 0 and json.loads(result.output) == [ALARM]
    assert dict(seen[0].url.params) == {"nsInstanceId": "ns-1"}

    result, _ = run_cli(["alarm", "show", "al-1"])
    assert result.exit_code == 0 and "exit code 137" in result.output

    result, seen = run_cli(["alarm", "ack", "al-1"])
    assert result.exit_code == 0 and "acknowledged alarm al-1" in result.output
    assert seen[0].method == "PATCH" and json.loads(seen[0].content) == {"ackState": "ACKNOWLEDGED"}

    result, _ = run_cli(["alarm", "ack", "nope"])
    assert result.exit_code == 1 and "alarm x not found" in result.output


# -- heal policies and Docker event mapping -------------------------------------------


def test_heal_policy_backoff_and_descriptor_extension() -> None:
    policy = HealPolicy(backoff=0.5, max_backoff=3)
    assert [policy.delay(n) for n in range(5)] == [0, 0.5, 1, 2, 3]
    assert heal_policy_of({}) == HealPolicy()
    assert heal_policy_of({"mode": "none", "max_attempts": 5, "backoff": 2}) == HealPolicy(
        mode=HealMode.NONE, max_attempts=5, backoff=2.0
    )
    with pytest.raises(InvalidDescriptor) as caught:
        heal_policy_of({"mode": "reboot", "max_attempts": 0, "backoff": "x", "y": 1}, "vnfd[0]")
    paths = [p.path for p in caught.value.problems]
    assert paths == ["vnfd[0].y", "vnfd[0].mode", "vnfd[0].max_attempts", "vnfd[0].backoff"]


def test_docker_event_mapping() -> None:
    def event(action: str, **attributes: str) -> dict[str, Any]:
        attrs = {LABEL_SERVER: "srv", LABEL_NS: "ns", "image": "x", **attributes}
        return {
            "Type": "container",
            "Action": action,
            "Actor": {"ID": "c1", "Attributes": attrs},
            "time": 1700000000,
            "timeNano": 1700000000123456789,
        }

    died = server_event_of(event("die", exitCode="137"))
    assert died is not None and died.status is ServerStatus.FAILED
    assert died.server_id == "srv" and died.labels == {LABEL_SERVER: "srv", LABEL_NS: "ns"}
    assert died.detail == "exit code 137" and died.time == pytest.approx(1700000000.123456789)
    exited = server_event_of(event("die", exitCode="0"))
    assert exited is not None and exited.status is ServerStatus.EXITED
    gone = server_event_of(event("destroy"))
    assert gone is not None and gone.status is None
    started = server_event_of(event("start"))
    assert started is not None and started.status is ServerStatus.RUNNING
    oom = server_event_of(event("oom"))
    assert oom is not None and oom.status is ServerStatus.FAILED
    assert server_event_of(event("exec_start: sh")) is None
    assert server_event_of({"Type": "network", "Action": "connect"}) is None
    no_server = event("die", exitCode="1")
    del no_server["Actor"]["Attributes"][LABEL_SERVER]
    assert server_event_of(no_server) is None
