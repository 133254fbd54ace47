"""The Docker driver's pure mapping of engine payloads, on payloads recorded from Engine 20.10.

``recorded/docker-20.10-containers.json`` holds one ``GET /containers/json``
answer and the inspect of each container in it: a server the driver started
on two networks (running), one killed (exited 137), one OOM killed and one
created but never started.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from nubo.vim.docker.execs import output_tail
from nubo.vim.docker.payloads import (
    ENDED_STATES,
    RawContainerSummary,
    exit_code_in,
    server_of,
    server_of_summary,
)
from nubo.vim.port import EXEC_OUTPUT_LIMIT, LABEL_MANAGED, LABEL_NS, LABEL_SERVER, ServerStatus

RECORDED = json.loads(
    (Path(__file__).parent / "recorded" / "docker-20.10-containers.json").read_text()
)
ITEMS: list[RawContainerSummary] = RECORDED["list"]
INSPECTED: dict[str, dict[str, Any]] = RECORDED["inspect"]


def _item(name_part: str) -> RawContainerSummary:
    [item] = [i for i in ITEMS if name_part in i["Names"][0]]
    return item


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Exited (137) 3 seconds ago", 137),
        ("Exited (0) About a minute ago", 0),
        ("Exited (3) 2 hours ago", 3),
        ("Restarting (1) 2 seconds ago", 1),
        ("Up 3 seconds", None),
        ("Up 3 seconds (Paused)", None),
        ("Created", None),
        ("Dead", None),
        ("Removal In Progress", None),
    ],
)
def test_exit_code_in_status_text(text: str, code: int | None) -> None:
    assert exit_code_in(text) == code


def test_recorded_exit_codes_are_those_the_inspect_tells() -> None:
    for item in ITEMS:
        state = INSPECTED[item["Id"]]["State"]
        told = exit_code_in(item["Status"])
        assert told == (state["ExitCode"] if item["State"] == "exited" else None), item["Status"]


def test_a_list_item_maps_to_the_server_its_inspect_maps_to() -> None:
    """Of a container that has not ended the list tells all a Server holds but its metadata,
    when it started and the engine's restart count (only an inspect tells those)."""
    alive = [i for i in ITEMS if i["State"] not in ENDED_STATES]
    assert {i["State"] for i in alive} == {"running", "created"}
    for item in alive:
        inspected = server_of(INSPECTED[item["Id"]])
        listed = server_of_summary(item, inspected.metadata)
        assert listed.started_at == 0.0 and listed.restart_count == 0
        if item["State"] == "running":
            assert inspected.started_at > 0
        assert listed == replace(inspected, started_at=0.0, restart_count=0)


def test_running_server_from_the_list() -> None:
    item = _item("-uas-")
    server = server_of_summary(item, {"SIPP_PORT": "5060"})
    assert server.status is ServerStatus.RUNNING
    assert server.name == item["Names"][0].lstrip("/") and server.image == "nubo/sipp-server:latest"
    networks = item["NetworkSettings"]["Networks"] or {}
    assert set(server.addresses) == {"private", "mgmt"}
    assert sorted(server.addresses.values()) == sorted(ep["IPAddress"] for ep in networks.values())
    # the image's own io.nubo.* labels and the driver's private one are not the server's
    assert set(server.labels) == {LABEL_MANAGED, LABEL_NS, LABEL_SERVER}
    assert server.metadata == {"SIPP_PORT": "5060"} and server.ext_id == item["Id"]


def test_created_container_has_its_pinned_address() -> None:
    item = _item("-pending-")
    server = server_of_summary(item, {})
    pinned = [
        (ep.get("IPAMConfig") or {}).get("IPv4Address")
        for ep in (item["NetworkSettings"]["Networks"] or {}).values()
    ]
    assert server.status is ServerStatus.CREATED and list(server.addresses.values()) == pinned


def test_an_ended_container_needs_its_inspect_for_an_oom_kill() -> None:
    """Why the listing inspects ended containers: the list cannot tell an OOM kill."""
    killed, oom = _item("-killed-"), _item("-oom-")
    from_list = [server_of_summary(item, {}) for item in (killed, oom)]
    assert [s.status for s in from_list] == [ServerStatus.FAILED, ServerStatus.FAILED]
    assert [s.detail for s in from_list] == ["exit code 137", "exit code 137"]
    assert server_of(INSPECTED[killed["Id"]]).detail == "exit code 137"
    assert server_of(INSPECTED[oom["Id"]]).detail == "exit code 137, OOM killed"


def test_the_containers_own_name_is_preferred_to_a_link_alias() -> None:
    item = _item("-uas-")
    aliased: RawContainerSummary = {**item, "Names": ["/client/uas", *item["Names"]]}
    assert server_of_summary(aliased, {}).name == item["Names"][0].lstrip("/")


def test_an_image_whose_tag_moved_keeps_the_name_it_was_started_with() -> None:
    item = _item("-uas-")
    moved: RawContainerSummary = {**item, "Image": "sha256:" + "0" * 64}
    assert server_of_summary(moved, {}).image == "nubo/sipp-server:latest"


def test_an_execs_output_keeps_its_last_characters_and_says_it_dropped_some() -> None:
    assert output_tail([b"short ", b"output\n"]) == ("short output\n", False)
    text, truncated = output_tail(f"{i:06d}\n".encode() for i in range(20000))
    assert truncated and len(text) == EXEC_OUTPUT_LIMIT
    assert text.endswith("019999\n")
    assert text.split("\n")[1] == f"{20000 - EXEC_OUTPUT_LIMIT // 7:06d}"
    # a character cut by a chunk boundary is decoded whole
    assert output_tail(["é".encode()[:1], "é".encode()[1:]]) == ("é", False)
