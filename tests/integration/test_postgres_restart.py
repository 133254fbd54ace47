"""nubo's store across a restart of its PostgreSQL server.

The pool hands out no connection the server has closed, without a test
query per checkout: the first reads and writes after a restart succeed. The
test starts a server of its own (``scripts/postgres.sh`` on a free port and
a fresh data directory) so that restarting it disturbs no other test; it
belongs to the PostgreSQL run of the suite.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from nubo.app import build_repositories
from nubo.model.records import NetworkServiceRecord
from nubo.model.states import NsStatus
from nubo.store.database import Database
from tests.databases import current_databases

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "postgres.sh"


@pytest.fixture
def backend_is_postgresql() -> None:
    if current_databases().backend != "postgresql":
        pytest.skip("restarting PostgreSQL: a test of the suite's PostgreSQL run")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateServer:
    """A PostgreSQL server of this test only, in a data directory of its own."""

    def __init__(self) -> None:
        # under /tmp itself: the server runs as the postgres user, which must reach it
        self.data = Path(f"/tmp/nubo-test-pg-{uuid.uuid4().hex[:8]}")
        self.env = os.environ | {
            "NUBO_PG_DATA": str(self.data),
            "NUBO_PG_PORT": str(free_port()),
            "NUBO_PG_FAST": "1",
        }

    def start(self) -> str:
        done = subprocess.run(
            ["bash", str(SCRIPT)], env=self.env, capture_output=True, text=True, timeout=180
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def restart(self) -> None:
        owner = ["runuser", "-u", "postgres", "--"] if os.getuid() == 0 else []
        pg_ctl = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))[-1]
        command = [str(pg_ctl), "-D", str(self.data), "-m", "fast", "-w", "restart"]
        log = ["-l", str(self.data / "server.log")]
        subprocess.run(owner + command + log, check=True, capture_output=True, timeout=60)

    def remove(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "stop"], env=self.env, capture_output=True)
        shutil.rmtree(self.data, ignore_errors=True)
        Path(f"{self.data}.lock").unlink(missing_ok=True)


@pytest.fixture
def server(backend_is_postgresql: None) -> Iterator[PrivateServer]:
    private = PrivateServer()
    try:
        yield private
    finally:
        private.remove()


async def test_the_first_reads_and_writes_after_a_server_restart_succeed(
    server: PrivateServer,
) -> None:
    database = Database(server.start())
    await database.init()
    repos = build_repositories(database, "replica-1", 10)
    record = NetworkServiceRecord(
        project_id="default",
        id="ns-1",
        name="svc",
        descriptor_reference="nsd-1",
        status=NsStatus.ACTIVE,
    )
    try:
        await repos.nsrs.save_nsr(record)
        # several pooled connections, all of which the restart closes
        await asyncio.gather(*(repos.nsrs.get_nsr("ns-1") for _ in range(5)))
        server.restart()
        await asyncio.sleep(0.2)  # the loop reads the closed sockets' end
        found = await asyncio.gather(*(repos.nsrs.get_nsr("ns-1") for _ in range(5)))
        assert {r.revision for r in found} == {1}
        record.set_status(NsStatus.ERROR)
        await repos.nsrs.save_nsr(record)
        assert (await repos.nsrs.get_nsr("ns-1")).status == NsStatus.ERROR
    finally:
        with contextlib.suppress(Exception):
            await database.close()
