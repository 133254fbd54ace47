"""The Docker driver's exec capability: files into a running container, commands inside it."""

from __future__ import annotations

import uuid

import pytest

from nubo.model.errors import Conflict, VimTimeout
from nubo.vim.docker import DockerVimDriver
from nubo.vim.port import EXEC_OUTPUT_LIMIT, NetworkSpec, ServerSpec

pytestmark = pytest.mark.docker

IMAGE = "nubo/sipp-server:latest"


async def _running_server(driver: DockerVimDriver, labels: dict[str, str]) -> str:
    suffix = uuid.uuid4().hex[:8]
    net = await driver.create_network(NetworkSpec(name=f"nubo-test-exec-{suffix}", labels=labels))
    server = await driver.create_server(
        ServerSpec(
            name=f"nubo-test-exec-{suffix}",
            image=IMAGE,
            networks={"private": net.id},
            labels=labels,
            metadata={"FROM_METADATA": "kept"},
        )
    )
    with pytest.raises(Conflict, match="does not run"):
        await driver.exec_in_server(server.id, ["true"], {}, timeout=5)
    await driver.start_server(server.id, timeout=30)
    return server.id


async def test_a_script_put_into_a_container_runs_there_with_both_environments(
    docker_driver: DockerVimDriver, ns_labels: dict[str, str]
) -> None:
    server_id = await _running_server(docker_driver, ns_labels)
    script = b'#!/bin/sh\necho "out $FROM_METADATA $GIVEN $(hostname -i)"\necho err >&2\nexit 3\n'
    await docker_driver.put_files(server_id, "/opt/nubo/scripts", {"check.sh": script})
    result = await docker_driver.exec_in_server(
        server_id, ["/opt/nubo/scripts/check.sh"], {"GIVEN": "by-exec"}, timeout=20
    )
    server = await docker_driver.get_server(server_id)
    assert result.exit_code == 3
    assert f"out kept by-exec {server.addresses['private']}" in result.output
    assert "err" in result.output and not result.truncated


async def test_long_output_keeps_its_tail_and_a_slow_command_times_out(
    docker_driver: DockerVimDriver, ns_labels: dict[str, str]
) -> None:
    server_id = await _running_server(docker_driver, ns_labels)
    command = ["sh", "-c", "seq 1 20000; echo last-line"]
    result = await docker_driver.exec_in_server(server_id, command, {}, timeout=20)
    assert result.exit_code == 0 and result.truncated
    assert len(result.output) == EXEC_OUTPUT_LIMIT
    assert result.output.endswith("20000\nlast-line\n")
    with pytest.raises(VimTimeout, match=r"still runs after 0\.5 s"):
        await docker_driver.exec_in_server(server_id, ["sleep", "3"], {}, timeout=0.5)
