"""The Docker driver against a real engine: Pop semantics, addressing, a real SIP call."""

from __future__ import annotations

import asyncio
import ipaddress
import time
import uuid
from typing import Any

import pytest

from nubo.model.errors import Conflict, ImageNotFound, NotFound, VimError, VimUnreachable
from nubo.vim.docker import DockerVimDriver
from nubo.vim.port import (
    LABEL_MANAGED,
    LABEL_SERVER,
    NetworkSpec,
    ServerSpec,
    ServerStatus,
    VimConfig,
)

pytestmark = pytest.mark.docker

SERVER_IMAGE = "nubo/sipp-server:latest"
CLIENT_IMAGE = "nubo/sipp-client:latest"


def _name(prefix: str) -> str:
    return f"nubo-test-{prefix}-{uuid.uuid4().hex[:8]}"


def _docker_subnets(client: Any, exclude_id: str) -> list[ipaddress.IPv4Network]:
    nets = []
    for payload in client.api.networks():
        if payload["Id"] == exclude_id:
            continue
        for cfg in (payload.get("IPAM") or {}).get("Config") or []:
            net = ipaddress.ip_network(cfg.get("Subnet", "::/128"), strict=False)
            if isinstance(net, ipaddress.IPv4Network):
                nets.append(net)
    return nets


def _selector(labels: dict[str, str]) -> list[str]:
    return [f"{k}={v}" for k, v in labels.items()]


async def _network(driver: DockerVimDriver, labels: dict[str, str]) -> str:
    return (await driver.create_network(NetworkSpec(name=_name("net"), labels=labels))).id


async def test_network_gets_a_free_subnet_and_is_idempotent_by_name(
    docker_driver: DockerVimDriver, ns_labels: dict[str, str], docker_client: Any
) -> None:
    name = _name("net")
    net = await docker_driver.create_network(NetworkSpec(name=name, labels=ns_labels))
    cidr = ipaddress.ip_network(net.cidr)
    assert cidr.prefixlen == 24 and cidr.subnet_of(ipaddress.ip_network("10.137.0.0/16"))
    assert not any(cidr.overlaps(other) for other in _docker_subnets(docker_client, net.id))
    assert net.labels[LABEL_MANAGED] == "true"
    again = await docker_driver.create_network(NetworkSpec(name=name, labels=ns_labels))
    assert (again.id, again.cidr, again.gateway) == (net.id, net.cidr, net.gateway)
    # a second network never shares the first one's subnet
    other = await docker_driver.create_network(NetworkSpec(name=_name("net"), labels=ns_labels))
    assert not ipaddress.ip_network(other.cidr).overlaps(cidr)
    found = await docker_driver.list_networks(ns_labels)
    assert {n.id for n in found} == {net.id, other.id}
    await docker_driver.delete_network(other.id)
    await docker_driver.delete_network(other.id)  # already gone: fine


async def test_create_server_reserves_addresses_and_creates_nothing(
    docker_driver: DockerVimDriver, ns_labels: dict[str, str], docker_client: Any
) -> None:
    net_id = await _network(docker_driver, ns_labels)
    servers = [
        await docker_driver.create_server(
            ServerSpec(
                name=_name("s"), image=SERVER_IMAGE, networks={"private": net_id}, labels=ns_labels
            )
        )
        for _ in range(3)
    ]
    addresses = [s.addresses["private"] for s in servers]
    assert len(set(addresses)) == 3
    net = (await docker_driver.list_networks(ns_labels))[0]
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network(net.cidr) for a in addresses)
    assert net.gateway not in addresses
    assert all(s.status is ServerStatus.CREATED for s in servers)
    assert (
        docker_client.containers.list(
            ignore_removed=True, all=True, filters={"label": _selector(ns_labels)}
        )
        == []
    )
    listed = await docker_driver.list_servers(ns_labels)
    assert {s.id for s in listed} == {s.id for s in servers}


async def test_fixed_address_taken_is_refused(
    docker_driver: DockerVimDriver, ns_labels: dict[str, str]
) -> None:
    net_id = await _network(docker_driver, ns_labels)
    first = await docker_driver.create_server(
        ServerSpec(
            name=_name("s"), image=SERVER_IMAGE, networks={"private": net_id}, labels=ns_labels
        )
    )
    with pytest.raises(Conflict):
        await docker_driver.create_server(
            ServerSpec(
                name=_name("s"),
                image=SERVER_IMAGE,
                networks={"private": net_id},
                labels=ns_labels,
                fixed_addresses={"private": first.addresses["private"]},
            )
        )
    await docker_driver.delete_server(first.id)  # releases the reservation
    again = await docker_driver.create_server(
        ServerSpec(
            name=_name("s"),
            image=SERVER_IMAGE,
            networks={"private": net_id},
            labels=ns_labels,
            fixed_addresses={"private": first.addresses["private"]},
        )
    )
    assert again.addresses == first.addresses


async def test_metadata_becomes_environment_and_address_is_pinned(
    docker_driver: DockerVimDriver, ns_labels: dict[str, str], docker_client: Any
) -> None:
    net_a = await _network(docker_driver, ns_labels)
    net_b = await _network(docker_driver, ns_labels)
    server = await docker_driver.create_server(
        ServerSpec(
            name=_name("uas"),
            image=SERVER_IMAGE,
            networks={"private": net_a, "mgmt": net_b},
            labels=ns_labels,
            metadata={"FROM_SPEC": "1", "DROPPED": "x"},
        )
    )
    await docker_driver.set_metadata(server.id, {"SIPP_PORT": "5060", "DROPPED": ""})
    started = await docker_driver.start_server(server.id, timeout=20)
    assert started.status is ServerStatus.RUNNING
    assert started.addresses == server.addresses
    assert started.metadata == {"FROM_SPEC": "1", "SIPP_PORT": "5060"}
    container = docker_client.containers.get(started.ext_id)
    env = container.attrs["Config"]["Env"]
    assert "SIPP_PORT=5060" in env and "FROM_SPEC=1" in env
    assert not any(e.startswith("DROPPED=") for e in env)
    assert container.labels[LABEL_SERVER] == server.id
    assert container.labels[LABEL_MANAGED] == "true"
    nets = container.attrs["NetworkSettings"]["Networks"]
    actual = {ep["NetworkID"]: ep["IPAddress"] for ep in nets.values()}
    assert actual == {net_a: server.addresses["private"], net_b: server.addresses["mgmt"]}
    with pytest.raises(Conflict):
        await docker_driver.set_metadata(server.id, {"LATE": "1"})
    fetched = await docker_driver.get_server(server.id)
    assert fetched.status is ServerStatus.RUNNING
    assert fetched.metadata == started.metadata and fetched.addresses == server.addresses
    assert fetched.labels == started.labels


async def test_image_that_exits_at_once_fails_with_log_tail(
    ns_labels: dict[str, str], docker_vim_config: VimConfig
) -> None:
    # a grace period makes the early exit deterministic to observe
    config = VimConfig(
        id="grace",
        name="grace",
        type="docker",
        endpoint=docker_vim_config.endpoint,
        extra={"start_grace": "1.5"},
    )
    driver = DockerVimDriver(config)
    try:
        net_id = await _network(driver, ns_labels)
        server = await driver.create_server(
            ServerSpec(
                name=_name("uac"),
                image=CLIENT_IMAGE,
                networks={"private": net_id},
                labels=ns_labels,
            )
        )
        with pytest.raises(VimError) as failure:
            await driver.start_server(server.id, timeout=20)
        assert "SERVER_PRIVATE is empty" in failure.value.detail
        assert failure.value.extra["exit_code"] == 64
        failed = await driver.get_server(server.id)
        assert failed.status is ServerStatus.FAILED and "exit code 64" in failed.detail
        await driver.delete_server(server.id)
        with pytest.raises(NotFound):
            await driver.get_server(server.id)
    finally:
        await driver.close()


async def test_missing_image_is_image_not_found(
    docker_driver: DockerVimDriver, ns_labels: dict[str, str]
) -> None:
    net_id = await _network(docker_driver, ns_labels)
    missing = "nubo/no-such-image:latest"
    assert not await docker_driver.has_image(missing)
    assert await docker_driver.has_image(SERVER_IMAGE)
    server = await docker_driver.create_server(
        ServerSpec(name=_name("x"), image=missing, networks={"private": net_id}, labels=ns_labels)
    )
    with pytest.raises(ImageNotFound) as failure:
        await docker_driver.start_server(server.id, timeout=10)
    assert missing in failure.value.detail
    assert isinstance(failure.value.__cause__, Exception)
    assert (await docker_driver.get_server(server.id)).status is ServerStatus.FAILED


async def test_stop_and_delete_are_idempotent(
    docker_driver: DockerVimDriver, ns_labels: dict[str, str], docker_client: Any
) -> None:
    net_id = await _network(docker_driver, ns_labels)
    server = await docker_driver.create_server(
        ServerSpec(
            name=_name("uas"), image=SERVER_IMAGE, networks={"private": net_id}, labels=ns_labels
        )
    )
    await docker_driver.start_server(server.id, timeout=20)
    with pytest.raises(NotFound):
        await docker_driver.start_server(str(uuid.uuid4()), timeout=1)
    again = await docker_driver.start_server(server.id, timeout=5)  # already running: no-op
    assert again.status is ServerStatus.RUNNING
    stopped = await docker_driver.stop_server(server.id, timeout=5)
    assert stopped.status is ServerStatus.EXITED
    restarted = await docker_driver.start_server(server.id, timeout=20)  # again, in place
    assert restarted.status is ServerStatus.RUNNING
    assert restarted.addresses == server.addresses
    assert (await docker_driver.stop_server(server.id, timeout=5)).status is ServerStatus.EXITED
    await docker_driver.delete_server(server.id)
    await docker_driver.delete_server(server.id)
    assert (
        docker_client.containers.list(
            ignore_removed=True, all=True, filters={"label": _selector(ns_labels)}
        )
        == []
    )
    with pytest.raises(NotFound):
        await docker_driver.get_server(server.id)
    never_started = await docker_driver.create_server(
        ServerSpec(
            name=_name("uas"), image=SERVER_IMAGE, networks={"private": net_id}, labels=ns_labels
        )
    )
    assert (
        await docker_driver.stop_server(never_started.id, timeout=1)
    ).status is ServerStatus.EXITED
    await docker_driver.delete_server(never_started.id)


async def test_servers_are_found_again_by_a_new_driver(
    docker_driver: DockerVimDriver, ns_labels: dict[str, str], docker_vim_config: VimConfig
) -> None:
    net_id = await _network(docker_driver, ns_labels)
    server = await docker_driver.create_server(
        ServerSpec(
            name=_name("uas"),
            image=SERVER_IMAGE,
            networks={"private": net_id},
            labels=ns_labels,
            metadata={"A": "b"},
        )
    )
    started = await docker_driver.start_server(server.id, timeout=20)
    restarted = DockerVimDriver(docker_vim_config)  # as after an orchestrator restart
    try:
        found = await restarted.list_servers(ns_labels)
        assert [s.id for s in found] == [server.id]
        assert found[0].status is ServerStatus.RUNNING
        assert found[0].addresses == server.addresses and found[0].metadata == {"A": "b"}
        assert found[0].ext_id == started.ext_id
        assert (await restarted.get_server(server.id)).name == server.name
        # the address of the running server is not handed out again
        other = await restarted.create_server(
            ServerSpec(
                name=_name("uas"),
                image=SERVER_IMAGE,
                networks={"private": net_id},
                labels=ns_labels,
            )
        )
        assert other.addresses != server.addresses
        await restarted.delete_server(server.id)
        assert [s.id for s in await restarted.list_servers(ns_labels)] == [other.id]
    finally:
        await restarted.close()


async def test_unreachable_engine_is_vim_unreachable() -> None:
    driver = DockerVimDriver(
        VimConfig(id="x", name="x", type="docker", endpoint="unix:///nonexistent/docker.sock")
    )
    with pytest.raises(VimUnreachable):
        await driver.info()
    await driver.close()


async def test_real_sip_calls_between_server_and_client(
    docker_driver: DockerVimDriver, ns_labels: dict[str, str], docker_client: Any
) -> None:
    net_id = await _network(docker_driver, ns_labels)
    uas = await docker_driver.create_server(
        ServerSpec(
            name=_name("uas"), image=SERVER_IMAGE, networks={"private": net_id}, labels=ns_labels
        )
    )
    uac = await docker_driver.create_server(
        ServerSpec(
            name=_name("uac"),
            image=CLIENT_IMAGE,
            networks={"private": net_id},
            labels=ns_labels,
            metadata={
                "SIPP_LENGTH": "0",
                "SIPP_RATE": "10",
                "SIPP_RATE_PERIOD": "1000",
                "SIPP_RATE_INCREASE": "0",
                "SIPP_RATE_MAX": "10",
                "SIPP_RTP_ECHO": "10",
                "SIPP_TRANSPORT_MODE": "u1",
            },
        )
    )
    # the NFVO resolves the dependency: the server's reserved address, before anything runs
    await docker_driver.set_metadata(uac.id, {"SERVER_PRIVATE": uas.addresses["private"]})
    await docker_driver.start_server(uas.id, timeout=20)
    client = await docker_driver.start_server(uac.id, timeout=20)
    container = docker_client.containers.get(client.ext_id)
    stats = ""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        code, out = await asyncio.to_thread(container.exec_run, ["sipp-stats"])
        stats = out.decode().strip()
        if code == 0 and not stats.startswith("successful=0 "):
            break
        await asyncio.sleep(0.5)
    counts = dict(item.split("=") for item in stats.split())
    assert int(counts["successful"]) > 0, stats
    assert int(counts["failed"]) == 0, stats
    server_ctr = docker_client.containers.get((await docker_driver.get_server(uas.id)).ext_id)
    code, log = server_ctr.exec_run(["sh", "-c", "head -c 4000 /var/log/sipp/messages.log"])
    assert code == 0 and b"INVITE sip:" in log
