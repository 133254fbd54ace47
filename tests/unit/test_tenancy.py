"""Tenancy: no operation returns or changes another project's records.

Records of every kind are made in the ``default`` project; then every
operation of the OpenAPI document is called by the ADMIN of another project
with those records' ids: each answers 404 with the body a missing id gets,
lists leave them out, and afterwards every record is as it was. A system
administrator sees other projects' records only with ``allProjects=true``;
background work (notifications, healing) acts in the project of its record.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from nubo.app import Nubo
from nubo.model.identity import Role
from nubo.model.tenancy import DEFAULT_PROJECT, SYSTEM, in_project
from tests.auth import add_project, add_user, token_for
from tests.callback_server import CallbackServer
from tests.conftest import fake_nubo, running
from tests.sol005 import asgi_client
from tests.tenancy import (
    NSD,
    concrete,
    is_identity,
    make_records,
    record_params,
    request_for,
    wait_op,
)


@dataclass
class World:
    app: Nubo
    #: the records of the default project, by path parameter
    ids: dict[str, str]
    callback: CallbackServer
    other: str


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    with CallbackServer() as callback:
        async with running(fake_nubo(tmp_path, background=True)) as app:
            await add_user(app, "a-admin", {"default": Role.ADMIN})
            other = await add_project(app, "other")
            await add_user(app, "b-admin", {"other": Role.ADMIN})
            await add_user(app, "b-user", {"other": Role.USER})
            async with client(app, "a-admin") as http:
                ids = await make_records(app, http, callback.url)
            yield World(app, ids, callback, other)


def client(app: Nubo, user: str, project: str = "default") -> Any:
    return _Client(app, user, project)


class _Client:
    """An API client logged in as ``user`` in ``project`` (an async context manager)."""

    def __init__(self, app: Nubo, user: str, project: str) -> None:
        self._app, self._user, self._project = app, user, project
        self._http: Any = None

    async def __aenter__(self) -> httpx.AsyncClient:
        token = await token_for(self._app, self._user, project=self._project)
        self._http = asgi_client(self._app.api(), token=token)
        http: httpx.AsyncClient = await self._http.__aenter__()
        return http

    async def __aexit__(self, *exc: Any) -> None:
        await self._http.__aexit__(*exc)


async def snapshot(app: Nubo, ids: dict[str, str]) -> dict[str, Any]:
    """What a change to one of the default project's records would show in."""
    repos = app.repositories
    nsr = await repos.nsrs.get_nsr(ids["nsr_id"])
    nsd = await repos.nsds.get_nsd(ids["nsd_id"])
    package = await repos.packages.get(ids["package_id"])
    alarm = await repos.alarms.get_alarm(ids["alarm_id"])
    return {
        "nsr": (nsr.status, [(c.id, c.state) for c in nsr.all_vnfcs()]),
        "ops": [(op.id, op.state) for op in await repos.operations.list_ops(ids["nsr_id"])],
        "nsd": (nsd.enabled, nsd.info),
        "package": (package.operational_state, package.user_defined_data),
        "alarm": (alarm.ack_state, alarm.perceived_severity),
        "kpis": [k.id for k in await repos.kpis.list(ids["nsr_id"])],
        "subscription": (await repos.subscriptions.get(ids["subscription_id"])).id,
        "vim": (await repos.vims.get_vim(ids["vim_id"])).name,
        "nsrs": sorted(n.id for n in await repos.nsrs.list_nsrs()),
    }


def normalised(response: httpx.Response, ids: list[str]) -> tuple[int, Any]:
    """A problem answer with the ids it names replaced, to compare with a missing id's."""
    text = response.text
    for value in sorted(ids, key=len, reverse=True):
        text = text.replace(value, "<id>")
    text = text.replace("no-such-id", "<id>")
    return response.status_code, re.sub(r'"id":"[^"]*"', '"id":"-"', text)


async def test_no_operation_returns_or_changes_another_projects_records(world: World) -> None:
    app, ids = world.app, world.ids
    before = await snapshot(app, ids)
    secret_ids = sorted(set(ids.values()) - {ids["artifact_path"]})
    checked: list[str] = []
    wrong: list[str] = []
    async with client(app, "b-admin", "other") as http:
        document = (await http.get("/openapi.json")).json()
        for path, operations in sorted(document["paths"].items()):
            if is_identity(path):
                continue
            for method, _operation in sorted(operations.items()):
                named = record_params(path)
                if not named and method != "get" and path != "/nslcm/v1/ns_instances":
                    continue  # creates a record of the caller's own project
                kwargs = request_for(method, path, ids)
                answer = await http.request(method.upper(), concrete(path, ids), **kwargs)
                label = f"{method.upper()} {path}"
                checked.append(label)
                leaked = [i for i in secret_ids if i in answer.text]
                if named or (method, path) == ("post", "/nslcm/v1/ns_instances"):
                    # another project's id: the answer a missing id gets, word for word
                    # (the artifact's path is the same: it names no record)
                    unknown = {"artifact_path": ids["artifact_path"]}
                    missing = await http.request(
                        method.upper(), concrete(path, unknown), **request_for(method, path, {})
                    )
                    if answer.status_code != 404 or normalised(answer, secret_ids) != normalised(
                        missing, secret_ids
                    ):
                        wrong.append(
                            f"{label}: {answer.status_code} {answer.text[:200]} (a missing "
                            f"id: {missing.status_code} {missing.text[:200]})"
                        )
                elif answer.status_code != 200 or leaked:
                    wrong.append(f"{label}: {answer.status_code}, shows {leaked}")
    assert not wrong, "\n".join(wrong)
    assert len(checked) > 50
    assert await snapshot(app, ids) == before


async def test_lists_show_the_callers_project_only(world: World) -> None:
    app, ids = world.app, world.ids
    async with client(app, "b-admin", "other") as http:
        vim = await http.post("/api/v1/vims", json={"name": "a-vim", "type": "fake"})
        assert vim.status_code == 201, vim.text  # a VIM's name is unique per project only
        assert (await http.get("/api/v1/vims")).json() == [vim.json()]
        assert (await http.get("/api/v1/ns-records", params={"all": "true"})).json() == []
        assert (await http.get("/nslcm/v1/ns_lcm_op_occs")).json() == []
        assert (await http.get("/nsfm/v1/alarms")).json() == []
        assert (await http.get("/nslcm/v1/subscriptions")).json() == []
        metrics = (await http.get("/api/v1/metrics", params={"since": "1h"})).json()
        assert metrics["samples"] == []
        exposition = (await http.get("/metrics")).text
        assert ids["nsr_id"] not in exposition and ids["vnfc_id"] not in exposition
        # the same callback in another project is another subscription, not A's
        sub = await http.post("/nslcm/v1/subscriptions", json={"callbackUri": world.callback.url})
        assert sub.status_code == 201 and sub.json()["id"] != ids["subscription_id"]
    async with client(app, "a-admin") as http:
        metrics = (await http.get("/api/v1/metrics", params={"since": "1h"})).json()
        assert [s["nsr_id"] for s in metrics["samples"]] == [ids["nsr_id"]]
        assert [v["name"] for v in (await http.get("/api/v1/vims")).json()] == [
            "local-docker",
            "a-vim",
        ]


async def test_the_store_filters_metrics_and_decisions_by_their_ns_project(world: World) -> None:
    @dataclass(frozen=True)
    class Decision:
        id: str
        time: float
        nsr_id: str
        vnfr_id: str
        policy: str
        outcome: str

        def to_body(self) -> dict[str, Any]:
            return {"id": self.id}

    app, ids = world.app, world.ids
    repos = app.repositories
    await repos.decisions.save(Decision("d-1", 1.0, ids["nsr_id"], ids["vnfr_id"], "p", "NONE"))
    other = in_project(world.other)
    assert await repos.decisions.list(scope=other) == []
    # (the auto-scaler may have recorded decisions of that NS too)
    own = await repos.decisions.list(scope=in_project(DEFAULT_PROJECT), limit=1000)
    assert "d-1" in {d["id"] for d in own}
    from nubo.model.metrics import Metric

    window = {"since": 0.0, "until": 1e12}
    assert await repos.metrics.series(Metric.CPU_PERCENT, **window, scope=other) == []
    assert len(await repos.metrics.series(Metric.CPU_PERCENT, **window, scope=SYSTEM)) == 1


async def test_a_system_administrator_sees_other_projects_only_when_asking(world: World) -> None:
    app, ids = world.app, world.ids
    async with client(app, "b-admin", "other") as http:
        b_vim = (await http.post("/api/v1/vims", json={"name": "b-vim", "type": "fake"})).json()
        refused = await http.get("/api/v1/vims", params={"allProjects": "true"})
        assert refused.status_code == 403 and refused.json()["field"] == "allProjects"
    async with client(app, "admin") as http:  # the system administrator, in default
        own = (await http.get("/api/v1/vims")).json()
        assert b_vim["id"] not in {v["id"] for v in own}
        assert (await http.get(f"/api/v1/vims/{b_vim['id']}")).status_code == 404
        every = (await http.get("/api/v1/vims", params={"allProjects": "true"})).json()
        assert {b_vim["id"], ids["vim_id"]} <= {v["id"] for v in every}
        one = await http.get(f"/api/v1/vims/{b_vim['id']}", params={"allProjects": "true"})
        assert one.status_code == 200 and one.json()["project_id"] == world.other
    async with client(app, "admin", "other") as http:  # the same administrator, in other
        nsrs = (await http.get("/api/v1/ns-records")).json()
        assert nsrs == []
        across = await http.get(f"/api/v1/ns-records/{ids['nsr_id']}?allProjects=true")
        assert across.status_code == 200 and across.json()["project_id"] == DEFAULT_PROJECT


async def test_background_work_acts_in_the_project_of_its_record(world: World) -> None:
    app, ids = world.app, world.ids
    with CallbackServer() as b_callback:
        async with client(app, "b-admin", "other") as http:
            await http.post("/api/v1/vims", json={"name": "b-vim", "type": "fake"})
            nsd = (await http.post("/api/v1/ns-descriptors", json=_nsd())).json()
            deployed = await http.post(f"/api/v1/ns-records/{nsd['id']}")
            assert deployed.status_code == 202, deployed.text
            assert (await wait_op(http, deployed.headers["location"]))["state"] == "COMPLETED"
            nsr = deployed.json()
            sub = await http.post("/nslcm/v1/subscriptions", json={"callbackUri": b_callback.url})
            assert sub.status_code == 201, sub.text
        a_heard = len(world.callback.bodies())
        vnfc = (await app.ns.get(nsr["id"])).all_vnfcs()[0]
        healed = await app.ns.heal(nsr["id"], vnfc.id, cause="test", automatic=True)
        assert healed.project_id == world.other
        done = await app.runner.wait(healed.id)
        assert done.project_id == world.other
        got = await b_callback.wait_for(2)
        assert {b["nsLcmOpOccId"] for b in got} == {healed.id}
        assert all("_projectId" not in b and "projectId" not in b for b in got)
        # A's subscription heard nothing of B's NS
        assert len(world.callback.bodies()) == a_heard
        assert all(b.get("nsInstanceId") != nsr["id"] for b in world.callback.bodies())
    stored = await app.repositories.operations.get_op(healed.id, in_project(world.other))
    assert stored.project_id == world.other
    with pytest.raises(Exception, match="not found"):
        await app.repositories.operations.get_op(healed.id, in_project(DEFAULT_PROJECT))
    assert ids["nsr_id"] != nsr["id"]


def _nsd() -> dict[str, Any]:
    import json

    document: dict[str, Any] = json.loads(NSD.read_text())
    return document


async def test_an_idempotency_key_is_a_key_of_the_callers_project(world: World) -> None:
    app, ids = world.app, world.ids
    key = {"Idempotency-Key": "same-key"}
    async with client(app, "a-admin") as http:
        first = await http.post(f"/api/v1/ns-records/{ids['nsd_id']}", headers=key)
        assert first.status_code == 202, first.text
        again = await http.post(f"/api/v1/ns-records/{ids['nsd_id']}", headers=key)
        assert again.json()["id"] == first.json()["id"]  # a retry gets the first answer
    async with client(app, "b-admin", "other") as http:
        await http.post("/api/v1/vims", json={"name": "b-vim", "type": "fake"})
        nsd = (await http.post("/api/v1/ns-descriptors", json=_nsd())).json()
        # the same key with A's NSD is not A's answer: that NSD is not found here
        stolen = await http.post(f"/api/v1/ns-records/{ids['nsd_id']}", headers=key)
        assert stolen.status_code == 404, stolen.text
        own = await http.post(f"/api/v1/ns-records/{nsd['id']}", headers=key)
        assert own.status_code == 202, own.text
        assert own.json()["id"] != first.json()["id"]
        assert own.json()["project_id"] == world.other
        await wait_op(http, own.headers["location"])
    async with client(app, "a-admin") as http:
        await wait_op(http, first.headers["location"])
