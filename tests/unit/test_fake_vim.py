"""The in-memory VIM keeps the Pop semantics the Docker driver has."""

from __future__ import annotations

import ipaddress

import pytest

from nubo.model.errors import Conflict, ImageNotFound, NotFound, VimError, VimUnreachable
from nubo.vim import fake
from nubo.vim.fake import FakeVimDriver
from nubo.vim.port import (
    LABEL_SERVER,
    NetworkSpec,
    ServerSpec,
    ServerStatus,
    VimConfig,
    VimDriver,
)
from nubo.vim.registry import DriverRegistry

IMAGE = "nubo/sipp-server:latest"


async def _net(driver: FakeVimDriver, name: str = "private") -> str:
    return (await driver.create_network(NetworkSpec(name=name, labels={"k": "v"}))).id


def test_registered_under_fake_and_satisfies_the_port() -> None:
    registry = DriverRegistry()
    fake.register(registry)
    driver = registry.create(VimConfig(id="1", name="f", type="fake"))
    assert isinstance(driver, FakeVimDriver) and isinstance(driver, VimDriver)


async def test_networks_get_distinct_subnets_and_are_idempotent_by_name() -> None:
    driver = FakeVimDriver()
    a = await driver.create_network(NetworkSpec(name="a"))
    b = await driver.create_network(NetworkSpec(name="b"))
    assert not ipaddress.ip_network(a.cidr).overlaps(ipaddress.ip_network(b.cidr))
    assert (await driver.create_network(NetworkSpec(name="a"))).id == a.id
    await driver.delete_network(a.id)
    await driver.delete_network(a.id)
    assert [n.id for n in await driver.list_networks()] == [b.id]


async def test_pop_lifecycle() -> None:
    driver = FakeVimDriver()
    net = await _net(driver)
    spec = ServerSpec(name="uas", image=IMAGE, networks={"private": net}, labels={"ns": "1"})
    one, two = await driver.create_server(spec), await driver.create_server(spec)
    assert one.status is ServerStatus.CREATED and one.labels[LABEL_SERVER] == one.id
    assert one.addresses["private"] != two.addresses["private"]
    await driver.set_metadata(one.id, {"A": "1", "B": "2"})
    await driver.set_metadata(one.id, {"B": ""})  # an empty value deletes
    started = await driver.start_server(one.id, timeout=1)
    assert started.status is ServerStatus.RUNNING and started.metadata == {"A": "1"}
    container = driver.container_of(one.id)
    assert container is not None and container.environment == {"A": "1"}
    with pytest.raises(Conflict):
        await driver.set_metadata(one.id, {"C": "3"})
    assert (await driver.stop_server(one.id, timeout=1)).status is ServerStatus.EXITED
    assert driver.history(one.id)[-3:] == [
        ServerStatus.RUNNING,
        ServerStatus.STOPPING,
        ServerStatus.EXITED,
    ]
    again = await driver.start_server(one.id, timeout=1)  # a stopped server restarts in place
    assert again.status is ServerStatus.RUNNING and again.addresses == started.addresses
    assert {s.id for s in await driver.list_servers({"ns": "1"})} == {one.id, two.id}
    await driver.delete_server(one.id)
    await driver.delete_server(one.id)
    with pytest.raises(NotFound):
        await driver.get_server(one.id)


async def test_fixed_addresses_and_release_on_final_state() -> None:
    driver = FakeVimDriver()
    net = await _net(driver)
    first = await driver.create_server(ServerSpec(name="a", image=IMAGE, networks={"p": net}))
    taken = first.addresses["p"]
    pinned = ServerSpec(name="b", image=IMAGE, networks={"p": net}, fixed_addresses={"p": taken})
    with pytest.raises(Conflict):
        await driver.create_server(pinned)
    await driver.stop_server(first.id, timeout=1)  # never started: its address is free again
    assert (await driver.create_server(pinned)).addresses == {"p": taken}
    third = await driver.create_server(ServerSpec(name="c", image=IMAGE, networks={"p": net}))
    await driver.start_server(third.id, timeout=1)
    await driver.stop_server(third.id, timeout=1)  # stopped after running: keeps its address
    keep = ServerSpec(name="d", image=IMAGE, networks={"p": net}, fixed_addresses=third.addresses)
    with pytest.raises(Conflict):
        await driver.create_server(keep)
    await driver.delete_server(third.id)
    assert (await driver.create_server(keep)).addresses == third.addresses


async def test_fault_knobs() -> None:
    driver = FakeVimDriver()
    net = await _net(driver)
    driver.fail_start_for = {"broken"}
    broken = await driver.create_server(ServerSpec(name="broken", image=IMAGE, networks={"p": net}))
    with pytest.raises(VimError):
        await driver.start_server(broken.id, timeout=1)
    assert (await driver.get_server(broken.id)).status is ServerStatus.FAILED
    missing = await driver.create_server(ServerSpec(name="m", image="nope:1", networks={"p": net}))
    with pytest.raises(ImageNotFound):
        await driver.start_server(missing.id, timeout=1)
    ok = await driver.create_server(ServerSpec(name="ok", image=IMAGE, networks={"p": net}))
    await driver.start_server(ok.id, timeout=1)
    driver.crash(ok.id, exit_code=137)
    assert (await driver.get_server(ok.id)).status is ServerStatus.FAILED
    driver.unreachable = True
    with pytest.raises(VimUnreachable):
        await driver.info()


async def test_knobs_from_config_extra() -> None:
    config = VimConfig(
        id="f", name="f", type="fake", extra={"images": "*", "fail_start_for": "x, y", "delay": "0"}
    )
    driver = FakeVimDriver(config)
    assert driver.images is None and driver.fail_start_for == {"x", "y"}
    assert await driver.has_image("anything:1")
    assert (await driver.quota()).networks == 256
