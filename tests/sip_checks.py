"""Checks on real SIPp VNFCs shared by the integration and end-to-end tests."""

from __future__ import annotations

import re
import time
from typing import Any

from nubo.vim.port import LABEL_NS, LABEL_VNFC

STATS = re.compile(r"successful=(\d+) failed=(\d+)")


def labelled(docker_client: Any, nsr_id: str) -> tuple[list[Any], list[Any]]:
    """Every container and network carrying the NS's label."""
    label = f"{LABEL_NS}={nsr_id}"
    return (
        docker_client.containers.list(ignore_removed=True, all=True, filters={"label": label}),
        docker_client.networks.list(filters={"label": label}),
    )


def vnfc_container(docker_client: Any, vnfc_id: str) -> Any:
    """The one running container of a VNFC."""
    found = docker_client.containers.list(
        ignore_removed=True, filters={"label": f"{LABEL_VNFC}={vnfc_id}"}
    )
    assert len(found) == 1, f"expected one running container for VNFC {vnfc_id}, got {found}"
    return found[0]


def sip_stats(container: Any) -> tuple[int, int] | None:
    """SIPp's own cumulative (successful, failed) call counts, read inside the client."""
    code, output = container.exec_run(["sipp-stats"])
    match = STATS.search(output.decode(errors="replace"))
    return (int(match.group(1)), int(match.group(2))) if code == 0 and match else None


def wait_for_calls(container: Any, minimum: int = 5, timeout: float = 30) -> tuple[int, int]:
    """Wait (bounded) until the client has completed ``minimum`` successful calls."""
    deadline = time.monotonic() + timeout
    stats = None
    while time.monotonic() < deadline:
        stats = sip_stats(container)
        if stats and stats[0] >= minimum:
            return stats
        time.sleep(0.5)
    logs = container.logs(tail=20).decode(errors="replace")
    raise AssertionError(f"no successful SIP calls within {timeout}s: {stats}; log:\n{logs}")
