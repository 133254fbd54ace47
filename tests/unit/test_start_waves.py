"""Starts in dependency waves over the in-memory VIM, with deliberately slow sources.

The fake VIM notes when each start begins and when its server runs, so the
order can be checked: a target never starts before its sources run, and it
does not wait for a slow VNF it does not depend on.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from nubo.app import Nubo
from nubo.model.records import LcmOpOcc
from nubo.model.states import NsStatus, OpState, VnfcState
from nubo.vim.fake import FakeVimDriver
from tests.conftest import fake_nubo

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SLOW = 0.4
QUICK = 0.05


def vnfd(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "vendor": "nubo",
        "version": "1.0",
        "type": name.replace("-", ""),
        "virtual_link": [{"name": "lan"}],
        "vdu": [
            {
                "vm_image": [f"test/{name}:latest"],
                "scale_in_out": 2,
                "vnfc": [{"connection_point": [{"virtual_link_reference": "lan"}]}],
            }
        ],
        "deployment_flavour": [{"flavour_key": "docker.container"}],
    }


def uneven_nsd() -> bytes:
    """slow -> after-slow, quick -> after-quick, and alone with no dependency."""
    names = ["slow", "quick", "alone", "after-slow", "after-quick"]
    deps = [("slow", "after-slow"), ("quick", "after-quick")]
    return json.dumps(
        {
            "name": "uneven",
            "vendor": "nubo",
            "version": "1.0",
            "vld": [{"name": "lan"}],
            "vnfd": [vnfd(name) for name in names],
            "vnf_dependency": [
                {"source": {"name": s}, "target": {"name": t}, "parameters": ["lan"]}
                for s, t in deps
            ],
        }
    ).encode()


@pytest.fixture
async def nubo(tmp_path: Path) -> AsyncIterator[Nubo]:
    app = fake_nubo(tmp_path, start_timeout=5)
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def fake_of(nubo: Nubo) -> FakeVimDriver:
    driver = await nubo.vims.driver((await nubo.vims.default()).id)
    assert isinstance(driver, FakeVimDriver)
    driver.images = None
    return driver


async def deploy(nubo: Nubo, nsd: bytes) -> tuple[str, LcmOpOcc]:
    entry = await nubo.catalogue.onboard(nsd)
    nsr, op = await nubo.ns.instantiate(entry.id)
    return nsr.id, await nubo.runner.wait(op.id, timeout=10)


def moments(fake: FakeVimDriver) -> dict[tuple[str, str], float]:
    """(VNF name, "start" | "running") -> when; server names end in ``-<vnf>-0``."""
    return {(name.split("-", 2)[2].removesuffix("-0"), what): t for t, name, what in fake.timeline}


async def test_a_target_starts_once_its_sources_run_and_waits_for_nothing_else(
    nubo: Nubo,
) -> None:
    fake = await fake_of(nubo)
    fake.start_delays = {"test/slow:latest": SLOW, "test/quick:latest": QUICK}
    fake.start_delays["test/alone:latest"] = QUICK
    nsr_id, op = await deploy(nubo, uneven_nsd())
    assert op.state == OpState.COMPLETED, op.error
    at = moments(fake)
    # the VNFs without sources start together, before any of them runs
    first = [at[(name, "start")] for name in ("slow", "quick", "alone")]
    assert max(first) < min(at[(name, "running")] for name in ("slow", "quick", "alone"))
    assert at[("after-slow", "start")] >= at[("slow", "running")]
    assert at[("after-quick", "start")] >= at[("quick", "running")]
    # the quick VNF's target does not wait for the slow VNF
    assert at[("after-quick", "running")] < at[("slow", "running")]
    steps = [s.name for s in op.steps if s.name.startswith("start ")]
    assert steps == ["start slow, quick, alone", "start after-quick", "start after-slow"]
    nsr = await nubo.ns.get(nsr_id)
    assert nsr.status == NsStatus.ACTIVE
    assert all(c.state == VnfcState.RUNNING for c in nsr.all_vnfcs())
    slow_address = nsr.vnfr_by_name("slow").vnfcs()[0].addresses["lan"]
    target = fake.container_of(nsr.vnfr_by_name("after-slow").vnfcs()[0].vc_id)
    assert target is not None and target.environment["SLOW_LAN"] == slow_address


async def test_every_container_is_prepared_before_the_first_start(nubo: Nubo) -> None:
    fake = await fake_of(nubo)
    prepared: list[str] = []
    original = fake.prepare_server

    async def noting_prepare(server_id: str) -> Any:
        prepared.append(server_id)
        assert not fake.timeline, "a server was prepared after the first start"
        return await original(server_id)

    fake.prepare_server = noting_prepare  # type: ignore[method-assign]
    nsr_id, op = await deploy(nubo, uneven_nsd())
    assert op.state == OpState.COMPLETED, op.error
    nsr = await nubo.ns.get(nsr_id)
    assert sorted(prepared) == sorted(c.vc_id for c in nsr.all_vnfcs())


async def test_a_failed_start_starts_no_further_wave_and_rolls_back(nubo: Nubo) -> None:
    fake = await fake_of(nubo)
    fake.start_delays = {"test/slow:latest": SLOW}
    fake.fail_start_for = {"test/quick:latest"}
    nsr_id, op = await deploy(nubo, uneven_nsd())
    assert op.state == OpState.ROLLED_BACK
    assert op.error is not None and op.error["step"] == "start slow, quick, alone"
    started = {vnf for vnf, what in moments(fake) if what == "start"}
    assert started == {"slow", "quick", "alone"}  # the slow VNF's end started nothing
    assert await fake.list_servers() == [] and await fake.list_networks() == []
    assert (await nubo.ns.get(nsr_id)).status == NsStatus.ERROR


async def test_saves_do_not_grow_with_the_vnfs_of_a_wave(nubo: Nubo) -> None:
    fake = await fake_of(nubo)
    fake.delays = {"start_server": 0.05}
    saves = 0
    save_progress = nubo.runner.ops.save_progress

    async def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal saves
        saves += 1
        return await save_progress(*args, **kwargs)

    nubo.runner.ops.save_progress = counting  # type: ignore[method-assign]
    counts = {}
    for example in ("sipp/nsd.json", "topologies/independent.json"):
        saves = 0
        _, op = await deploy(nubo, (EXAMPLES / example).read_bytes())
        assert op.state == OpState.COMPLETED, op.error
        counts[example] = saves
    # five VNFCs in one wave cost no more transactions than two VNFCs in two waves
    assert counts["topologies/independent.json"] <= counts["sipp/nsd.json"], counts
