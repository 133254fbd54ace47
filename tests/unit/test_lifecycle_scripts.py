"""Lifecycle scripts of Open Baton VNF packages: onboarding checks, and when and with what
they run, over the in-memory VIM (the Docker test runs them in real containers)."""

from __future__ import annotations

import copy
import io
import tarfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from rich.console import Console

from nubo.app import Nubo
from nubo.cli import render
from nubo.cli.main import main
from nubo.descriptors.openbaton import parse_nsd
from nubo.model.descriptors import LifecycleEventType
from nubo.model.errors import InvalidDescriptor
from nubo.model.records import LcmOpOcc
from nubo.model.states import OpState, VnfcState
from nubo.vim.fake import FakeExec, FakeVimDriver
from nubo.vim.port import ExecResult
from nubo.vnfm.lifecycle import SCRIPTS_DIR
from tests import openbaton_packages as iperf
from tests.conftest import api_client, fake_nubo, running
from tests.unit.test_packages import cli_config


@pytest.fixture
async def nubo(tmp_path: Path) -> AsyncIterator[Nubo]:
    app = fake_nubo(tmp_path, start_timeout=2, default_vim_endpoint="fake:?images=*")
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def fake_of(nubo: Nubo) -> FakeVimDriver:
    vim = await nubo.vims.default()
    driver = await nubo.vims.driver(vim.id)
    assert isinstance(driver, FakeVimDriver)
    return driver


async def onboard(nubo: Nubo, archive: bytes) -> str:
    package = await nubo.packages.create()
    return (await nubo.packages.upload(package.id, archive)).id


async def refused(nubo: Nubo, archive: bytes) -> list[tuple[str, str]]:
    package = await nubo.packages.create()
    with pytest.raises(InvalidDescriptor) as info:
        await nubo.packages.upload(package.id, archive)
    return [(p.path, p.message) for p in info.value.problems]


async def finish(nubo: Nubo, op: LcmOpOcc) -> LcmOpOcc:
    return await nubo.runner.wait(op.id, timeout=10)


async def deploy(nubo: Nubo) -> str:
    await onboard(nubo, iperf.server_package())
    await onboard(nubo, iperf.client_package(gzip=True))
    entry = await nubo.catalogue.onboard(copy.deepcopy(iperf.NSD))
    assert entry.warnings == []
    nsr, op = await nubo.ns.instantiate(entry.id, name="iperf")
    done = await finish(nubo, op)
    assert done.state == OpState.COMPLETED, done.error
    return nsr.id


def script_of(run: FakeExec) -> str:
    """The script a command runs (the last word of ``sh -c 'cd ... && exec ./x'``)."""
    return run.command[-1].rsplit("./", 1)[-1]


# --- onboarding ------------------------------------------------------------------------


async def test_a_tar_package_keeps_its_scripts_and_an_nsd_by_reference_gets_them(
    nubo: Nubo,
) -> None:
    package_id = await onboard(nubo, iperf.server_package())
    package = await nubo.packages.get(package_id)
    paths = [a["artifactPath"] for a in package.additional_artifacts]
    assert paths == [
        "Metadata.yaml",
        "scripts/install-srv.sh",
        "scripts/start-srv.sh",
        "scripts/stop-srv.sh",
    ]
    await onboard(nubo, iperf.client_package())
    entry = await nubo.catalogue.onboard(copy.deepcopy(iperf.NSD))
    nsd = await nubo.catalogue.parsed(entry.id)
    client = nsd.vnfd("iperf-client")
    assert [s.name for s in client.scripts] == [
        "install-clt.sh",
        "server_configure.sh",
        "summary.sh",
        "start-clt.sh",
    ]
    assert client.scripts[1].text == iperf.CLIENT_SCRIPTS["server_configure.sh"]
    # the NSD keeps them: it deploys the same after the packages are gone
    assert entry.info["referencedVnfds"]["iperf-client-vnfd"]["nuboScripts"]


async def test_a_script_the_package_lacks_is_refused_in_vnfd_json(nubo: Nubo) -> None:
    vnfd = copy.deepcopy(iperf.SERVER_VNFD)
    vnfd["lifecycle_event"][1]["lifecycle_events"] = ["start-srv.sh", "tune.sh"]
    problems = await refused(nubo, iperf.package(vnfd, iperf.SERVER_SCRIPTS))
    assert problems == [
        (
            "vnfd.json:$.lifecycle_event[1].lifecycle_events[1]",
            "script 'tune.sh' is not in the VNF package's scripts/ (it has install-srv.sh, "
            "start-srv.sh, stop-srv.sh): add it to the package or remove it from the event",
        )
    ]


async def test_scripts_only_at_a_scripts_link_are_refused_at_it(nubo: Nubo) -> None:
    archive = iperf.package(
        copy.deepcopy(iperf.SERVER_VNFD),
        {},
        extra={
            "Metadata.yaml": b"name: iperf-server\n"
            b"scripts-link: https://github.com/openbaton/iperf-scripts.git\n"
        },
    )
    assert await refused(nubo, archive) == [
        (
            "Metadata.yaml:scripts-link",
            "nubo does not fetch lifecycle scripts "
            "(https://github.com/openbaton/iperf-scripts.git): put the scripts the VNFD's "
            "lifecycle events name (install-srv.sh, start-srv.sh, stop-srv.sh) into the "
            "package's scripts/ folder",
        )
    ]


async def test_a_playbook_as_a_lifecycle_script_is_refused_with_the_reason(nubo: Nubo) -> None:
    vnfd = copy.deepcopy(iperf.SERVER_VNFD)
    vnfd["lifecycle_event"][0]["lifecycle_events"] = ["install.yaml"]
    scripts = iperf.SERVER_SCRIPTS | {"install.yaml": "- hosts: all\n  tasks: []\n"}
    [(path, message)] = await refused(nubo, iperf.package(vnfd, scripts))
    assert path == "vnfd.json:$.lifecycle_event[0].lifecycle_events[0]"
    assert message.startswith("'install.yaml' is a YAML file (an Ansible playbook or a Mistral")
    assert "nubo runs scripts only" in message


async def test_a_binary_script_and_a_link_in_the_tar_are_refused_at_their_names(
    nubo: Nubo,
) -> None:
    problems = await refused(
        nubo, iperf.server_package(extra={"scripts/blob.bin": b"\xff\xfe\x00"})
    )
    assert problems[0][0] == "scripts/blob.bin" and "not UTF-8 text" in problems[0][1]
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        link = tarfile.TarInfo("scripts/evil.sh")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(link)
    assert await refused(nubo, buffer.getvalue()) == [("scripts/evil.sh", "links are not accepted")]


def test_scripts_of_events_nubo_does_not_go_through_are_warned_about() -> None:
    vnfd = copy.deepcopy(iperf.SERVER_VNFD)
    vnfd["lifecycle_event"].append({"event": "SCALE_UP", "lifecycle_events": ["gone.sh"]})
    vnfd["lifecycle_event"].append({"event": "SCALE_IN", "lifecycle_events": ["stop-srv.sh"]})
    vnfd["nuboScripts"] = iperf.SERVER_SCRIPTS
    nsd = parse_nsd({"name": "ns", "vld": [{"name": "private"}], "vnfd": [vnfd]})
    [warning] = nsd.warnings  # SCALE_IN is run: only SCALE_UP is warned about
    assert warning.path == "$.vnfd[0].lifecycle_event[3]"
    assert warning.message.startswith("SCALE_UP scripts are not run: nubo runs the scripts of")
    assert "SCALE_OUT, SCALE_IN, HEAL" in warning.message
    assert [s.name for s in nsd.vnfd("iperf-server").scripts_for(LifecycleEventType.SCALE_IN)] == [
        "stop-srv.sh"
    ]


def test_scripts_of_an_inline_vnfd_are_not_run_and_say_how_to_get_them_run() -> None:
    vnfd = copy.deepcopy(iperf.SERVER_VNFD)
    nsd = parse_nsd({"name": "ns", "vld": [{"name": "private"}], "vnfd": [vnfd]})
    [warning] = nsd.warnings
    assert warning.path == "$.vnfd[0].lifecycle_event"
    assert "INSTANTIATE: install-srv.sh; START: start-srv.sh; TERMINATE: stop-srv.sh" in (
        warning.message
    )
    assert "onboard its Open Baton VNF package" in warning.message
    assert nsd.vnfd("iperf-server").scripts == ()


# --- running them ----------------------------------------------------------------------


async def test_instantiate_runs_each_event_in_order_with_the_ems_variables(nubo: Nubo) -> None:
    fake = await fake_of(nubo)
    nsr_id = await deploy(nubo)
    nsr = await nubo.ns.get(nsr_id)
    [server] = nsr.vnfr_by_name("iperf-server").vnfcs()
    [client] = nsr.vnfr_by_name("iperf-client").vnfcs()
    by_server: dict[str, list[FakeExec]] = {}
    for run in fake.execs:
        by_server.setdefault(run.server_name, []).append(run)
    server_runs = next(runs for name, runs in by_server.items() if server.hostname in name)
    client_runs = next(runs for name, runs in by_server.items() if client.hostname in name)
    assert [script_of(r) for r in server_runs] == ["install-srv.sh", "start-srv.sh"]
    assert [script_of(r) for r in client_runs] == [
        "install-clt.sh",
        "server_configure.sh",
        "summary.sh",
        "start-clt.sh",
    ]
    # a script runs in the scripts' folder; one without #! runs with sh
    assert server_runs[1].command == (
        "/bin/sh",
        "-c",
        f"cd {SCRIPTS_DIR} && exec /bin/sh ./start-srv.sh",
    )
    assert f"{SCRIPTS_DIR}/start-srv.sh" in server_runs[1].files
    env = server_runs[0].environment
    assert (env["hostname"], env["private"], env["port"]) == (
        server.hostname,
        server.addresses["private"],
        "5201",
    )
    configure = client_runs[1].environment
    assert configure["server_private"] == server.addresses["private"]
    assert configure["server_hostname"] == server.hostname
    assert configure["server_port"] == "5201"
    assert configure["duration"] == "30" and configure["hostname"] == client.hostname
    # the container's own variables are there too, as nubo names them
    assert configure["SERVER_PRIVATE"] == server.addresses["private"]
    assert "server_private" not in client_runs[0].environment  # not before CONFIGURE
    assert client.scripts_done == ["INSTANTIATE", "CONFIGURE", "START"]
    [op] = await nubo.ns.operations(nsr_id)
    assert [(r.vnf, r.event, r.script, r.exit_code) for r in op.scripts][-1] == (
        "iperf-client",
        "START",
        "start-clt.sh",
        0,
    )
    assert len(op.scripts) == 6


async def test_scaling_the_source_configures_its_targets_again_for_the_new_vnfc(
    nubo: Nubo,
) -> None:
    fake = await fake_of(nubo)
    nsr_id = await deploy(nubo)
    nsr = await nubo.ns.get(nsr_id)
    server_vnf = nsr.vnfr_by_name("iperf-server")
    fake.execs.clear()
    op = await nubo.ns.scale_out(nsr_id, server_vnf.id, server_vnf.vdu[0].id)
    done = await finish(nubo, op)
    assert done.state == OpState.COMPLETED, done.error
    nsr = await nubo.ns.get(nsr_id)
    first, added = nsr.vnfr_by_name("iperf-server").vnfcs()
    runs = [(r.server_name.rsplit("-", 2)[-2:], script_of(r), r.environment) for r in fake.execs]
    assert [script for _, script, _ in runs] == [
        "install-srv.sh",
        "start-srv.sh",
        "server_configure.sh",
        "summary.sh",
    ]
    configure, summary = runs[2][2], runs[3][2]
    assert configure["server_private"] == added.addresses["private"]
    assert summary["server_private"] == ",".join(
        [first.addresses["private"], added.addresses["private"]]
    )
    assert [s.name for s in done.steps if s.name.startswith("scripts")] == [
        f"scripts {added.hostname}"
    ]


async def test_a_failing_script_fails_its_step_with_exit_code_and_output_tail(
    nubo: Nubo,
) -> None:
    fake = await fake_of(nubo)

    def handler(run: FakeExec) -> ExecResult:
        if script_of(run) == "server_configure.sh":
            return ExecResult(7, "connecting...\n" * 400 + "iperf3: unable to connect\n")
        return ExecResult(0, "ok\n")

    fake.exec_handler = handler
    await onboard(nubo, iperf.server_package())
    await onboard(nubo, iperf.client_package())
    entry = await nubo.catalogue.onboard(copy.deepcopy(iperf.NSD))
    nsr = await nubo.instances.create_instance(entry.id, "iperf")
    done = await finish(nubo, await nubo.instances.instantiate_instance(nsr.id))
    assert done.state == OpState.FAILED_TEMP
    assert done.error is not None
    assert done.error["code"] == "LIFECYCLE_SCRIPT_FAILED"
    assert done.error["exit_code"] == 7 and done.error["script"] == "server_configure.sh"
    assert "failed in VNFC iperf-client-0 with exit code 7" in str(done.error["detail"])
    assert str(done.error["detail"]).endswith("iperf3: unable to connect")
    [failed] = [s for s in done.steps if s.status == "FAILED"]
    assert failed.name == "start iperf-client"
    last = done.scripts[-1]
    assert (last.script, last.exit_code, last.truncated) == ("server_configure.sh", 7, True)
    assert len(last.output) == 4000 and last.output.endswith("unable to connect\n")
    # a retry does not run again what ran to the end in the same containers
    fake.exec_handler = None
    fake.execs.clear()
    retried = await finish(nubo, await nubo.instances.retry(done.id))
    assert retried.state == OpState.COMPLETED, retried.error
    assert [script_of(r) for r in fake.execs] == [
        "server_configure.sh",
        "summary.sh",
        "start-clt.sh",
    ]


async def test_stop_start_and_terminate_run_their_scripts(nubo: Nubo) -> None:
    fake = await fake_of(nubo)
    nsr_id = await deploy(nubo)
    nsr = await nubo.ns.get(nsr_id)
    server_vnf = nsr.vnfr_by_name("iperf-server")
    [vnfc] = server_vnf.vnfcs()
    fake.execs.clear()
    path = (nsr_id, server_vnf.id, server_vnf.vdu[0].id, vnfc.id)
    stopped = await finish(nubo, await nubo.ns.stop_vnfc(*path))
    assert stopped.state == OpState.COMPLETED, stopped.error
    started = await finish(nubo, await nubo.ns.start_vnfc(*path))
    assert started.state == OpState.COMPLETED, started.error
    assert [script_of(r) for r in fake.execs] == ["start-srv.sh"]  # it has no STOP script

    def handler(run: FakeExec) -> ExecResult:
        return ExecResult(1, "pid file missing\n")

    fake.exec_handler = handler
    fake.execs.clear()
    terminated = await finish(nubo, await nubo.ns.terminate(nsr_id))
    # a failing TERMINATE script is kept, but the VNF goes all the same
    assert terminated.state == OpState.COMPLETED, terminated.error
    assert [script_of(r) for r in fake.execs] == ["stop-srv.sh"]
    [step] = [s for s in terminated.steps if s.name == "terminate scripts"]
    assert "TERMINATE script 'stop-srv.sh' of VNF iperf-server failed" in step.detail
    assert await fake.list_servers() == []
    nsr = await nubo.ns.get(nsr_id)
    assert all(c.state == VnfcState.DELETED for c in nsr.all_vnfcs()) or not nsr.all_vnfcs()


def test_op_show_lists_the_scripts_with_the_last_lines_of_their_output() -> None:
    console = Console(width=160, record=True)
    run = {
        "vnfc": "iperf-client-0",
        "event": "CONFIGURE",
        "script": "server_configure.sh",
        "exit_code": 7,
        "output": "one\ntwo\nthree\nfour\n",
    }
    console.print(render.op_detail({"operation": "INSTANTIATE", "nuboScripts": [run]}))
    text = console.export_text()
    assert "server_configure.sh" in text and "CONFIGURE" in text and " 7 " in text
    assert "four" in text and "one" not in text


async def test_a_vnfc_healing_recreates_runs_its_scripts_again_in_the_new_container(
    nubo: Nubo,
) -> None:
    fake = await fake_of(nubo)
    nsr_id = await deploy(nubo)
    nsr = await nubo.ns.get(nsr_id)
    [client] = nsr.vnfr_by_name("iperf-client").vnfcs()
    fake.vanish(client.vc_id)
    fake.execs.clear()
    healed = await finish(nubo, await nubo.ns.heal(nsr_id, client.id))
    assert healed.state == OpState.COMPLETED, healed.error
    assert [script_of(r) for r in fake.execs] == [
        "install-clt.sh",
        "server_configure.sh",
        "summary.sh",
        "start-clt.sh",
    ]
    nsr = await nubo.ns.get(nsr_id)
    [again] = nsr.vnfr_by_name("iperf-client").vnfcs()
    assert again.vc_id != client.vc_id and again.scripts_done == [
        "INSTANTIATE",
        "CONFIGURE",
        "START",
    ]


def test_cli_onboards_an_open_baton_tar_package_as_a_tar(tmp_path: Path) -> None:
    archive = tmp_path / "iperf-server.tar.gz"
    archive.write_bytes(iperf.server_package(gzip=True))
    runner = CliRunner()
    with cli_config(tmp_path / "nubo") as config:
        result = runner.invoke(
            main, ["package", "onboard", str(archive)], obj=config, catch_exceptions=False
        )
    assert result.exit_code == 0, result.output
    assert "VNFD iperf-server-vnfd" in result.output and "ONBOARDED, ENABLED" in result.output


async def test_the_package_route_takes_a_tar_as_a_tar(tmp_path: Path) -> None:
    async with running(fake_nubo(tmp_path)) as app, api_client(app) as http:
        created = (await http.post("/vnfpkgm/v1/vnf_packages", json={})).json()
        uploaded = await http.put(
            f"/vnfpkgm/v1/vnf_packages/{created['id']}/package_content",
            content=iperf.client_package(),
            headers={"Content-Type": "application/x-tar"},
        )
        assert uploaded.status_code == 204, uploaded.text
        other = (await http.post("/vnfpkgm/v1/vnf_packages", json={})).json()
        refused = await http.put(
            f"/vnfpkgm/v1/vnf_packages/{other['id']}/package_content",
            content=iperf.server_package(),
            headers={"Content-Type": "text/plain"},
        )
        assert refused.status_code == 415
        assert "application/x-tar (an Open Baton package)" in refused.json()["detail"]


# --- scaling and healing events --------------------------------------------------------

PEER_SCRIPTS = {
    "joined.sh": '#!/bin/sh\necho "$scaled_hostname $scaled_private" >> /tmp/peers\n',
    "left.sh": '#!/bin/sh\necho "$removing_hostname $removing_private" >> /tmp/gone\n',
    "healed.sh": '#!/bin/sh\necho "healed $hostname"\n',
}


async def deploy_with_peer_events(nubo: Nubo) -> str:
    """The iperf NS whose server VNF has SCALE_OUT, SCALE_IN and HEAL scripts."""
    vnfd = copy.deepcopy(iperf.SERVER_VNFD)
    vnfd["lifecycle_event"] += [
        {"event": "SCALE_OUT", "lifecycle_events": ["joined.sh"]},
        {"event": "SCALE_IN", "lifecycle_events": ["left.sh"]},
        {"event": "HEAL", "lifecycle_events": ["healed.sh"]},
    ]
    await onboard(nubo, iperf.package(vnfd, iperf.SERVER_SCRIPTS | PEER_SCRIPTS))
    await onboard(nubo, iperf.client_package())
    entry = await nubo.catalogue.onboard(copy.deepcopy(iperf.NSD))
    assert entry.warnings == []
    nsr, op = await nubo.ns.instantiate(entry.id, name="iperf")
    done = await finish(nubo, op)
    assert done.state == OpState.COMPLETED, done.error
    return nsr.id


async def test_scale_out_runs_scale_out_in_the_other_vnfcs_with_the_new_ones_values(
    nubo: Nubo,
) -> None:
    fake = await fake_of(nubo)
    nsr_id = await deploy_with_peer_events(nubo)
    server_vnf = (await nubo.ns.get(nsr_id)).vnfr_by_name("iperf-server")
    assert "joined.sh" not in [script_of(r) for r in fake.execs]  # not at instantiation
    done = await finish(nubo, await nubo.ns.scale_out(nsr_id, server_vnf.id, server_vnf.vdu[0].id))
    assert done.state == OpState.COMPLETED, done.error
    fake.execs.clear()
    done = await finish(nubo, await nubo.ns.scale_out(nsr_id, server_vnf.id, server_vnf.vdu[0].id))
    assert done.state == OpState.COMPLETED, done.error
    first, second, third = (await nubo.ns.get(nsr_id)).vnfr_by_name("iperf-server").vnfcs()
    joined = [r for r in fake.execs if script_of(r) == "joined.sh"]
    # in both VNFCs that were there, not in the new one, each with the new one's values
    names = {s.id: s.name for s in await fake.list_servers()}
    assert sorted(r.server_name for r in joined) == sorted(names[c.vc_id] for c in (first, second))
    for run in joined:
        assert run.environment["scaled_hostname"] == third.hostname
        assert run.environment["scaled_private"] == third.addresses["private"]
        assert run.environment["hostname"] in (first.hostname, second.hostname)
    # the new VNFC ran its own scripts before its peers heard of it
    scripts = [script_of(r) for r in fake.execs]
    assert scripts.index("start-srv.sh") < scripts.index("joined.sh")


async def test_scale_in_runs_scale_in_in_the_others_before_removing_and_a_failure_keeps_it(
    nubo: Nubo,
) -> None:
    fake = await fake_of(nubo)
    nsr_id = await deploy_with_peer_events(nubo)
    server_vnf = (await nubo.ns.get(nsr_id)).vnfr_by_name("iperf-server")
    done = await finish(nubo, await nubo.ns.scale_out(nsr_id, server_vnf.id, server_vnf.vdu[0].id))
    assert done.state == OpState.COMPLETED, done.error
    first, added = (await nubo.ns.get(nsr_id)).vnfr_by_name("iperf-server").vnfcs()

    def handler(run: FakeExec) -> ExecResult:
        if script_of(run) == "left.sh":
            return ExecResult(3, "peer table locked\n")
        return ExecResult(0, "")

    fake.exec_handler = handler
    fake.execs.clear()
    failed = await finish(
        nubo,
        await nubo.ns.scale_in(
            nsr_id, server_vnf.id, server_vnf.vdu[0].id, added.id, hold_on_failure=True
        ),
    )
    assert failed.state == OpState.FAILED_TEMP
    assert failed.error is not None and failed.error["exit_code"] == 3
    assert str(failed.error["detail"]).endswith("peer table locked")
    [step] = [s for s in failed.steps if s.status == "FAILED"]
    assert step.name == f"scale-in scripts {added.hostname}"
    assert len((await nubo.ns.get(nsr_id)).vnfr_by_name("iperf-server").vnfcs()) == 2
    assert any(s.id == added.vc_id for s in await fake.list_servers())

    fake.exec_handler = None
    fake.execs.clear()
    done = await finish(nubo, await nubo.instances.retry(failed.id))
    assert done.state == OpState.COMPLETED, done.error
    [left] = [r for r in fake.execs if script_of(r) == "left.sh"]
    assert left.environment["removing_hostname"] == added.hostname
    assert left.environment["removing_private"] == added.addresses["private"]
    assert left.environment["hostname"] == first.hostname
    assert [c.id for c in (await nubo.ns.get(nsr_id)).vnfr_by_name("iperf-server").vnfcs()] == [
        first.id
    ]


async def test_heal_runs_heal_in_the_healed_vnfc_only(nubo: Nubo) -> None:
    fake = await fake_of(nubo)
    nsr_id = await deploy_with_peer_events(nubo)
    nsr = await nubo.ns.get(nsr_id)
    [server] = nsr.vnfr_by_name("iperf-server").vnfcs()
    [client] = nsr.vnfr_by_name("iperf-client").vnfcs()
    fake.vanish(server.vc_id)
    fake.execs.clear()
    healed = await finish(nubo, await nubo.ns.heal(nsr_id, server.id, cause="container gone"))
    assert healed.state == OpState.COMPLETED, healed.error
    assert fake.execs[-1].environment["cause"] == "container gone"
    scripts = [script_of(r) for r in fake.execs]
    assert scripts == ["install-srv.sh", "start-srv.sh", "healed.sh"]
    [again] = (await nubo.ns.get(nsr_id)).vnfr_by_name("iperf-server").vnfcs()
    assert fake.execs[-1].environment["hostname"] == again.hostname
    # the client, not healed, ran nothing
    assert all(client.hostname not in r.server_name for r in fake.execs)
