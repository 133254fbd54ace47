"""The orchestrator under load as processes: start, sample from /proc, stop; its database.

``NuboServer`` runs one ``python -m nubo.testing serve`` (``nubo serve`` plus the
fake VIM type), or another server command, on a free loopback port;
``Sampler`` reads /proc for the summed RSS and CPU of every server's process
tree; ``fresh_postgres_database`` gives a run a database of its own on the
server ``scripts/postgres.sh`` starts, and drops it afterwards.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import itertools
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx

ROOT = Path(__file__).resolve().parent.parent
SERVE = [sys.executable, "-m", "nubo.testing", "serve"]
SAMPLE = 0.25
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
#: every server started, so that even an interrupted run leaves none behind
_STARTED: set[subprocess.Popen[bytes]] = set()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _proc_stats() -> dict[int, tuple[int, int, int]]:
    """pid -> (ppid, rss bytes, cpu ticks incl. reaped children) for every process."""
    stats: dict[int, tuple[int, int, int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as fh:
                raw = fh.read().decode(errors="replace")
        except OSError:
            continue  # ended while we looked
        f = raw[raw.rfind(")") + 2 :].split()  # f[0] is field 3 (state) of proc(5)
        ticks = int(f[11]) + int(f[12]) + int(f[13]) + int(f[14])
        stats[int(entry.name)] = (int(f[1]), int(f[21]) * PAGE, ticks)
    return stats


def tree_usage(roots: list[int]) -> tuple[int, int]:
    """(RSS bytes, CPU ticks) of the ``roots`` and all their live descendants, summed."""
    stats = _proc_stats()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    rss = ticks = 0
    todo = [root for root in roots if root in stats]
    while todo:
        pid = todo.pop()
        rss += stats[pid][1]
        ticks += stats[pid][2]
        todo.extend(children.get(pid, ()))
    return rss, ticks


@dataclass(frozen=True)
class Usage:
    """Resource use of the nubo process trees over one period."""

    peak_rss: int
    cpu_mean: float
    cpu_peak: float


class Sampler(threading.Thread):
    """Samples the nubo process trees every 0.25 s until stopped (a thread: never starved)."""

    def __init__(self, pids: list[int]) -> None:
        super().__init__(daemon=True, name="proc-sampler")
        self.pids = pids
        self.samples: list[tuple[float, int, int]] = []  # (monotonic, rss, ticks)
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            rss, ticks = tree_usage(self.pids)
            self.samples.append((time.monotonic(), rss, ticks))
            self._stop_event.wait(SAMPLE)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(timeout=5)

    def usage(self, start: float, end: float) -> Usage:
        """Peak RSS and CPU (percent of one core) between two ``time.monotonic()`` stamps."""
        window = [s for s in list(self.samples) if start - SAMPLE <= s[0] <= end + SAMPLE]
        if len(window) < 2:
            return Usage(max((s[1] for s in window), default=0), 0.0, 0.0)
        rates = [
            100 * (b[2] - a[2]) / CLK_TCK / (b[0] - a[0])
            for a, b in itertools.pairwise(window)
            if b[0] > a[0]
        ]
        first, last = window[0], window[-1]
        mean = 100 * (last[2] - first[2]) / CLK_TCK / max(last[0] - first[0], 1e-9)
        return Usage(max(s[1] for s in window), mean, max(rates, default=0.0))


#: the initial administrator's password of every benchmark server
ADMIN_PASSWORD = "bench-admin-password"


class NuboServer:
    """One test server on a free loopback port with its own data directory and log.

    Once started it holds an administrator's token (``token``, ``headers``).
    """

    def __init__(
        self,
        data_dir: Path,
        database_url: str,
        env: dict[str, str],
        command: list[str] | None = None,
    ) -> None:
        #: the server to run: the test server unless told (``nubo serve`` itself, say)
        self.command = command or SERVE
        self.data_dir = data_dir
        self.database_url = database_url
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "nubo.log"
        self.env = {"NUBO_ADMIN_PASSWORD": ADMIN_PASSWORD} | env
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""

    def start(self) -> int:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [*self.command, "--host", "127.0.0.1", "--port", str(self.port)]
        command += ["--data-dir", str(self.data_dir)]
        if self.database_url:  # else the server's default: SQLite in its data dir
            command += ["--database-url", self.database_url]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, env=os.environ | self.env
            )
        _STARTED.add(self.proc)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"nubo exited:\n{self.log_tail()}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    self.token = self._login()
                    return self.proc.pid
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"nubo did not answer within 60 s:\n{self.log_tail()}")

    def _login(self) -> str:
        form = {"grant_type": "password", "username": "admin", "password": ADMIN_PASSWORD}
        answer = httpx.post(f"{self.url}/oauth/token", data=form, timeout=30)
        if answer.status_code != 200:
            raise SystemExit(f"cannot log in to {self.url}: {answer.text}")
        token: str = answer.json()["access_token"]
        return token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc is None:
            return
        _stop(self.proc)
        _STARTED.discard(self.proc)
        self.proc = None


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=20)


@atexit.register
def _stop_leftovers() -> None:
    for proc in list(_STARTED):
        if proc.poll() is None:
            _stop(proc)


# -- PostgreSQL ------------------------------------------------------------------------------
def postgres_server_url() -> str:
    """Start (or find) the local server with ``scripts/postgres.sh``; its database URL."""
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "postgres.sh")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"scripts/postgres.sh failed:\n{done.stderr[-2000:]}")
    return done.stdout.strip().splitlines()[-1]


def _with_database(url: str, database: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{database}"))


@contextlib.asynccontextmanager
async def fresh_postgres_database(server_url: str) -> AsyncIterator[str]:
    """A new empty database on the server of ``server_url``, dropped on the way out."""
    name = f"nubo_load_{uuid.uuid4().hex[:10]}"
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield _with_database(server_url, name)
    finally:
        await _drop_database(server_url, name)


async def _drop_database(server_url: str, name: str, attempts: int = 10) -> None:
    """Drop a bench database. FORCE ends the bench's own sessions, but not an
    autovacuum worker that a large load started in it (a superuser's process):
    that one ends on its own within moments, so the drop is tried again."""
    for attempt in range(attempts):
        admin = await asyncpg.connect(server_url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except asyncpg.InsufficientPrivilegeError:
            if attempt == attempts - 1:
                print(f"warning: database {name} could not be dropped (still in use)")
                return
        finally:
            await admin.close()
        await asyncio.sleep(1.0)
