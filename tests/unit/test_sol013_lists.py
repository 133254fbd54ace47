"""SOL013 filters, attribute selectors and paging on the SOL005 lists, over hundreds of records."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from nubo.app import Nubo
from tests.conftest import api_client, fake_nubo, running
from tests.unit.test_api import assert_problem
from tests.unit.test_nslcm import create, instantiate, onboard, settle

NSDS = "/nsd/v1/ns_descriptors"
COUNT = 300
PAGE = 70
TIERS = ("gold", "silver", "bronze")


def user_data(i: int) -> dict[str, Any]:
    return {
        "index": i,
        "tier": TIERS[i % 3],
        "name": f"nsd-{i:03d}",
        "tags": ["even" if i % 2 == 0 else "odd", f"ten-{i // 10}"],
        "site": {"region": "north" if i < 100 else "south", "rack": i % 7},
        "label": "a,b" if i == 7 else "it's" if i == 8 else "plain",
    }


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[Nubo]:
    async with running(fake_nubo(tmp_path, page_size=PAGE, fault_management=True)) as nubo:
        yield nubo


@pytest.fixture
async def http(app: Nubo) -> AsyncIterator[httpx.AsyncClient]:
    async with api_client(app) as client:
        yield client


@pytest.fixture
async def nsds(http: httpx.AsyncClient) -> dict[int, str]:
    """COUNT NsdInfos (CREATED), each with its userDefinedData; index -> NsdInfo id."""
    ids: dict[int, str] = {}
    for start in range(0, COUNT, 50):

        async def one(i: int) -> None:
            r = await http.post(NSDS, json={"userDefinedData": user_data(i)})
            assert r.status_code == 201, r.text
            ids[i] = r.json()["id"]

        await asyncio.gather(*(one(i) for i in range(start, min(start + 50, COUNT))))
    return ids


async def every_page(http: httpx.AsyncClient, path: str, **params: str) -> list[dict[str, Any]]:
    """The items of every page, following the Link headers; checks each page's size."""
    r = await http.get(path, params=params)
    items: list[dict[str, Any]] = []
    while True:
        assert r.status_code == 200, r.text
        page = r.json()
        items += page
        if "next" not in r.links:
            return items
        assert len(page) == PAGE
        r = await http.get(r.links["next"]["url"])


async def matching(http: httpx.AsyncClient, filter: str) -> set[int]:
    """The indexes of the NsdInfos a filter keeps (all pages)."""
    items = await every_page(http, NSDS, filter=filter, fields="userDefinedData")
    return {item["userDefinedData"]["index"] for item in items}


#: filter -> which indexes it keeps
CASES: list[tuple[str, Callable[[int], bool]]] = [
    ("(eq,userDefinedData/tier,gold)", lambda i: i % 3 == 0),
    ("(eq,userDefinedData/tier,gold,silver)", lambda i: i % 3 in (0, 1)),
    ("(neq,userDefinedData/tier,gold)", lambda i: i % 3 != 0),
    ("(neq,userDefinedData/tier,gold,silver)", lambda i: i % 3 == 2),
    ("(gt,userDefinedData/index,250)", lambda i: i > 250),
    ("(gte,userDefinedData/index,250)", lambda i: i >= 250),
    ("(lt,userDefinedData/index,12)", lambda i: i < 12),
    ("(lte,userDefinedData/index,12)", lambda i: i <= 12),
    ("(gt,userDefinedData/name,nsd-290)", lambda i: i > 290),
    ("(cont,userDefinedData/name,-1)", lambda i: f"{i:03d}".startswith("1")),
    ("(cont,userDefinedData/name,-1,-2)", lambda i: f"{i:03d}"[0] in "12"),
    ("(ncont,userDefinedData/name,5)", lambda i: "5" not in f"{i:03d}"),
    ("(ncont,userDefinedData/name,5,6)", lambda i: not set("56") & set(f"{i:03d}")),
    # nested attributes, and an array: eq matches when one element does
    ("(eq,userDefinedData/site/region,south)", lambda i: i >= 100),
    ("(eq,userDefinedData/site/rack,3)", lambda i: i % 7 == 3),
    ("(eq,userDefinedData/tags,ten-4)", lambda i: i // 10 == 4),
    ("(neq,userDefinedData/tags,even)", lambda i: i % 2 == 1),
    # several expressions: all must match
    (
        "(eq,userDefinedData/tier,bronze);(lt,userDefinedData/index,30);(eq,userDefinedData/tags,odd)",
        lambda i: i % 3 == 2 and i < 30 and i % 2 == 1,
    ),
    # quoted values: a comma, a doubled quote
    ("(eq,userDefinedData/label,'a,b')", lambda i: i == 7),
    ("(eq,userDefinedData/label,'it''s')", lambda i: i == 8),
    # an attribute no record has matches nothing (neq: everything)
    ("(eq,userDefinedData/nowhere,x)", lambda i: False),
    ("(neq,userDefinedData/nowhere,x)", lambda i: True),
    # a typed attribute of the view
    ("(eq,nsdOnboardingState,CREATED)", lambda i: True),
    ("(eq,nsdOnboardingState,ONBOARDED)", lambda i: False),
]


async def test_each_operator_over_hundreds_of_records(
    http: httpx.AsyncClient, nsds: dict[int, str]
) -> None:
    for expression, expected in CASES:
        wanted = {i for i in range(COUNT) if expected(i)}
        assert await matching(http, expression) == wanted, expression


async def test_paging_follows_link_headers_and_keeps_the_query(
    http: httpx.AsyncClient, nsds: dict[int, str]
) -> None:
    r = await http.get(NSDS)
    assert r.status_code == 200 and len(r.json()) == PAGE
    link = r.headers["link"]
    assert link.startswith("<http://nubo/nsd/v1/ns_descriptors?") and link.endswith('>; rel="next"')
    assert "nextpage_opaque_marker=" in link
    everything = await every_page(http, NSDS)
    assert [item["id"] for item in everything] == [
        item["id"] for item in (await http.get(NSDS)).json()
    ] + [item["id"] for item in everything[PAGE:]]
    assert sorted(item["id"] for item in everything) == sorted(nsds.values())
    # the next link repeats the filter and the selectors
    r = await http.get(NSDS, params={"filter": "(neq,userDefinedData/tier,gold)", "all_fields": ""})
    following = await http.get(r.links["next"]["url"])
    assert all(item["userDefinedData"]["tier"] != "gold" for item in following.json())
    # the last page has no next link
    small = await http.get(NSDS, params={"filter": "(lt,userDefinedData/index,5)"})
    assert len(small.json()) == 5 and "link" not in small.headers


async def test_a_marker_nubo_did_not_make_is_refused(http: httpx.AsyncClient) -> None:
    for marker in ("garbage", "eyJvZmZzZXQiOiAtMX0", "bnVsbA"):
        r = await http.get(NSDS, params={"nextpage_opaque_marker": marker})
        assert assert_problem(r, 400, "BAD_REQUEST")["field"] == "nextpage_opaque_marker"


@pytest.mark.parametrize(
    ("expression", "part", "says"),
    [
        ("(eqq,nsdId,x)", "(eqq,nsdId,x)", "unknown operator"),
        ("(eq,noSuchAttribute,x)", "(eq,noSuchAttribute,x)", "no attribute 'noSuchAttribute'"),
        ("(eq,vnfPkgIds/x,y)", "(eq,vnfPkgIds/x,y)", "no attribute 'vnfPkgIds/x'"),
        ("(eq,nsdId)", "(eq,nsdId)", "(op,attribute,value"),
        ("eq,nsdId,x", "eq,nsdId,x", "starts with '('"),
        ("(eq,nsdId,x", "(eq,nsdId,x", "ends with ')'"),
        ("(eq,nsdId,x);", "(eq,nsdId,x);", "separated by ';'"),
        ("(eq,nsdId,x)(eq,nsdId,y)", "(eq,nsdId,x)(eq,nsdId,y)", "separated by ';'"),
        ("(eq,nsdId,a(b)", "(eq,nsdId,a(", "must be quoted"),
        ("(eq,nsdId,'open)", "(eq,nsdId,'open)", "not closed"),
        ("(eq,nsdId//x,y)", "(eq,nsdId//x,y)", "not an attribute path"),
        ("(gt,nsdId,a,b)", "(gt,nsdId,a,b)", "one value"),
        ("", "", "empty filter"),
    ],
)
async def test_bad_filters_are_400_naming_the_bad_part(
    http: httpx.AsyncClient, expression: str, part: str, says: str
) -> None:
    problem = assert_problem(
        await http.get(NSDS, params={"filter": expression}), 400, "BAD_REQUEST"
    )
    assert problem["field"] == "filter" and problem["part"] == part
    assert says in problem["detail"]


async def test_operators_must_fit_the_attribute_type(http: httpx.AsyncClient) -> None:
    ops = "/nslcm/v1/ns_lcm_op_occs"
    for expression, says in [
        ("(eq,isAutomaticInvocation,maybe)", "not true or false"),
        ("(cont,isAutomaticInvocation,t)", "applies to string attributes"),
        ("(gt,isAutomaticInvocation,true)", "does not apply to a boolean"),
    ]:
        r = await http.get(ops, params={"filter": expression})
        assert says in assert_problem(r, 400, "BAD_REQUEST")["detail"]
    ok = await http.get(ops, params={"filter": "(eq,isAutomaticInvocation,false)"})
    assert ok.status_code == 200 and ok.json() == []


async def test_attribute_selectors(http: httpx.AsyncClient, nsds: dict[int, str]) -> None:
    one = {"filter": "(eq,userDefinedData/index,42)"}

    async def only(**params: str) -> dict[str, Any]:
        r = await http.get(NSDS, params=one | params)
        assert r.status_code == 200, r.text
        [item] = r.json()
        return item  # type: ignore[no-any-return]

    # by default (and with exclude_default) the GS's default exclusions are left out
    default = await only()
    assert "userDefinedData" not in default and default["id"] == nsds[42]
    assert {"id", "nsdOnboardingState", "_links"} <= set(default)
    assert await only(exclude_default="") == default
    assert (await only(all_fields=""))["userDefinedData"] == user_data(42)
    # fields: simple attributes plus the complex ones listed
    listed = await only(fields="userDefinedData/site,_links/self")
    assert listed["userDefinedData"] == {
        k: v for k, v in user_data(42).items() if not isinstance(v, dict | list)
    } | {"site": user_data(42)["site"]}
    assert listed["_links"] == {"self": default["_links"]["self"]}
    assert "vnfPkgIds" not in listed and listed["nsdOnboardingState"] == "CREATED"
    both = await only(fields="userDefinedData", exclude_default="")
    assert both["userDefinedData"] == user_data(42)
    # exclude_fields: everything but what is listed (nested paths too)
    dropped = await only(exclude_fields="_links/nsd_content,vnfPkgIds")
    assert set(dropped["_links"]) == {"self"} and "vnfPkgIds" not in dropped
    assert dropped["userDefinedData"] == user_data(42)
    for params, field in [
        ({"all_fields": "", "fields": "_links"}, "all_fields"),
        ({"all_fields": "", "exclude_default": ""}, "all_fields"),
        ({"fields": "_links", "exclude_fields": "vnfPkgIds"}, "fields"),
        ({"fields": "nothing"}, "fields"),
        ({"exclude_fields": "vnfPkgIds/nothing"}, "exclude_fields"),
    ]:
        r = await http.get(NSDS, params=params)
        assert assert_problem(r, 400, "BAD_REQUEST")["field"] == field


async def test_ns_instances_filter_and_select_nested_vnf_instances(
    http: httpx.AsyncClient,
) -> None:
    nsd_id = await onboard(http)
    running_ns = await create(http, nsd_id, name="running")
    idle = await create(http, nsd_id, name="idle")
    op = await settle(http, await instantiate(http, running_ns["id"]))
    assert op["operationState"] == "COMPLETED"
    lcm = "/nslcm/v1/ns_instances"

    listed = (await http.get(lcm)).json()
    assert {n["id"] for n in listed} == {running_ns["id"], idle["id"]}
    assert all("vnfInstance" not in n and "virtualLinkInfo" not in n for n in listed)
    r = await http.get(
        lcm,
        params={"filter": "(eq,vnfInstance/vnfInstanceName,sipp-client)", "fields": "vnfInstance"},
    )
    [found] = r.json()
    assert found["id"] == running_ns["id"] and "virtualLinkInfo" not in found
    assert sorted(v["vnfInstanceName"] for v in found["vnfInstance"]) == [
        "sipp-client",
        "sipp-server",
    ]
    r = await http.get(lcm, params={"filter": "(eq,vnfInstance,x)"})
    assert "is a structure" in assert_problem(r, 400, "BAD_REQUEST")["detail"]
    r = await http.get(lcm, params={"filter": "(neq,nsState,INSTANTIATED)"})
    assert [n["id"] for n in r.json()] == [idle["id"]]
    r = await http.get(
        lcm, params={"filter": "(cont,nsInstanceName,unn);(eq,nsdId," + nsd_id + ")"}
    )
    assert [n["id"] for n in r.json()] == [running_ns["id"]]
    # occurrences: the default exclusions and the nubo shortcut parameters still apply
    ops = (await http.get("/nslcm/v1/ns_lcm_op_occs")).json()
    assert [o["id"] for o in ops] == [op["id"]] and "operationParams" not in ops[0]
    r = await http.get(
        "/nslcm/v1/ns_lcm_op_occs",
        params={"filter": "(eq,lcmOperationType,INSTANTIATE)", "nsInstanceId": idle["id"]},
    )
    assert r.json() == []


@pytest.mark.parametrize(
    "path",
    [
        "/nsd/v1/ns_descriptors",
        "/vnfpkgm/v1/vnf_packages",
        "/nslcm/v1/ns_instances",
        "/nslcm/v1/ns_lcm_op_occs",
        "/nslcm/v1/subscriptions",
        "/nsfm/v1/alarms",
    ],
)
async def test_every_sol005_list_shares_the_mechanism(http: httpx.AsyncClient, path: str) -> None:
    assert (await http.get(path, params={"filter": "(eq,id,none)"})).json() == []
    r = await http.get(path, params={"filter": "(eq,noSuchAttribute,x)"})
    assert assert_problem(r, 400, "BAD_REQUEST")["part"] == "(eq,noSuchAttribute,x)"
    r = await http.get(path, params={"exclude_fields": "noSuchAttribute"})
    assert assert_problem(r, 400, "BAD_REQUEST")["field"] == "exclude_fields"
    assert (await http.get(path, params={"all_fields": ""})).status_code == 200
    paths = (await http.get("/openapi.json")).json()["paths"]
    names = {p["name"] for p in paths[path]["get"]["parameters"]}
    assert {"filter", "fields", "exclude_fields", "exclude_default", "all_fields"} <= names
    assert "nextpage_opaque_marker" in names
