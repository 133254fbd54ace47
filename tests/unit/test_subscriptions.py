"""SOL005 subscriptions: validation, filters, webhook delivery over loopback, retries, restarts.

Every notification here is POSTed for real by the orchestrator to a
``CallbackServer`` on 127.0.0.1; the API is driven in process.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from nubo.api.server import ApiServices, create_api
from nubo.app import Nubo
from nubo.cli.client import CliConfig
from nubo.cli.main import main
from nubo.model.alarms import PerceivedSeverity, ProbableCause
from nubo.model.kpis import KpiSpec, define_kpi
from nubo.model.metrics import Aggregate, Metric
from nubo.model.subscriptions import CallbackHosts
from nubo.notify.delivery import DeliveryFailed, DeliveryPolicy
from nubo.settings import Settings
from tests.auth import token_for
from tests.callback_server import CallbackServer
from tests.conftest import api_client, fake_nubo, running
from tests.sol005 import asgi_client
from tests.unit.test_api import NSD, assert_problem, wait_op

SUBS = "/nslcm/v1/subscriptions"
OP_OCC = "NsLcmOperationOccurrenceNotification"
FAST = {"notification_backoff": 0.02, "notification_attempts": 3, "notification_timeout": 2.0}


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Nubo]:
    async with running(fake_nubo(tmp_path, **FAST)) as nubo:
        yield nubo


@pytest.fixture
async def http(app: Nubo) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as client:
        yield client


async def subscribe(http: httpx.AsyncClient, url: str, **flt: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"callbackUri": url}
    if flt:
        body["filter"] = flt
    r = await http.post(SUBS, json=body)
    assert r.status_code == 201, r.text
    document: dict[str, Any] = r.json()
    assert r.headers["location"] == f"{SUBS}/{document['id']}"
    return document


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout: float = 5.0) -> None:
    """Poll a predicate (plain or async) until it holds; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        outcome = check()
        if await outcome if inspect.isawaitable(outcome) else outcome:
            return
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def delivery(http: httpx.AsyncClient, sub_id: str) -> dict[str, Any]:
    r = await http.get(f"{SUBS}/{sub_id}")
    assert r.status_code == 200, r.text
    counters: dict[str, Any] = r.json()["nuboDelivery"]
    return counters


async def run_lifecycle(http: httpx.AsyncClient) -> str:
    """Instantiate, scale out and terminate the SIPp NS over the Open Baton routes."""
    nsd_id = (await http.post("/api/v1/ns-descriptors", content=NSD.read_bytes())).json()["id"]
    r = await http.post(f"/api/v1/ns-records/{nsd_id}", json={"name": "demo"})
    assert r.status_code == 202, r.text
    nsr_id: str = r.json()["id"]
    assert (await wait_op(http, r.headers["location"]))["state"] == "COMPLETED"
    nsr = (await http.get(f"/api/v1/ns-records/{nsr_id}")).json()
    client = next(v for v in nsr["vnfr"] if v["name"] == "sipp-client")
    base = (
        f"/api/v1/ns-records/{nsr_id}/vnfrecords/{client['id']}"
        f"/vduunits/{client['vdu'][0]['id']}/vnfcinstances"
    )
    r = await http.post(base)
    assert (await wait_op(http, r.headers["location"]))["state"] == "COMPLETED"
    r = await http.delete(f"/api/v1/ns-records/{nsr_id}")
    assert (await wait_op(http, r.headers["location"]))["state"] == "COMPLETED"
    return nsr_id


def steps(bodies: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(b["operation"], b["notificationStatus"], b["operationState"]) for b in bodies]


LIFECYCLE = [
    ("INSTANTIATE", "START", "PROCESSING"),
    ("INSTANTIATE", "RESULT", "COMPLETED"),
    ("SCALE", "START", "PROCESSING"),
    ("SCALE", "RESULT", "COMPLETED"),
    ("TERMINATE", "START", "PROCESSING"),
    ("TERMINATE", "RESULT", "COMPLETED"),
]


# -- delivery of lifecycle notifications ------------------------------------------------
async def test_a_subscriber_receives_an_ns_lifecycle_in_order(http: httpx.AsyncClient) -> None:
    with CallbackServer() as callback:
        sub = await subscribe(http, callback.url, notificationTypes=[OP_OCC])
        assert sub["filter"] == {"notificationTypes": [OP_OCC]}
        assert sub["callbackUri"] == callback.url and callback.gets == 1
        nsr_id = await run_lifecycle(http)

        got = await callback.wait_for(len(LIFECYCLE))
        await asyncio.sleep(0.1)
        assert steps(callback.bodies()) == LIFECYCLE
    assert [b["nuboOperation"] for b in got[2:4]] == ["SCALE_OUT", "SCALE_OUT"]
    first = got[0]
    assert first["notificationType"] == OP_OCC and first["subscriptionId"] == sub["id"]
    assert first["nsInstanceId"] == nsr_id and first["isAutomaticInvocation"] is False
    assert first["timeStamp"].endswith("Z")
    assert first["_links"] == {
        "subscription": {"href": f"{SUBS}/{sub['id']}"},
        "nsInstance": {"href": f"/nslcm/v1/ns_instances/{nsr_id}"},
        "nsLcmOpOcc": {"href": f"/nslcm/v1/ns_lcm_op_occs/{first['nsLcmOpOccId']}"},
    }
    assert len({b["id"] for b in got}) == len(got)  # every notification has its own id
    assert len({b["nsLcmOpOccId"] for b in got}) == 3
    counters = await delivery(http, sub["id"])
    assert counters["delivered"] == 6 and counters["dropped"] == counters["failedAttempts"] == 0


async def test_filters_exclude_what_they_should(app: Nubo, http: httpx.AsyncClient) -> None:
    with CallbackServer() as callback:
        url = callback.url
        other_ns = await subscribe(http, url, nsInstanceSubscriptionFilter={"nsInstanceIds": ["x"]})
        terminate = await subscribe(
            http, url, notificationTypes=[OP_OCC], operationTypes=["TERMINATE"]
        )
        completed = await subscribe(http, url, operationStates=["COMPLETED"])
        alarms = await subscribe(http, url, notificationTypes=["AlarmNotification"])
        everything = await subscribe(http, url)
        nsr_id = await run_lifecycle(http)
        app.events.publish(
            "NsIdentifierCreationNotification", nsInstanceId="x", project_id="default"
        )

        await callback.wait_for(6 + 2 + 3 + 1 + 1)
        await asyncio.sleep(0.2)
        by_sub: dict[str, list[dict[str, Any]]] = {}
        for body in callback.bodies():
            by_sub.setdefault(body["subscriptionId"], []).append(body)
    assert steps(by_sub[everything["id"]][:6]) == LIFECYCLE
    assert by_sub[everything["id"]][6]["notificationType"] == "NsIdentifierCreationNotification"
    assert steps(by_sub[terminate["id"]]) == LIFECYCLE[4:]
    # operationStates constrain operation notifications only, as in SOL005
    assert steps(by_sub[completed["id"]][:3]) == LIFECYCLE[1::2]
    assert [b["notificationType"] for b in by_sub[completed["id"]][3:]] == [
        "NsIdentifierCreationNotification"
    ]
    assert [b["nsInstanceId"] for b in by_sub[other_ns["id"]]] == ["x"]
    assert alarms["id"] not in by_sub
    assert nsr_id != "x"


# -- retries, failures, deletion ---------------------------------------------------------
async def test_a_failing_callback_gets_the_notification_after_retries(
    app: Nubo, http: httpx.AsyncClient
) -> None:
    with CallbackServer(fail_first=2) as callback:
        sub = await subscribe(http, callback.url)
        app.events.publish(
            "NsIdentifierCreationNotification", nsInstanceId="ns-1", project_id="default"
        )
        (got,) = await callback.wait_for(1)
        assert callback.posts == 3
    assert got["nsInstanceId"] == "ns-1" and got["subscriptionId"] == sub["id"]
    counters = await delivery(http, sub["id"])
    assert (counters["delivered"], counters["failedAttempts"], counters["dropped"]) == (1, 2, 0)
    assert "500" in counters["lastError"]


async def test_a_dead_callback_blocks_neither_others_nor_the_operation(
    http: httpx.AsyncClient,
) -> None:
    with (
        CallbackServer(fail_always=True) as dead,
        CallbackServer(hang=30.0) as hung,
        CallbackServer() as alive,
    ):
        bad = await subscribe(http, dead.url)
        stuck = await subscribe(http, hung.url)
        await subscribe(http, alive.url)
        started = time.monotonic()
        await run_lifecycle(http)
        await alive.wait_for(len(LIFECYCLE))
        # waiting for the hung callback would take a 2 s POST timeout per notification
        assert time.monotonic() - started < 6.0

        async def all_dropped() -> bool:
            return (await delivery(http, bad["id"]))["dropped"] == len(LIFECYCLE)

        await eventually(all_dropped)
        assert dead.received == [] and hung.posts == 1
        counters = await delivery(http, stuck["id"])
        assert counters["delivered"] == 0 and counters["queued"] == len(LIFECYCLE) - 1
    counters = await delivery(http, bad["id"])
    assert counters["failedAttempts"] == 3 * len(LIFECYCLE) and counters["delivered"] == 0


async def test_deleting_a_subscription_stops_its_delivery(
    app: Nubo, http: httpx.AsyncClient
) -> None:
    with CallbackServer() as callback:
        sub = await subscribe(http, callback.url)
        app.events.publish(
            "NsIdentifierCreationNotification", nsInstanceId="ns-1", project_id="default"
        )
        await callback.wait_for(1)
        assert (await http.delete(f"{SUBS}/{sub['id']}")).status_code == 204
        app.events.publish(
            "NsIdentifierDeletionNotification", nsInstanceId="ns-1", project_id="default"
        )
        await asyncio.sleep(0.2)
        assert len(callback.bodies()) == 1
    assert_problem(await http.get(f"{SUBS}/{sub['id']}"), 404, "NOT_FOUND")
    assert_problem(await http.delete(f"{SUBS}/{sub['id']}"), 404, "NOT_FOUND")
    assert (await http.get(SUBS)).json() == []


async def test_stop_ends_a_worker_waiting_between_retries(tmp_path: Path) -> None:
    nubo = fake_nubo(tmp_path, notification_backoff=30.0, notification_attempts=5)
    await nubo.start()
    try:
        with CallbackServer(fail_always=True) as dead:
            async with api_client(nubo) as http:
                await subscribe(http, dead.url)
            nubo.events.publish(
                "NsIdentifierCreationNotification", nsInstanceId="ns-1", project_id="default"
            )
            await eventually(lambda: dead.posts >= 1)
            assert dead.posts == 1
    finally:
        started = time.monotonic()
        await nubo.stop()
    assert time.monotonic() - started < 5


# -- bad input ----------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_bad_requests_are_refused_and_store_nothing(http: httpx.AsyncClient) -> None:
    with CallbackServer() as ok, CallbackServer(get_status=200) as wrong_status:

        async def refused(status: int, code: str, body: dict[str, Any]) -> str:
            detail: str = assert_problem(await http.post(SUBS, json=body), status, code)["detail"]
            return detail

        assert "absolute http" in await refused(400, "BAD_REQUEST", {"callbackUri": "/notify"})
        url = "ftp://127.0.0.1/notify"
        assert "absolute http" in await refused(400, "BAD_REQUEST", {"callbackUri": url})
        url = f"http://127.0.0.1:{free_port()}/notify"
        detail = await refused(422, "CALLBACK_TEST_FAILED", {"callbackUri": url})
        assert "could not be reached" in detail
        detail = await refused(422, "CALLBACK_TEST_FAILED", {"callbackUri": wrong_status.url})
        assert "answered the test GET with 200" in detail and "204" in detail
        bad_type = {"callbackUri": ok.url, "filter": {"notificationTypes": ["Nope"]}}
        detail = await refused(400, "BAD_REQUEST", bad_type)
        assert "'Nope'" in detail and "AlarmNotification" in detail
        bad_op = {"callbackUri": ok.url, "filter": {"operationTypes": ["SCALE_OUT"]}}
        assert "INSTANTIATE" in await refused(400, "BAD_REQUEST", bad_op)
        bad_state = {"callbackUri": ok.url, "filter": {"operationStates": ["DONE"]}}
        assert "FAILED_TEMP" in await refused(400, "BAD_REQUEST", bad_state)
        mixed = {
            "callbackUri": ok.url,
            "filter": {"notificationTypes": ["AlarmNotification"], "operationTypes": ["SCALE"]},
        }
        assert "NsLcmOperationOccurrenceNotification" in await refused(400, "BAD_REQUEST", mixed)
        auth = {"callbackUri": ok.url, "authentication": {"authType": ["BASIC"]}}
        assert "paramsBasic is required" in await refused(400, "BAD_REQUEST", auth)
        basic = {"userName": "u", "password": "p"}
        auth["authentication"] = {"authType": ["BASIC"], "paramsBasic": basic}
        # this server has no key to store credentials with
        assert "NUBO_CALLBACK_CREDENTIALS_KEY" in await refused(422, "NOT_SUPPORTED", auth)
        auth["authentication"] = {"authType": ["TLS_CERT"]}
        assert "TLS_CERT" in await refused(422, "NOT_SUPPORTED", auth)
        await refused(400, "BAD_REQUEST", {"callbackUri": ok.url, "verbosity": "SHORT"})
        await refused(400, "BAD_REQUEST", {"filter": {}})
        assert ok.gets == 0  # nothing invalid reaches the endpoint test
    assert (await http.get(SUBS)).json() == []


async def test_a_duplicate_is_answered_303_with_the_existing_one(
    http: httpx.AsyncClient,
) -> None:
    with CallbackServer() as callback:
        flt = {"operationStates": ["FAILED_TEMP", "COMPLETED"], "notificationTypes": [OP_OCC]}
        sub = await subscribe(http, callback.url, **flt)
        again = {
            "callbackUri": callback.url,
            "filter": {
                "notificationTypes": [OP_OCC],
                "operationStates": ["COMPLETED", "FAILED_TEMP"],
            },
        }
        r = await http.post(SUBS, json=again)
        assert r.status_code == 303 and r.headers["location"] == f"{SUBS}/{sub['id']}"
        other = await subscribe(http, callback.url)
    listed = (await http.get(SUBS)).json()
    assert [s["id"] for s in listed] == [sub["id"], other["id"]]
    assert sub["filter"]["operationStates"] == ["COMPLETED", "FAILED_TEMP"]
    only = (await http.get(SUBS, params={"callbackUri": "http://elsewhere/"})).json()
    assert only == []
    mine = (await http.get(SUBS, params={"callbackUri": callback.url})).json()
    assert len(mine) == 2
    paths = (await http.get("/openapi.json")).json()["paths"]
    assert {"post", "get"} <= set(paths[SUBS]) and "delete" in paths[SUBS + "/{subscription_id}"]


async def test_without_the_service_the_routes_say_so(app: Nubo) -> None:
    api = create_api(ApiServices(ns=app.ns, catalogue=app.catalogue, vims=app.vims, auth=app.auth))
    async with asgi_client(api, token=await token_for(app)) as http:
        assert_problem(await http.get(SUBS), 503, "SUBSCRIPTIONS_DISABLED")


# -- fault and KPI notifications ----------------------------------------------------------
class FixedReader:
    """A MetricsReader whose aggregate is whatever the test sets."""

    value: float | None = None

    async def aggregate(self, metric: Metric, aggregate: Aggregate, **where: Any) -> float | None:
        return self.value


async def test_alarm_and_kpi_notifications_reach_their_subscribers(
    app: Nubo, http: httpx.AsyncClient
) -> None:
    types = ["AlarmNotification", "AlarmClearedNotification", "ThresholdCrossedNotification"]
    with CallbackServer() as callback, CallbackServer() as elsewhere:
        sub = await subscribe(http, callback.url, notificationTypes=types)
        await subscribe(http, elsewhere.url, nsInstanceSubscriptionFilter={"nsInstanceIds": ["b"]})
        alarms = app.fault.alarms
        alarm = await alarms.raise_alarm(
            "vnfc-1",
            ProbableCause.VNFC_FAILED,
            PerceivedSeverity.CRITICAL,
            ["boom"],
            nsr_id="ns-1",
            vnfc_id="vnfc-1",
            project_id="default",
        )
        await alarms.clear("vnfc-1", ProbableCause.VNFC_FAILED, "running again")

        reader = FixedReader()
        evaluator = app.kpis.evaluator
        evaluator.reader = reader
        spec = KpiSpec(name="cpu-high", metric="cpu.percent", threshold=80.0)
        kpi = define_kpi(
            spec, nsr_id="ns-1", project_id="default", vnfr_id=None, vnf_name=None, now=time.time()
        )
        await app.kpis.store.add(kpi)
        for value in (85.0, 90.0, 50.0):
            reader.value = value
            await evaluator.run_once()
        app.events.publish(OP_OCC, nsInstanceId="ns-1", operation="HEAL", project_id="default")

        raised, cleared, up, down = await callback.wait_for(4)
        await asyncio.sleep(0.1)
        assert len(callback.bodies()) == 4 and elsewhere.bodies() == []
    assert raised["notificationType"] == "AlarmNotification"
    assert raised["alarm"]["id"] == alarm.id and raised["alarm"]["probableCause"] == "VNFC_FAILED"
    assert raised["alarm"]["nsInstanceId"] == "ns-1" and raised["alarm"]["faultDetails"] == ["boom"]
    assert raised["_links"]["alarm"] == {"href": f"/nsfm/v1/alarms/{alarm.id}"}
    assert raised["_links"]["nsInstance"] == {"href": "/nslcm/v1/ns_instances/ns-1"}
    assert cleared["notificationType"] == "AlarmClearedNotification"
    assert cleared["alarmId"] == alarm.id and cleared["alarmClearedTime"]
    assert cleared["alarm"]["perceivedSeverity"] == "CLEARED"
    assert (up["notificationType"], up["crossingDirection"]) == (
        "ThresholdCrossedNotification",
        "UP",
    )
    assert (up["thresholdId"], up["objectInstanceId"]) == (kpi.id, "ns-1")
    assert (up["performanceMetric"], up["performanceValue"]) == ("cpu.percent", 85.0)
    assert up["kpi"]["state"] == "VIOLATED" and up["kpi"]["name"] == "cpu-high"
    assert up["_links"]["threshold"] == {"href": f"/api/v1/ns-records/ns-1/kpis/{kpi.id}"}
    assert (down["crossingDirection"], down["performanceValue"]) == ("DOWN", 50.0)
    assert down["kpi"]["previousState"] == "VIOLATED" and down["subscriptionId"] == sub["id"]


# -- restarts, settings, CLI -------------------------------------------------------------
async def test_subscriptions_survive_a_restart(tmp_path: Path) -> None:
    with CallbackServer() as callback:
        async with running(fake_nubo(tmp_path, **FAST)) as first, api_client(first) as http:
            sub = await subscribe(http, callback.url, notificationTypes=[OP_OCC])

        async with running(fake_nubo(tmp_path, **FAST)) as second, api_client(second) as http:
            assert [s["id"] for s in (await http.get(SUBS)).json()] == [sub["id"]]
            second.events.publish(
                "NsIdentifierCreationNotification", nsInstanceId="n", project_id="default"
            )
            second.events.publish(  # what the NFVO publishes for an occurrence's start
                OP_OCC,
                nsInstanceId="n",
                nsLcmOpOccId="o",
                operation="HEAL",
                notificationStatus="START",
                operationState="PROCESSING",
                isAutomaticInvocation=True,
                project_id="default",
            )
            (got,) = await callback.wait_for(1)
            assert got["subscriptionId"] == sub["id"] and got["operation"] == "HEAL"
            assert (await delivery(http, sub["id"]))["delivered"] == 1


def test_notification_settings_come_from_the_environment() -> None:
    env = {
        "NUBO_NOTIFICATION_TIMEOUT": "2.5",
        "NUBO_NOTIFICATION_ATTEMPTS": "7",
        "NUBO_NOTIFICATION_BACKOFF": "0.1",
        "NUBO_NOTIFICATION_QUEUE_SIZE": "10",
    }
    settings = Settings.from_env(env)
    assert (settings.notification_timeout, settings.notification_attempts) == (2.5, 7)
    assert (settings.notification_backoff, settings.notification_queue_size) == (0.1, 10)
    assert DeliveryPolicy(backoff=0.5).delay(1) == 0.5 and DeliveryPolicy(backoff=0.5).delay(3) == 2
    with pytest.raises(ValueError, match="NUBO_NOTIFICATION_ATTEMPTS"):
        Settings.from_env({"NUBO_NOTIFICATION_ATTEMPTS": "many"})
    assert issubclass(DeliveryFailed, Exception)


SUBSCRIPTION = {
    "id": "s-1",
    "filter": {
        "notificationTypes": [OP_OCC],
        "nsInstanceSubscriptionFilter": {"nsInstanceIds": ["n"]},
    },
    "callbackUri": "http://127.0.0.1:9999/notify",
    "createdAt": "2025-01-02T03:04:05Z",
    "_links": {"self": {"href": f"{SUBS}/s-1"}},
    "nuboDelivery": {"delivered": 4, "failedAttempts": 1, "dropped": 0, "queued": 0},
}


def run_cli(args: list[str], duplicate: bool = False) -> tuple[Any, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST" and duplicate:
            return httpx.Response(303, headers={"Location": f"{SUBS}/s-1"})
        if request.method == "POST":
            return httpx.Response(201, json=SUBSCRIPTION, headers={"Location": f"{SUBS}/s-1"})
        if request.url.path == SUBS:
            return httpx.Response(200, json=[SUBSCRIPTION])
        if request.url.path == f"{SUBS}/s-1":
            if request.method == "DELETE":
                return httpx.Response(204)
            return httpx.Response(200, json=SUBSCRIPTION)
        problem = {"title": "Not found", "status": 404, "detail": "subscription x not found"}
        return httpx.Response(404, json=problem)

    config = CliConfig(url="http://nubo", transport=httpx.MockTransport(handler))
    result = CliRunner().invoke(main, args, obj=config)
    return result, seen


def test_cli_subscription_commands() -> None:
    args = ["subscription", "create", "--callback", "http://127.0.0.1:9999/notify"]
    args += ["--ns", "n", "--type", OP_OCC, "--operation", "SCALE", "--state", "COMPLETED"]
    result, seen = run_cli(args)
    assert result.exit_code == 0, result.output
    assert "created subscription s-1" in result.output
    assert json.loads(seen[0].content) == {
        "callbackUri": "http://127.0.0.1:9999/notify",
        "filter": {
            "nsInstanceSubscriptionFilter": {"nsInstanceIds": ["n"]},
            "notificationTypes": [OP_OCC],
            "operationTypes": ["SCALE"],
            "operationStates": ["COMPLETED"],
        },
    }
    result, seen = run_cli([*args[:4], "--json"], duplicate=True)
    assert result.exit_code == 0 and json.loads(result.output) == SUBSCRIPTION
    assert [r.method for r in seen] == ["POST", "GET"] and seen[1].url.path == f"{SUBS}/s-1"

    result, seen = run_cli(["subscription", "list", "--callback", "http://127.0.0.1:9999/notify"])
    assert result.exit_code == 0 and "s-1" in result.output and OP_OCC in result.output
    assert dict(seen[0].url.params) == {"callbackUri": "http://127.0.0.1:9999/notify"}
    result, _ = run_cli(["subscription", "show", "s-1"])
    assert result.exit_code == 0 and "delivery.failedAttempts" in result.output
    result, seen = run_cli(["subscription", "delete", "s-1"])
    assert result.exit_code == 0 and "deleted subscription s-1" in result.output
    assert seen[0].method == "DELETE"
    result, _ = run_cli(["subscription", "show", "nope"])
    assert result.exit_code == 1 and "subscription x not found" in result.output


def test_callback_hosts_allow_names_addresses_and_networks() -> None:
    hosts = CallbackHosts("127.0.0.0/8, ::1, notify.example, ")
    assert hosts.allows("127.0.0.1") and hosts.allows("127.9.9.9") and hosts.allows("[::1]")
    assert hosts.allows("Notify.Example.") and not hosts.allows("other.example")
    assert not hosts.allows("10.0.0.1") and not hosts.allows("::2")
    assert CallbackHosts("").allows("anything.at.all")


async def test_a_callback_outside_the_allowed_hosts_is_refused_untested(tmp_path: Path) -> None:
    app = fake_nubo(tmp_path, notification_allowed_hosts="10.99.0.0/16")
    async with running(app), api_client(app) as http:
        with CallbackServer() as callback:
            r = await http.post(SUBS, json={"callbackUri": callback.url})
            problem = assert_problem(r, 400, "BAD_REQUEST")
            assert "NUBO_NOTIFICATION_ALLOWED_HOSTS" in problem["detail"]
            assert callback.gets == 0  # refused before any request left nubo
        assert (await http.get(SUBS)).json() == []
