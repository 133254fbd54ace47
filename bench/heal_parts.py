"""The pieces of bench/heal.py that touch Docker directly, and its output.

Blocking Docker calls here run in threads (``asyncio.to_thread``); the engine's
event stream is read by one thread for the whole run, so that every time the
benchmark reports comes from the engine's own stamps.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import re
import signal
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import docker.errors
from harness import poll

from nubo.app import Nubo
from nubo.model.records import VnfcInstance
from nubo.vim.port import LABEL_NS, LABEL_SERVER, LABEL_VNFC

POLL = 0.02
STATS = re.compile(r"successful=(\d+) failed=(\d+)")
#: crash victims in turn; ``kill`` hits the server, ``rm`` the client
VICTIMS = ("sipp-server", "sipp-client")
#: labels the baseline containers (they also carry the NS label: the sweep removes them)
BENCH_LABEL = "io.nubo.bench"


class Aborted(Exception):
    """A round could not go on; the remaining kills are skipped."""


@dataclass
class Round:
    """What one kill measured (seconds)."""

    n: int
    mode: str
    vnf: str
    settle_s: float = 0.0
    policy: dict[str, Any] = field(default_factory=dict)
    docker_s: float | None = None
    engine_s: float | None = None
    nubo_s: float | None = None
    #: the engine's event of the victim's end (die, destroy) after the kill
    event_s: float | None = None
    #: nubo's alarm after that event
    alarm_s: float | None = None
    how: str = ""
    calls: str = ""
    failures: list[str] = field(default_factory=list)


class EventLog:
    """Every container event of the engine from now on: (container id, action, stamp)."""

    def __init__(self, client: docker.DockerClient) -> None:
        self._client = client
        self._stream = client.api.events(decode=True, filters={"type": "container"})
        self._seen: list[tuple[str, str, float]] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._read, name="bench-events", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for event in self._stream:
                stamp = int(event.get("timeNano", 0)) / 1e9
                item = (str(event.get("id", "")), str(event.get("Action", "")), stamp)
                with self._lock:
                    self._seen.append(item)
        except Exception:  # closed at the end of the run
            return

    def wait_for(self, box_id: str, action: str, after: float, timeout: float) -> float | None:
        """The stamp of the first ``action`` of the container at or after ``after``."""
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                for cid, what, stamp in self._seen:
                    if cid == box_id and what == action and stamp >= after:
                        return stamp
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.005)

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already closed
            self._stream.close()
        self._thread.join(5)
        self._client.close()


def running_box(client: docker.DockerClient, vnfc_id: str) -> Any:
    found = client.containers.list(filters={"label": f"{LABEL_VNFC}={vnfc_id}"})
    if len(found) != 1:
        raise Aborted(f"expected one running container of VNFC {vnfc_id}, found {len(found)}")
    return found[0]


def kill_init(box: Any) -> float:
    """``kill -9`` of the container's init process from the host; the wall time right before."""
    box.reload()
    pid = int(box.attrs["State"]["Pid"])
    if pid <= 0:  # kill(0) would hit our own process group
        raise Aborted(f"container {box.name} does not run")
    killed = time.time()
    os.kill(pid, signal.SIGKILL)
    return killed


def strike(box: Any, mode: str) -> float:
    """Crash, kill or remove the container; the wall time right before."""
    if mode == "crash":
        return kill_init(box)
    killed = time.time()
    if mode == "kill":
        box.kill()
    else:
        box.remove(force=True)
    return killed


def baseline_like(client: docker.DockerClient, victim: Any, n: int) -> Any:
    """A running plain container with the victim's image, environment, networks and policy."""
    attrs = victim.attrs
    networks = list(attrs["NetworkSettings"]["Networks"])
    box = client.containers.create(
        attrs["Config"]["Image"],
        name=f"bench-heal-baseline-{n}-{uuid.uuid4().hex[:6]}",
        environment=attrs["Config"]["Env"],
        network=networks[0],
        restart_policy=attrs["HostConfig"]["RestartPolicy"],
        labels={BENCH_LABEL: "heal-baseline", LABEL_NS: victim.labels[LABEL_NS]},
    )
    try:
        for name in networks[1:]:
            client.networks.get(name).connect(box)
        box.start()
    except Exception:
        box.remove(force=True)
        raise
    return box


def serving(client: docker.DockerClient, vnfc: VnfcInstance) -> str | None:
    """The id of the running container of the VNFC's server, when its addresses are the record's."""
    for box in client.containers.list(filters={"label": f"{LABEL_SERVER}={vnfc.vc_id}"}):
        nets = box.attrs["NetworkSettings"]["Networks"].values()
        if box.labels.get(LABEL_VNFC) == vnfc.id and sorted(n["IPAddress"] for n in nets) == sorted(
            vnfc.addresses.values()
        ):
            return str(box.id)
    return None


def sip_ok(box: Any) -> int | None:
    """SIPp's cumulative successful call count in the client, None when unreadable."""
    try:
        code, output = box.exec_run(["sipp-stats"])
    except docker.errors.APIError:
        return None
    match = STATS.search(output.decode(errors="replace"))
    return int(match.group(1)) if code == 0 and match else None


async def check_calls(
    app: Nubo,
    client: docker.DockerClient,
    nsr_id: str,
    client_id: str,
    r: Round,
    fresh: bool,
    args: argparse.Namespace,
) -> None:
    """The client's successful count grows after the heal (bounded); a failure is recorded."""
    started = time.monotonic()
    box = await asyncio.to_thread(running_box, client, client_id)
    base = 0 if fresh else await poll(lambda: asyncio.to_thread(sip_ok, box), 5, POLL)
    if base is None:
        r.failures.append("calls: sipp-stats unreadable in the client")
        return

    async def grown() -> int | None:
        now = await asyncio.to_thread(sip_ok, box)
        return now if now is not None and now > base else None

    got = await poll(grown, args.calls_timeout, POLL)
    took = time.monotonic() - started
    if got is None:
        r.failures.append(f"calls: no new successful call within {args.calls_timeout:.0f} s")
        r.calls = f"calls stuck at {base}"
    else:
        r.calls = f"calls {base}->{got} in {took:.1f} s"


def _s(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def print_round(r: Round) -> None:
    ratio = f" ratio {r.nubo_s / r.docker_s:.3f}" if r.nubo_s and r.docker_s else ""
    line = (
        f"#{r.n:<2} {r.mode:5} {r.vnf:11} settle {r.settle_s:4.1f} s"
        f" | healed: docker {_s(r.docker_s)} engine {_s(r.engine_s)} nubo {_s(r.nubo_s)} s"
        f"{ratio} ({r.how or '-'}) | end event +{_s(r.event_s)} s, alarm +{_s(r.alarm_s)} s"
        f" after it | {r.calls or '-'}"
    )
    print(line, flush=True)
    for failure in r.failures:
        print(f"    FAILURE: {failure}", flush=True)


class LogTally(logging.Handler):
    """Counts nubo's log records by level and event; keeps the text of errors."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: Counter[tuple[str, str]] = Counter()
        self.errors: list[str] = []

    @classmethod
    def install(cls, log_file: Path | None) -> LogTally:
        nubo_log = logging.getLogger("nubo")
        nubo_log.setLevel(logging.INFO)
        nubo_log.propagate = False
        tally = cls()
        tally.setFormatter(logging.Formatter("%(name)s %(message)s"))
        nubo_log.addHandler(tally)
        if log_file:
            to_file = logging.FileHandler(log_file, mode="w")
            to_file.setFormatter(
                logging.Formatter("time=%(asctime)s level=%(levelname)s %(message)s")
            )
            nubo_log.addHandler(to_file)
        return tally

    def emit(self, record: logging.LogRecord) -> None:
        event = record.getMessage().split(" ", 1)[0]
        self.counts[(record.levelname, event)] += 1
        if record.levelno >= logging.ERROR:
            self.errors.append(self.format(record))


def print_log(tally: LogTally) -> None:
    print()
    print("nubo log records by level and event:")
    for (level, event), count in sorted(tally.counts.items()):
        print(f"  {level:8} {event:28} {count}")
    for error in tally.errors[:10]:
        print(f"  ERROR TEXT: {error}")
