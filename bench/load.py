"""Deployment load: NS requests at fixed rates, the method of the OSM/Pishahang benchmark.

The published MANO scalability benchmark of OSM and Pishahang (Paderborn
University, 2020) sent deployment requests of a small NS at fixed rates (50 to
300 requests per minute) for a fixed window against a mocked VIM, open loop,
and measured the time until each NS was running, the failed requests and the
resources the MANO used. This benchmark does the same against nubo:

- ``nubo serve`` runs as its own process on a free loopback port with a fresh
  temporary data directory per VIM kind (one orchestrator for all rates of a
  kind, so later rates run on top of the NSs the earlier ones left).
- The SIPp NSD (examples/sipp: 2 VNFs, 1 virtual link) is onboarded once.
- For each rate, ``rate * window / 60`` requests ``POST /api/v1/ns-records/{nsdId}``
  are sent on a fixed schedule whatever the earlier ones are doing (open loop).
  Each request's time runs from sending the POST until its LCM operation (the
  ``Location`` header) is ``COMPLETED``, i.e. the NS is ACTIVE; operations are
  polled every 0.1 s, so that figure is quantised by the poll; the operation's
  own duration by nubo's clock (``start_time`` to ``state_entered_time``) is
  printed next to it. A request fails on a non-202 answer, a transport error, an
  operation ending ``FAILED``/``FAILED_TEMP``/``ROLLED_BACK``, or no ACTIVE NS
  within ``--timeout``.
- A sampler thread reads ``/proc`` every 0.25 s for the ``nubo serve`` process
  and its descendants: the peak of their summed RSS, and CPU as percent of one
  core from utime+stime (mean over the period, peak over one 0.25 s interval).
  The period of a rate runs from its first request until its last request has
  settled (the send window plus the drain); the idle CPU of nubo is sampled for
  2 s before each rate, to show background work that grows with the NS count.
- ``--vim fake``: the in-memory VIM (``NUBO_DEFAULT_VIM_TYPE=fake``; their runs
  used a mocked VIM), served by the test entry point ``python -m nubo.testing
  serve`` (``nubo serve`` plus the fake VIM type). NSs stay up, as in the
  published runs, so the fake VIM is given a /8 subnet pool: the default /16
  pool holds only 256 one-link NSs.
- ``--vim docker``: the real Docker Engine at the rates this 2-core machine can
  sustain; each NS is terminated (``DELETE /api/v1/ns-records/{id}``) as soon as
  it is ACTIVE, and at the end everything labelled ``io.nubo.managed`` that
  belongs to this run's NSs is terminated through nubo (a warning names what
  still remains, which is then removed directly).

The load generator runs on the same machine and competes with nubo for CPU; its
own CPU use is printed with each rate. At the end a table, the published anchors
and the targets (300 requests/min on the fake VIM: mean under 1 s, no failure,
under 300 MB) marked met or not met from the figures measured in this run.

    .venv/bin/python bench/load.py --vim fake --quick     # smoke run, ~2 min
    .venv/bin/python bench/load.py --vim fake             # 6 rates x 60 s
    .venv/bin/python bench/load.py --vim docker           # 10, 20, 30 requests/min x 30 s
    .venv/bin/python bench/load.py --vim both --rates 50,300 --window 30
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
NSD = ROOT / "examples" / "sipp" / "nsd.json"
NUBO = str(Path(sys.executable).parent / "nubo")
#: how each VIM kind's orchestrator is started: the fake VIM only exists in the test server
SERVE = {"fake": [sys.executable, "-m", "nubo.testing", "serve"], "docker": [NUBO, "serve"]}
RATES = {"fake": (50, 100, 150, 200, 250, 300), "docker": (10, 20, 30)}
WINDOW = {"fake": 60.0, "docker": 30.0}
FINAL = frozenset({"COMPLETED", "FAILED", "FAILED_TEMP", "ROLLED_BACK"})
POLL = 0.1
SAMPLE = 0.25
LABEL_MANAGED = "io.nubo.managed"
LABEL_NS = "io.nubo.ns-id"
MB = 1_000_000
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
TARGET_RATE, TARGET_MEAN_S, TARGET_RSS_MB = 300, 1.0, 300


# -- nubo serve as a process, sampled from /proc ------------------------------------------
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


def tree_usage(root: int) -> tuple[int, int]:
    """(RSS bytes, CPU ticks) of ``root`` and all its live descendants."""
    stats = _proc_stats()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    rss = ticks = 0
    todo = [root] if root in stats else []
    while todo:
        pid = todo.pop()
        rss += stats[pid][1]
        ticks += stats[pid][2]
        todo.extend(children.get(pid, ()))
    return rss, ticks


@dataclass(frozen=True)
class Usage:
    """Resource use of the nubo process tree over one period."""

    peak_rss: int
    cpu_mean: float
    cpu_peak: float


class Sampler(threading.Thread):
    """Samples the nubo process tree every 0.25 s until stopped (a thread: never starved)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True, name="proc-sampler")
        self.pid = pid
        self.samples: list[tuple[float, int, int]] = []  # (monotonic, rss, ticks)
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            rss, ticks = tree_usage(self.pid)
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


class NuboServer:
    """One ``nubo serve`` (or test server) on a free loopback port with its own data directory."""

    def __init__(self, data_dir: Path, command: list[str], env: dict[str, str]) -> None:
        self.data_dir = data_dir
        self.command = command
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "nubo.log"
        self.env = env
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> int:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                [*self.command, "--port", str(self.port), "--data-dir", str(self.data_dir)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=os.environ | {"NUBO_START_TIMEOUT": "30"} | self.env,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"nubo serve exited:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return self.proc.pid
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"nubo serve did not answer:\n{self.log_tail()}")

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=15)
        self.proc = None


# -- one request, one rate ------------------------------------------------------------------
@dataclass
class Outcome:
    """What became of one deployment request."""

    latency: float | None = None  # seconds to ACTIVE, when it got there
    op_seconds: float | None = None  # the same operation by nubo's clock (no polling in it)
    failure: str | None = None
    nsr_id: str | None = None
    terminate_failure: str | None = None
    sent_late: float = 0.0  # seconds behind its schedule when the POST went out


async def wait_op(
    client: httpx.AsyncClient, location: str, deadline: float
) -> dict[str, Any] | None:
    """The operation once in a final state, or None if it is not by ``deadline``."""
    while (left := deadline - time.monotonic()) > 0:
        try:
            resp = await client.get(location, timeout=min(left, 30))
            op: dict[str, Any] = resp.json() if resp.status_code == 200 else {}
            if op.get("state") in FINAL:
                return op
        except httpx.HTTPError:
            pass  # counts against the deadline like any slow answer
        await asyncio.sleep(min(POLL, max(deadline - time.monotonic(), 0)))
    return None


async def terminate(client: httpx.AsyncClient, nsr_id: str, timeout: float) -> str | None:
    """Terminate one NS and wait for it; None when it worked, else what went wrong."""
    deadline = time.monotonic() + timeout
    try:
        resp = await client.delete(f"/api/v1/ns-records/{nsr_id}", timeout=min(timeout, 30))
    except httpx.HTTPError as exc:
        return f"DELETE {type(exc).__name__}"
    if resp.status_code != 202:
        return f"DELETE HTTP {resp.status_code}"
    op = await wait_op(client, resp.headers["location"], deadline)
    state = op["state"] if op else "timeout"
    return None if state == "COMPLETED" else f"terminate {state}"


async def deploy(
    client: httpx.AsyncClient, nsd_id: str, name: str, timeout: float, teardown: bool
) -> Outcome:
    """POST one deployment and follow it to ACTIVE (then terminate it if ``teardown``)."""
    started = time.monotonic()
    deadline = started + timeout
    out = Outcome()
    try:
        resp = await client.post(
            f"/api/v1/ns-records/{nsd_id}", json={"name": name}, timeout=min(timeout, 30)
        )
    except httpx.HTTPError as exc:
        out.failure = f"POST {type(exc).__name__}"
        return out
    if resp.status_code != 202:
        out.failure = f"HTTP {resp.status_code}"
        return out
    out.nsr_id = str(resp.json()["id"])
    op = await wait_op(client, resp.headers["location"], deadline)
    if op is None or op["state"] != "COMPLETED":
        out.failure = op["state"] if op else "timeout"
        return out
    out.latency = time.monotonic() - started
    ended = datetime.fromisoformat(op["state_entered_time"])
    out.op_seconds = (ended - datetime.fromisoformat(op["start_time"])).total_seconds()
    if teardown:
        out.terminate_failure = await terminate(client, out.nsr_id, timeout)
    return out


@dataclass
class RateResult:
    """Figures of one rate."""

    vim: str
    rate: int
    outcomes: list[Outcome]
    period: float
    usage: Usage
    idle_cpu: float
    client_cpu: float
    max_send_lag: float
    latencies: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self.latencies = [o.latency for o in self.outcomes if o.latency is not None]

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if o.failure is not None)

    @property
    def mean(self) -> float | None:
        return statistics.fmean(self.latencies) if self.latencies else None

    @property
    def op_mean(self) -> float | None:
        ops = [o.op_seconds for o in self.outcomes if o.op_seconds is not None]
        return statistics.fmean(ops) if ops else None

    @property
    def p95(self) -> float | None:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else None
        return statistics.quantiles(self.latencies, n=20, method="inclusive")[18]


async def run_rate(
    client: httpx.AsyncClient,
    sampler: Sampler,
    vim: str,
    nsd_id: str,
    rate: int,
    window: float,
    timeout: float,
) -> RateResult:
    """Send ``rate`` requests per minute for ``window`` seconds, open loop, and settle them."""
    idle_from = time.monotonic()
    await asyncio.sleep(2)
    idle = sampler.usage(idle_from, time.monotonic()).cpu_mean
    count = max(1, round(rate * window / 60))
    interval = 60 / rate
    teardown = vim == "docker"
    cpu0, t0 = time.process_time(), time.monotonic()
    tasks: list[asyncio.Task[Outcome]] = []
    lags: list[float] = []
    for i in range(count):
        delay = t0 + i * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        lags.append(max(0.0, -delay))
        name = f"load-{vim}-{rate}-{i}"
        tasks.append(asyncio.create_task(deploy(client, nsd_id, name, timeout, teardown)))
    # every task ends by its own deadlines; this bound only guards against a bug here
    done, pending = await asyncio.wait(tasks, timeout=2 * timeout + 60)
    for task in pending:
        task.cancel()
    outcomes = [t.result() if t in done else Outcome(failure="bench timeout") for t in tasks]
    for outcome, lag in zip(outcomes, lags, strict=True):
        outcome.sent_late = lag
    t1 = time.monotonic()
    client_cpu = 100 * (time.process_time() - cpu0) / (t1 - t0)
    return RateResult(
        vim, rate, outcomes, t1 - t0, sampler.usage(t0, t1), idle, client_cpu, max(lags)
    )


# -- Docker leftovers -----------------------------------------------------------------------
def docker_leftovers(ns_ids: set[str]) -> dict[str, list[str]]:
    """NS id -> names of containers and networks labelled as nubo's that belong to it."""
    import docker  # only the docker run needs the SDK

    client = docker.from_env()
    try:
        found: dict[str, list[str]] = {}
        flt = {"label": f"{LABEL_MANAGED}=true"}
        things = client.containers.list(all=True, filters=flt) + client.networks.list(filters=flt)
        for thing in things:
            attrs = thing.attrs
            labels = attrs.get("Labels") or (attrs.get("Config") or {}).get("Labels") or {}
            owner = labels.get(LABEL_NS)
            if owner in ns_ids:
                found.setdefault(owner, []).append(thing.name)
        return found
    finally:
        client.close()


def remove_docker_leftovers(ns_ids: set[str]) -> None:
    """Last resort once nubo has stopped: remove this run's labelled resources directly."""
    import docker

    client = docker.from_env()
    try:
        for ns_id in ns_ids:
            flt = {"label": f"{LABEL_NS}={ns_id}"}
            for container in client.containers.list(all=True, filters=flt):
                container.remove(force=True)
            for network in client.networks.list(filters=flt):
                network.remove()
    finally:
        client.close()


async def clean_docker(client: httpx.AsyncClient, ns_ids: set[str], timeout: float) -> set[str]:
    """Terminate, through nubo, every NS of this run that still has Docker resources."""
    left = await asyncio.to_thread(docker_leftovers, ns_ids)
    if not left:
        return set()
    print(f"terminating {len(left)} NS(s) with resources left: {', '.join(sorted(left))}")

    async def settle_and_terminate(ns_id: str) -> None:
        deadline = time.monotonic() + timeout
        resp = await client.get(f"/api/v1/ns-records/{ns_id}/lcm-operations")
        if resp.status_code == 200:  # let an operation still running end first
            for op in resp.json():
                if op.get("state") not in FINAL:
                    await wait_op(client, f"/api/v1/lcm-operations/{op['id']}", deadline)
        error = await terminate(client, ns_id, max(deadline - time.monotonic(), 10))
        if error:
            print(f"  {ns_id}: {error}")

    await asyncio.gather(*(settle_and_terminate(ns_id) for ns_id in left))
    remaining = await asyncio.to_thread(docker_leftovers, ns_ids)
    return set(remaining)


# -- one VIM kind -----------------------------------------------------------------------------
def log_findings(log_path: Path) -> list[str]:
    """Counts of WARNING/ERROR/CRITICAL/Traceback lines and the most frequent ones."""
    if not log_path.exists():
        return []
    pattern = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b|Traceback")
    lines = [ln for ln in log_path.read_text(errors="replace").splitlines() if pattern.search(ln)]
    if not lines:
        return ["nubo log: no WARNING/ERROR lines"]
    # group messages without their ids and numbers, so that one cause is one line
    shapes = Counter(re.sub(r"[0-9a-f]{8,}|\d+(\.\d+)?", "#", ln)[:160] for ln in lines)
    out = [f"nubo log: {len(lines)} WARNING/ERROR/Traceback lines; most frequent:"]
    out += [f"  {n:6d} x {shape}" for shape, n in shapes.most_common(6)]
    return out


async def run_vim(
    vim: str, rates: list[int], window: float, timeout: float, keep: bool
) -> tuple[list[RateResult], list[str]]:
    """Start a fresh nubo for one VIM kind, run every rate against it, clean up."""
    tmp = Path(tempfile.mkdtemp(prefix=f"nubo-load-{vim}-"))
    env = {"NUBO_DEFAULT_VIM_TYPE": vim, "NUBO_OP_TIMEOUT": str(int(timeout))}
    if vim == "fake":
        env["NUBO_SUBNET_POOL"] = "10.0.0.0/8"
    server = NuboServer(tmp, SERVE[vim], env)
    pid = server.start()
    sampler = Sampler(pid)
    sampler.start()
    notes: list[str] = []
    results: list[RateResult] = []
    ns_ids: set[str] = set()
    remaining: set[str] = set()
    limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
    try:
        async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=30) as client:
            resp = await client.post("/api/v1/ns-descriptors", content=NSD.read_bytes())
            if resp.status_code != 201:
                raise SystemExit(f"onboarding failed: {resp.status_code} {resp.text}")
            nsd_id = resp.json()["id"]
            rss0 = sampler.usage(time.monotonic() - 1, time.monotonic()).peak_rss
            notes.append(f"{vim}: nubo pid {pid}, RSS after start-up {rss0 / MB:.0f} MB")
            try:
                for rate in rates:
                    result = await run_rate(client, sampler, vim, nsd_id, rate, window, timeout)
                    ns_ids.update(o.nsr_id for o in result.outcomes if o.nsr_id)
                    results.append(result)
                    print_rate(result, flush=True)
            finally:
                if vim == "docker":
                    remaining = await clean_docker(client, ns_ids, timeout)
    finally:
        sampler.stop()
        server.stop()
        notes += [f"{vim}: " + line for line in log_findings(server.log_path)]
        if remaining:
            print(f"WARNING: Docker resources of {len(remaining)} NS(s) remain after terminate:")
            print(f"  {docker_leftovers(remaining)}; removing them directly")
            remove_docker_leftovers(remaining)
        if keep:
            notes.append(f"{vim}: data dir kept at {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return results, notes


# -- output -----------------------------------------------------------------------------------
def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_rate(r: RateResult, flush: bool = False) -> None:
    kinds = Counter(o.failure for o in r.outcomes if o.failure)
    terms = Counter(o.terminate_failure for o in r.outcomes if o.terminate_failure)
    print(
        f"[{r.vim} {r.rate}/min] sent {len(r.outcomes)} in {r.period:.1f} s,"
        f" ACTIVE {len(r.latencies)}, failed {r.failed} {dict(kinds) or ''}"
        f" mean {_s(r.mean)} s, p95 {_s(r.p95)} s, max {_s(max(r.latencies, default=None))} s"
        f" (operation by nubo's clock: mean {_s(r.op_mean)} s),"
        f" peak RSS {r.usage.peak_rss / MB:.0f} MB,"
        f" CPU mean {r.usage.cpu_mean:.0f}% peak {r.usage.cpu_peak:.0f}%"
        f" (idle before {r.idle_cpu:.0f}%), bench client CPU {r.client_cpu:.0f}%,"
        f" worst send lag {r.max_send_lag * 1000:.0f} ms"
        + (f", terminate failures {dict(terms)}" if terms else ""),
        flush=flush,
    )


def print_table(results: list[RateResult]) -> None:
    head = (
        f"{'vim':<7}{'req/min':>8}{'sent':>6}{'failed':>8}{'mean s':>9}{'p95 s':>9}"
        f"{'peak RSS MB':>13}{'CPU mean %':>12}{'CPU peak %':>12}"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r.vim:<7}{r.rate:>8}{len(r.outcomes):>6}{r.failed:>8}{_s(r.mean):>9}"
            f"{_s(r.p95):>9}{r.usage.peak_rss / MB:>13.0f}{r.usage.cpu_mean:>12.0f}"
            f"{r.usage.cpu_peak:>12.0f}"
        )


def print_comparison(results: list[RateResult]) -> None:
    print()
    print("Published anchors (Paderborn 2020, mocked VIM, 300 requests/min):")
    print("  OSM        mean 399.5 s, every request failed, ~11 GB in use")
    print("  Pishahang  mean 168.1 s, 16 requests failed")
    at = next((r for r in results if r.vim == "fake" and r.rate == TARGET_RATE), None)
    print(f"Targets at {TARGET_RATE} requests/min on the fake VIM (this run):")
    if at is None:
        print(f"  not measured (run --vim fake with rate {TARGET_RATE})")
        return

    def verdict(ok: bool) -> str:
        return "met" if ok else "NOT met"

    mean_ok = at.mean is not None and at.mean < TARGET_MEAN_S
    print(f"  mean under {TARGET_MEAN_S:.0f} s: {_s(at.mean)} s -> {verdict(mean_ok)}")
    print(f"  no failure: {at.failed} failed -> {verdict(at.failed == 0)}")
    rss_mb = at.usage.peak_rss / MB
    print(f"  under {TARGET_RSS_MB} MB: peak {rss_mb:.0f} MB -> {verdict(rss_mb < TARGET_RSS_MB)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--vim", choices=("fake", "docker", "both"), default="fake")
    parser.add_argument("--rates", help="requests per minute, comma separated")
    parser.add_argument("--window", type=float, help="seconds of sending per rate")
    parser.add_argument("--timeout", type=float, default=120.0, help="per request, seconds")
    parser.add_argument("--quick", action="store_true", help="10 s windows, for a smoke run")
    parser.add_argument("--keep-data", action="store_true", help="keep nubo's data dir and log")
    args = parser.parse_args()
    kinds = ["fake", "docker"] if args.vim == "both" else [args.vim]
    rates = [int(r) for r in args.rates.split(",")] if args.rates else None
    if rates is not None and any(r <= 0 for r in rates):
        parser.error("rates must be positive")
    print(
        f"nubo load benchmark: {os.cpu_count()} CPUs, load generator on the same machine,"
        f" timeout {args.timeout:.0f} s per request",
        flush=True,
    )
    results: list[RateResult] = []
    notes: list[str] = []
    for vim in kinds:
        window = 10.0 if args.quick else (args.window or WINDOW[vim])
        vim_rates = rates or list(RATES[vim])
        print(f"== {vim} VIM: rates {vim_rates} per minute, {window:.0f} s each", flush=True)
        got, said = asyncio.run(run_vim(vim, vim_rates, window, args.timeout, args.keep_data))
        results += got
        notes += said
    print()
    print_table(results)
    print()
    for note in notes:
        print(note)
    print_comparison(results)


if __name__ == "__main__":
    main()
