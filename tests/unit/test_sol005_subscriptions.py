"""Subscriptions of the NSD, VNF package and NS fault management APIs.

Every notification is POSTed for real to a ``CallbackServer`` on 127.0.0.1,
which checks each body against ETSI's schema of its type; every answer of the
API is checked against its schema by the test client (``tests.sol005``).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from nubo.app import Nubo
from nubo.cli.packages import zip_directory
from nubo.model.alarms import PerceivedSeverity, ProbableCause
from nubo.model.identity import Role
from tests.auth import add_project, add_user, token_for
from tests.callback_server import CallbackServer
from tests.conftest import api_client, fake_nubo, running
from tests.sol005 import SOL005_VERSION, asgi_client
from tests.unit.test_api import NSD as NSD_JSON
from tests.unit.test_api import assert_problem, wait_op
from tests.unit.test_packages import CLIENT, SERVER, onboard_package

FAST = {"notification_backoff": 0.02, "notification_attempts": 3, "notification_timeout": 2.0}
NSDS = "/nsd/v1/ns_descriptors"
PKGS = "/vnfpkgm/v1/vnf_packages"
NSD_YAML = Path(__file__).resolve().parents[2] / "examples" / "sipp-tosca" / "nsd.yaml"


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Nubo]:
    async with running(fake_nubo(tmp_path, **FAST)) as nubo:
        yield nubo


@pytest.fixture
async def http(app: Nubo) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as client:
        yield client


async def subscribe(http: httpx.AsyncClient, api: str, url: str, **flt: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"callbackUri": url}
    if flt:
        body["filter"] = flt
    r = await http.post(f"/{api}/v1/subscriptions", json=body)
    assert r.status_code == 201, r.text
    document: dict[str, Any] = r.json()
    assert r.headers["location"] == f"/{api}/v1/subscriptions/{document['id']}"
    assert document["_links"] == {"self": {"href": r.headers["location"]}}
    return document


def kinds(callback: CallbackServer) -> list[str]:
    return [b["notificationType"] for b in callback.bodies()]


async def settle() -> None:
    """Give notifications that should not come the time they would take to come."""
    await asyncio.sleep(0.3)


# -- NSD management -----------------------------------------------------------------------
async def test_nsd_notifications_follow_an_nsd_through_its_life(http: httpx.AsyncClient) -> None:
    for directory in (SERVER, CLIENT):
        await onboard_package(http, zip_directory(directory))
    with (
        CallbackServer() as every,
        CallbackServer() as disabled,
        CallbackServer() as other_nsd,
        CallbackServer() as lcm,
    ):
        sub = await subscribe(http, "nsd", every.url)
        assert sub["filter"] == {}
        await subscribe(http, "nsd", disabled.url, nsdOperationalState=["DISABLED"])
        await subscribe(http, "nsd", other_nsd.url, nsdInfoId=["another-nsd"])
        await subscribe(http, "nslcm", lcm.url)

        nsd_id = (await http.post(NSDS)).json()["id"]
        bad_id = (await http.post(NSDS)).json()["id"]
        yaml = {"Content-Type": "application/yaml"}
        r = await http.put(f"{NSDS}/{bad_id}/nsd_content", content=b"a: [b", headers=yaml)
        assert r.status_code == 422, r.text
        r = await http.put(
            f"{NSDS}/{nsd_id}/nsd_content", content=NSD_YAML.read_bytes(), headers=yaml
        )
        assert r.status_code == 204, r.text
        info = (await http.get(f"{NSDS}/{nsd_id}")).json()
        r = await http.patch(f"{NSDS}/{nsd_id}", json={"nsdOperationalState": "DISABLED"})
        assert r.status_code == 200, r.text
        assert (await http.delete(f"{NSDS}/{nsd_id}")).status_code == 204

        got = await every.wait_for(4)
        await disabled.wait_for(3)
        await settle()
        assert kinds(every) == [
            "NsdOnBoardingFailureNotification",
            "NsdOnBoardingNotification",
            "NsdChangeNotification",
            "NsdDeletionNotification",
        ]
        # onboarded ENABLED: the filter on DISABLED lets the rest through
        assert kinds(disabled) == [
            "NsdOnBoardingFailureNotification",
            "NsdChangeNotification",
            "NsdDeletionNotification",
        ]
        assert other_nsd.bodies() == [] and lcm.bodies() == []
        assert every.versions == [SOL005_VERSION] * 4
    failure, onboarded, changed, deleted = got
    assert failure["nsdInfoId"] == bad_id and "nsdId" not in failure
    assert failure["onboardingFailureDetails"]["status"] == 422
    assert failure["onboardingFailureDetails"]["detail"]
    # the NSD's own id, as NsdInfo.nsdId says, not the NsdInfo id
    assert onboarded["nsdId"] == info["nsdId"] and onboarded["nsdInfoId"] == nsd_id
    assert onboarded["_links"] == {
        "subscription": {"href": f"/nsd/v1/subscriptions/{sub['id']}"},
        "nsdInfo": {"href": f"{NSDS}/{nsd_id}"},
    }
    assert changed["nsdOperationalState"] == "DISABLED"
    assert deleted["nsdInfoId"] == nsd_id and deleted["subscriptionId"] == sub["id"]
    assert not any(key.startswith("_") and key != "_links" for b in got for key in b)


async def test_a_duplicate_answers_303_and_subscriptions_stay_in_their_api(
    http: httpx.AsyncClient,
) -> None:
    with CallbackServer() as callback:
        flt = {"notificationTypes": ["NsdOnboardingFailureNotification", "NsdChangeNotification"]}
        first = await subscribe(http, "nsd", callback.url, **flt)
        # the schema's spelling is taken, the GS's is rendered
        assert first["filter"]["notificationTypes"] == [
            "NsdChangeNotification",
            "NsdOnBoardingFailureNotification",
        ]
        again = await http.post(
            "/nsd/v1/subscriptions",
            json={
                "callbackUri": callback.url,
                "filter": {"notificationTypes": flt["notificationTypes"][::-1]},
            },
        )
        assert again.status_code == 303
        assert again.headers["location"] == f"/nsd/v1/subscriptions/{first['id']}"
        fm = await subscribe(http, "nsfm", callback.url)
        assert fm["id"] != first["id"]

        listed = (await http.get("/nsd/v1/subscriptions")).json()
        assert [s["id"] for s in listed] == [first["id"]]
        query = {"filter": f"(eq,callbackUri,{callback.url})"}
        assert [
            s["id"] for s in (await http.get("/nsfm/v1/subscriptions", params=query)).json()
        ] == [fm["id"]]
        assert (await http.get("/vnfpkgm/v1/subscriptions")).json() == []
        assert_problem(await http.get(f"/nsfm/v1/subscriptions/{first['id']}"), 404, "NOT_FOUND")
        assert_problem(await http.delete(f"/nslcm/v1/subscriptions/{fm['id']}"), 404, "NOT_FOUND")

        assert (await http.delete(f"/nsd/v1/subscriptions/{first['id']}")).status_code == 204
        assert_problem(await http.get(f"/nsd/v1/subscriptions/{first['id']}"), 404, "NOT_FOUND")
        assert (await http.get(f"/nsfm/v1/subscriptions/{fm['id']}")).status_code == 200


@pytest.mark.parametrize(
    ("api", "flt", "field"),
    [
        ("nsd", {"nsdOnboardingState": ["DONE"]}, "filter.nsdOnboardingState"),
        ("nsd", {"notificationTypes": ["AlarmNotification"]}, "filter.notificationTypes"),
        ("nsd", {"nsdId": []}, "filter.nsdId"),
        ("vnfpkgm", {"usageState": ["BUSY"]}, "filter.usageState"),
        (
            "vnfpkgm",
            {"vnfProductsFromProviders": [{"vnfProvider": " "}]},
            "filter.vnfProductsFromProviders.0.vnfProvider",
        ),
        ("nsfm", {"perceivedSeverities": ["LOUD"]}, "filter.perceivedSeverities"),
        (
            "nsfm",
            {"nsInstanceSubscriptionFilter": {"nsInstanceIds": [""]}},
            "filter.nsInstanceSubscriptionFilter.nsInstanceIds",
        ),
    ],
)
async def test_a_bad_filter_is_refused_naming_its_attribute(
    http: httpx.AsyncClient, api: str, flt: dict[str, Any], field: str
) -> None:
    with CallbackServer() as callback:
        r = await http.post(
            f"/{api}/v1/subscriptions", json={"callbackUri": callback.url, "filter": flt}
        )
        problem = assert_problem(r, 400, "BAD_REQUEST")
        assert field in problem["detail"]
        assert callback.gets == 0  # refused before the callback was tried
        assert (await http.get(f"/{api}/v1/subscriptions")).json() == []


async def test_an_unknown_filter_attribute_is_refused(http: httpx.AsyncClient) -> None:
    with CallbackServer() as callback:
        r = await http.post(
            "/vnfpkgm/v1/subscriptions",
            json={"callbackUri": callback.url, "filter": {"vnfdIds": ["x"]}},
        )
        assert 400 <= r.status_code < 500 and "vnfdIds" in r.text, r.text


# -- VNF package management ---------------------------------------------------------------
async def test_package_notifications_and_the_product_filter(http: httpx.AsyncClient) -> None:
    with CallbackServer() as every, CallbackServer() as server_only:
        await subscribe(http, "vnfpkgm", every.url)
        server = await onboard_package(http, zip_directory(SERVER))
        product = {
            "vnfProvider": server["vnfProvider"],
            "vnfProducts": [
                {
                    "vnfProductName": server["vnfProductName"],
                    "versions": [{"vnfSoftwareVersion": server["vnfSoftwareVersion"]}],
                }
            ],
        }
        sub = await subscribe(http, "vnfpkgm", server_only.url, vnfProductsFromProviders=[product])
        client = await onboard_package(http, zip_directory(CLIENT))
        for package in (server, client):
            r = await http.patch(f"{PKGS}/{package['id']}", json={"operationalState": "DISABLED"})
            assert r.status_code == 200, r.text
        assert (await http.delete(f"{PKGS}/{server['id']}")).status_code == 204
        got = await every.wait_for(5)
        await server_only.wait_for(2)
        await settle()
        assert [(b["notificationType"], b["vnfPkgId"], b.get("changeType")) for b in got] == [
            ("VnfPackageOnboardingNotification", server["id"], None),
            ("VnfPackageOnboardingNotification", client["id"], None),
            ("VnfPackageChangeNotification", server["id"], "OP_STATE_CHANGE"),
            ("VnfPackageChangeNotification", client["id"], "OP_STATE_CHANGE"),
            ("VnfPackageChangeNotification", server["id"], "PKG_DELETE"),
        ]
        mine = server_only.bodies()
        assert [(b["vnfPkgId"], b["changeType"]) for b in mine] == [
            (server["id"], "OP_STATE_CHANGE"),
            (server["id"], "PKG_DELETE"),
        ]
        assert every.versions == [SOL005_VERSION] * 5
    assert got[0]["vnfdId"] == server["vnfdId"]
    assert got[2]["operationalState"] == "DISABLED"
    assert mine[0]["_links"] == {
        "subscription": {"href": f"/vnfpkgm/v1/subscriptions/{sub['id']}"},
        "vnfPackage": {"href": f"{PKGS}/{server['id']}"},
    }


# -- NS fault management ------------------------------------------------------------------
async def instantiate(http: httpx.AsyncClient, name: str) -> tuple[str, str]:
    """The SIPp NS over the Open Baton routes: (NSD id, NS instance id)."""
    nsd_id = (await http.post("/api/v1/ns-descriptors", content=NSD_JSON.read_bytes())).json()["id"]
    r = await http.post(f"/api/v1/ns-records/{nsd_id}", json={"name": name})
    assert r.status_code == 202, r.text
    assert (await wait_op(http, r.headers["location"]))["state"] == "COMPLETED"
    return nsd_id, str(r.json()["id"])


async def test_alarm_notifications_pass_the_fault_filter(
    app: Nubo, http: httpx.AsyncClient
) -> None:
    nsd_id, nsr_id = await instantiate(http, "demo")
    with (
        CallbackServer() as by_name,
        CallbackServer() as by_nsd,
        CallbackServer() as critical,
        CallbackServer() as elsewhere,
    ):
        sub = await subscribe(
            http, "nsfm", by_name.url, nsInstanceSubscriptionFilter={"nsInstanceNames": ["demo"]}
        )
        await subscribe(http, "nsfm", by_nsd.url, nsInstanceSubscriptionFilter={"nsdIds": [nsd_id]})
        await subscribe(http, "nsfm", critical.url, perceivedSeverities=["CRITICAL"])
        await subscribe(
            http, "nsfm", elsewhere.url, nsInstanceSubscriptionFilter={"nsInstanceNames": ["other"]}
        )
        alarms = app.fault.alarms
        # a VIM's own alarm is about no NS instance: no NS alarm, never notified here
        vim = (await http.get("/api/v1/vims")).json()[0]
        vim_alarm = await alarms.raise_alarm(
            vim["id"],
            ProbableCause.VIM_UNREACHABLE,
            PerceivedSeverity.CRITICAL,
            ["no answer"],
            vim_id=vim["id"],
            project_id="default",
        )
        for severity, cause in (
            (PerceivedSeverity.MAJOR, ProbableCause.HEAL_FAILED),
            (PerceivedSeverity.CRITICAL, ProbableCause.VNFC_FAILED),
        ):
            await alarms.raise_alarm(
                "vnfc-x", cause, severity, ["test"], nsr_id=nsr_id, project_id="default"
            )
        await alarms.clear("vnfc-x", ProbableCause.VNFC_FAILED, "running again")
        await by_name.wait_for(3)
        await by_nsd.wait_for(3)
        await critical.wait_for(2)
        await settle()
        expected = ["AlarmNotification", "AlarmNotification", "AlarmClearedNotification"]
        assert kinds(by_name) == expected and kinds(by_nsd) == expected
        # severities filter the alarms raised or changed; a clearing passes (its severity
        # is CLEARED, which no subscriber of CRITICAL alarms would name)
        assert [
            (b["notificationType"], b["alarm"]["perceivedSeverity"]) for b in critical.bodies()
        ] == [
            ("AlarmNotification", "CRITICAL"),
            ("AlarmClearedNotification", "CLEARED"),
        ]
        assert elsewhere.bodies() == []
        assert by_name.versions == [SOL005_VERSION] * 3
    listed = (await http.get(f"/api/v1/vims/{vim['id']}/alarms")).json()
    assert [(a["id"], a["vimId"], a["probableCause"]) for a in listed] == [
        (vim_alarm.id, vim["id"], "VIM_UNREACHABLE")
    ]
    ns_alarms = (await http.get("/nsfm/v1/alarms")).json()
    assert vim_alarm.id not in {a["id"] for a in ns_alarms}
    assert {a["managedObjectId"] for a in ns_alarms} == {nsr_id}
    first = by_name.bodies()[0]
    assert first["_links"]["subscription"] == {"href": f"/nsfm/v1/subscriptions/{sub['id']}"}
    assert first["alarm"]["perceivedSeverity"] == "MAJOR"


# -- tenancy ------------------------------------------------------------------------------
async def test_a_subscription_hears_of_its_own_project_only(
    app: Nubo, http: httpx.AsyncClient
) -> None:
    await add_project(app, "other")
    await add_user(app, "b-user", {"other": Role.USER})
    token = await token_for(app, "b-user", project="other")
    with CallbackServer() as mine, CallbackServer() as theirs:
        await subscribe(http, "nsd", mine.url)
        async with asgi_client(app.api(), token=token) as other:
            await subscribe(other, "nsd", theirs.url)
            assert len((await other.get("/nsd/v1/subscriptions")).json()) == 1
            other_nsd = (await other.post(NSDS)).json()["id"]
            assert (await other.delete(f"{NSDS}/{other_nsd}")).status_code == 204
        nsd_id = (await http.post(NSDS)).json()["id"]
        assert (await http.delete(f"{NSDS}/{nsd_id}")).status_code == 204
        await mine.wait_for(1)
        await theirs.wait_for(1)
        await settle()
        assert [b["nsdInfoId"] for b in mine.bodies()] == [nsd_id]
        assert [b["nsdInfoId"] for b in theirs.bodies()] == [other_nsd]


async def test_authentication_is_refused_as_on_every_api(http: httpx.AsyncClient) -> None:
    with CallbackServer() as callback:
        for api in ("nsd", "vnfpkgm", "nsfm"):
            body = {"callbackUri": callback.url, "authentication": {"authType": ["BASIC"]}}
            r = await http.post(f"/{api}/v1/subscriptions", json=body)
            assert r.status_code >= 400 and "authentication" in r.json()["detail"], r.text
        assert callback.gets == 0


async def test_the_openapi_document_lists_the_new_routes(http: httpx.AsyncClient) -> None:
    paths = (await http.get("/openapi.json")).json()["paths"]
    for api in ("nsd", "vnfpkgm", "nslcm", "nsfm"):
        assert set(paths[f"/{api}/v1/subscriptions"]) == {"get", "post"}
        assert set(paths[f"/{api}/v1/subscriptions/{{subscription_id}}"]) == {"get", "delete"}
    upload = "/vnfpkgm/v1/vnf_packages/{package_id}/package_content/upload_from_uri"
    assert set(paths[upload]) == {"post"}
    assert "/api/v1/vims/{vim_id}/alarms" in paths


async def test_subscription_lists_are_filtered_and_paged(tmp_path: Path) -> None:
    async with running(fake_nubo(tmp_path, page_size=3, **FAST)) as app, api_client(app) as http:
        with CallbackServer() as callback:
            ids = [
                (await subscribe(http, "nsfm", callback.url, probableCauses=[f"CAUSE_{i}"]))["id"]
                for i in range(7)
            ]
            r = await http.get("/nsfm/v1/subscriptions")
            seen: list[str] = []
            while True:
                assert r.status_code == 200, r.text
                page = r.json()
                seen += [s["id"] for s in page]
                if "next" not in r.links:
                    break
                assert len(page) == 3
                r = await http.get(r.links["next"]["url"])
            assert seen == ids
            query = {"filter": "(cont,filter/probableCauses,CAUSE_4)"}
            r = await http.get("/nsfm/v1/subscriptions", params=query)
            assert [s["id"] for s in r.json()] == [ids[4]], r.text
            r = await http.get("/nsfm/v1/subscriptions", params={"filter": "(eq,nope,1)"})
            assert_problem(r, 400, "BAD_REQUEST")
