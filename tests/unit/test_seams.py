"""The test seams stay out of the product.

A production orchestrator (``nubo serve``, ``build`` with its default
arguments, ``Settings.from_env``) knows no ``fake`` VIM type and no crash
setting; only the test entry point ``python -m nubo.testing serve`` (and
tests, through ``nubo.testing``) wire them.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from nubo.app import build, default_registry
from nubo.cli.main import serve as nubo_serve
from nubo.settings import Settings
from nubo.testing import CRASH_AT_VARIABLE, crash_hook_from_env, registry_with_fake
from nubo.testing.__main__ import serve as seamed_serve
from tests.conftest import api_client, running
from tests.nubo_process import NuboProcess

NSD = Path(__file__).resolve().parents[2] / "examples" / "sipp" / "nsd.json"
POINT = "INSTANTIATE:after:allocate"
QUIET = {"NUBO_FAULT_MANAGEMENT": "false", "NUBO_MONITORING": "false"}


def assert_unknown_vim_type(response: httpx.Response, known: list[str]) -> None:
    """The normal problem document for a VIM type nobody registered, listing the known ones."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert (problem["status"], problem["code"]) == (400, "BAD_REQUEST")
    assert problem["detail"] == f"unknown VIM type 'fake'; known types: {', '.join(known)}"


async def test_a_production_orchestrator_refuses_a_fake_vim(tmp_path: Path) -> None:
    app = build(
        Settings(data_dir=tmp_path, fault_management=False, monitoring=False, autoscaling=False)
    )
    assert "fake" not in app.registry.types()
    async with running(app), api_client(app) as http:
        r = await http.post("/api/v1/vims", json={"name": "edge", "type": "fake"})
        assert_unknown_vim_type(r, app.registry.types())
        assert [v["name"] for v in (await http.get("/api/v1/vims")).json()] == ["local-docker"]


def test_nubo_serve_refuses_a_fake_vim(tmp_path: Path) -> None:
    server = NuboProcess(tmp_path / "data")
    try:
        server.start(**QUIET)
        r = server.api("POST", "/api/v1/vims", json={"name": "edge", "type": "fake"})
        assert_unknown_vim_type(r, ["docker"])
        assert "TEST SERVER" not in server.log()
    finally:
        server.stop()


def test_settings_have_no_crash_setting() -> None:
    crash = {"NUBO_CRASH_AT": POINT, CRASH_AT_VARIABLE: POINT}
    assert Settings.from_env(crash) == Settings.from_env({})
    assert [f.name for f in dataclasses.fields(Settings) if "crash" in f.name] == []


#: builds a production orchestrator and passes the step boundary a crash would be armed at
PRODUCTION_PROBE = """
import asyncio, sys
from pathlib import Path
from nubo.app import build, default_registry
from nubo.settings import Settings

async def main():
    app = build(Settings.from_env(data_dir=Path(sys.argv[1])))
    await app.runner.fault("INSTANTIATE", "after:allocate")
    print("passed", ",".join(app.registry.types()))

asyncio.run(main())
"""


def test_a_production_orchestrator_ignores_crash_variables(tmp_path: Path) -> None:
    env = os.environ | {"NUBO_CRASH_AT": POINT, CRASH_AT_VARIABLE: POINT}
    probe = subprocess.run(
        [sys.executable, "-c", PRODUCTION_PROBE, str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (probe.returncode, probe.stdout.strip()) == (0, "passed docker"), probe.stderr


def test_the_test_registry_adds_the_fake_driver_to_the_production_ones() -> None:
    production = default_registry().types()
    assert registry_with_fake().types() == sorted([*production, "fake"])


def test_crash_points_are_checked() -> None:
    assert crash_hook_from_env({}) is None
    assert crash_hook_from_env({CRASH_AT_VARIABLE: " "}) is None
    assert crash_hook_from_env({CRASH_AT_VARIABLE: POINT}) is not None
    for wrong in ("INSTANTIATE-after-allocate", "DEPLOY:after:allocate", "INSTANTIATE:at:x"):
        with pytest.raises(ValueError, match="OPERATION:before"):
            crash_hook_from_env({CRASH_AT_VARIABLE: wrong})


def test_the_test_server_takes_the_options_of_nubo_serve() -> None:
    assert [p.opts for p in seamed_serve.params] == [p.opts for p in nubo_serve.params]


def test_the_test_entry_point_serves_the_fake_vim_and_crashes_where_asked(
    tmp_path: Path,
) -> None:
    server = NuboProcess(tmp_path / "data", test_server=True)
    try:
        server.start(crash_at=POINT, NUBO_DEFAULT_VIM_TYPE="fake", **QUIET)
        assert "TEST SERVER" in server.log()
        vims = server.api("GET", "/api/v1/vims").json()
        assert [(v["name"], v["type"]) for v in vims] == [("local-docker", "fake")]
        edge = server.api("POST", "/api/v1/vims", json={"name": "edge", "type": "fake"})
        assert edge.status_code == 201, edge.text
        nsd = server.api("POST", "/api/v1/ns-descriptors", content=NSD.read_bytes())
        assert nsd.status_code == 201, nsd.text
        assert server.api("POST", f"/api/v1/ns-records/{nsd.json()['id']}").status_code == 202
        assert server.wait_killed(timeout=30) == -9, server.log()
        assert f"test.crash point={POINT}" in server.log()
    finally:
        server.stop()
