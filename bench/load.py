"""Deployment load over a standing population of live NSs, against a same-run baseline.

What one run does, in this order:

1. **Docker's call costs**: nubo's own ``DockerVimDriver`` is timed on the real
   engine for the calls one instantiate + terminate of the SIPp NS make (and the
   background loops' ``list_servers``/``server_stats``); the medians are printed
   and become the per-call delays of the fake VIM (see ``vimcost``).
2. **The baseline**: an in-process nubo deploys the NS on a fake VIM with those
   delays and times every VIM call; the fake VIM's own time per deploy (calls in
   sequence add up, the servers of one start wave overlap, as the workflow runs
   them) is the baseline every figure is divided by.
3. Per database (``--db``) and replica count (``--replicas``): fresh data
   directories (and a fresh PostgreSQL database), one or two ``python -m
   nubo.testing serve`` processes (``nubo serve`` plus the fake VIM type) with
   nubo's shipped defaults; a fake VIM carrying Docker's delays is registered
   through the API (``POST /api/v1/vims``, endpoint ``fake:?delay.<call>=s``)
   and every NS is deployed on it.
4. ``--live N`` NSs are deployed through the HTTP API (bounded concurrency, a
   deadline) and stay ACTIVE for the rest of the run; the time is printed.
5. nubo idle with that population, once it has settled (``--settle`` seconds
   after the last NS became ACTIVE, default 40: the example's scaling
   policies decide once their 30 s period has passed, and the events of the
   deployments are checked): CPU (percent of one core, mean over
   ``--idle-window`` seconds, nubo's process trees only) and RSS.
6. Each rate of ``--rates``: ``rate * window / 60`` deployments, open loop, spread
   round-robin over the replicas. Each request is timed from sending the POST
   until its operation (the ``Location``) is ``COMPLETED`` (NS ACTIVE), polled
   every 0.1 s; nubo's own op time is printed next to it. Once ACTIVE the NS is
   terminated (untimed, but inside the measured period: nubo does that work
   too, and the population stays at N). A request fails on a non-202 answer, a
   transport error, an operation ending FAILED/FAILED_TEMP/ROLLED_BACK; it
   times out without ACTIVE within ``--timeout``.

The load generator runs on the same machine and competes with nubo for CPU; its
CPU use is printed with each rate.

    .venv/bin/python bench/load.py --live 1000 --rates 300,1200,3000 --window 20
    .venv/bin/python bench/load.py --db both --replicas both --live 1000
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import itertools
import os
import re
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import nuboproc
import vimcost

from nubo.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
NSD = ROOT / "examples" / "sipp" / "nsd.json"
FINAL = frozenset({"COMPLETED", "FAILED", "FAILED_TEMP", "ROLLED_BACK"})
POLL = 0.1
MB = 1_000_000
VIM_NAME = "fake-with-docker-costs"
#: one /24 per NS: the default /16 pool holds 256 NSs, a standing population needs more
VIM_POOL = "10.0.0.0/8"
#: what nubo is given beyond its shipped defaults: the fake VIM as the out-of-the-box VIM
#: (instead of the local Docker Engine, which it would otherwise also watch)
NUBO_ENV = {"NUBO_DEFAULT_VIM_TYPE": "fake"}
#: the targets of the issue, judged on one replica at 10,000 live NSs
TARGET_LIVE, TARGET_RATE = 10_000, 3000
TARGET_MEAN_S, TARGET_RSS_MB, TARGET_IDLE_CPU = 1.0, 500, 5.0


# -- one request ---------------------------------------------------------------------------
@dataclass
class Outcome:
    """What became of one deployment request."""

    latency: float | None = None  # seconds to ACTIVE, when it got there
    op_seconds: float | None = None  # the same operation by nubo's clock (no polling in it)
    failure: str | None = None
    nsr_id: str | None = None
    terminate_failure: str | None = None

    @property
    def timed_out(self) -> bool:
        return self.failure == "timeout"


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
            f"/api/v1/ns-records/{nsd_id}",
            json={"name": name, "vim": VIM_NAME},
            timeout=min(timeout, 30),
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


# -- figures ---------------------------------------------------------------------------------
@dataclass
class RateResult:
    """Figures of one rate."""

    rate: int
    outcomes: list[Outcome]
    period: float
    usage: nuboproc.Usage
    client_cpu: float
    max_send_lag: float
    latencies: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self.latencies = [o.latency for o in self.outcomes if o.latency is not None]

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes if o.failure is not None and not o.timed_out)

    @property
    def timeouts(self) -> int:
        return sum(1 for o in self.outcomes if o.timed_out)

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


@dataclass
class LiveResult:
    """The standing population: how it was deployed, and nubo idle with it."""

    wanted: int
    active: int
    failures: Counter[str]
    seconds: float
    idle: nuboproc.Usage
    loadavg: str


@dataclass
class ConfigResult:
    """Everything measured on one database with one replica count."""

    db: str
    replicas: int
    live: LiveResult
    rates: list[RateResult]
    notes: list[str]


# -- one configuration -------------------------------------------------------------------------
class Replicas:
    """HTTP clients of every replica; requests go round-robin."""

    def __init__(self, servers: list[nuboproc.NuboServer]) -> None:
        limits = httpx.Limits(max_connections=1000, max_keepalive_connections=200)
        self.clients = [
            httpx.AsyncClient(base_url=s.url, limits=limits, timeout=30, headers=s.headers)
            for s in servers
        ]
        self._next = itertools.cycle(self.clients)

    def next(self) -> httpx.AsyncClient:
        return next(self._next)

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()


async def deploy_live(
    replicas: Replicas, nsd_id: str, count: int, concurrency: int, deadline_s: float, timeout: float
) -> tuple[int, Counter[str], float]:
    """Deploy ``count`` NSs that stay up, ``concurrency`` at a time, until a deadline."""
    started = time.monotonic()
    deadline = started + deadline_s
    todo = iter(range(count))
    active, failures = 0, Counter[str]()
    progress = max(count // 10, 1)

    async def worker() -> None:
        nonlocal active
        for i in todo:
            if time.monotonic() >= deadline:
                failures["not sent: deadline"] += 1
                continue
            left = max(min(timeout, deadline - time.monotonic()), 1)
            out = await deploy(replicas.next(), nsd_id, f"live-{i}", left, teardown=False)
            if out.failure:
                failures[out.failure] += 1
            else:
                active += 1
                if active % progress == 0:
                    elapsed = time.monotonic() - started
                    print(f"  live: {active}/{count} ACTIVE after {elapsed:.0f} s", flush=True)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, max(count, 1)))))
    return active, failures, time.monotonic() - started


async def run_rate(
    replicas: Replicas,
    sampler: nuboproc.Sampler,
    nsd_id: str,
    rate: int,
    window: float,
    timeout: float,
) -> RateResult:
    """Send ``rate`` requests per minute for ``window`` seconds, open loop, and settle them."""
    count = max(1, round(rate * window / 60))
    interval = 60 / rate
    cpu0, t0 = time.process_time(), time.monotonic()
    tasks: list[asyncio.Task[Outcome]] = []
    lag = 0.0
    for i in range(count):
        delay = t0 + i * interval - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        lag = max(lag, -delay)
        name = f"load-{rate}-{i}"
        tasks.append(asyncio.create_task(deploy(replicas.next(), nsd_id, name, timeout, True)))
    # every task ends by its own deadlines (deploy, then terminate); this guards against a bug
    done, pending = await asyncio.wait(tasks, timeout=2 * timeout + 60)
    for task in pending:
        task.cancel()
    outcomes = [t.result() if t in done else Outcome(failure="bench timeout") for t in tasks]
    t1 = time.monotonic()
    client_cpu = 100 * (time.process_time() - cpu0) / (t1 - t0)
    return RateResult(rate, outcomes, t1 - t0, sampler.usage(t0, t1), client_cpu, lag)


@contextlib.asynccontextmanager
async def database(db: str, tmp: Path, pg_server: str | None) -> AsyncIterator[str]:
    """The database URL of one configuration: a new SQLite file or PostgreSQL database."""
    if db == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp / 'nubo.db'}"
        return
    assert pg_server is not None
    async with nuboproc.fresh_postgres_database(pg_server) as url:
        yield url


async def run_config(
    db: str, replicas: int, args: argparse.Namespace, delays: dict[str, float], pg: str | None
) -> ConfigResult:
    """Fresh nubo replicas on a fresh database: the live population, idle, then every rate."""
    tmp = Path(tempfile.mkdtemp(prefix=f"nubo-load-{db}-{replicas}-"))
    notes: list[str] = []
    try:
        async with database(db, tmp, pg) as url:
            # the servers stop before their database is dropped
            return await _run_servers(db, replicas, args, delays, tmp, url, notes)
    finally:
        if args.keep_data:
            notes.append(f"data dirs and logs kept under {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


async def _run_servers(
    db: str,
    replicas: int,
    args: argparse.Namespace,
    delays: dict[str, float],
    tmp: Path,
    url: str,
    notes: list[str],
) -> ConfigResult:
    servers: list[nuboproc.NuboServer] = []
    sampler: nuboproc.Sampler | None = None
    try:
        for i in range(replicas):
            env = NUBO_ENV | {"NUBO_REPLICA_ID": f"load-replica-{i + 1}"}
            servers.append(nuboproc.NuboServer(tmp / f"replica-{i + 1}", url, env))
        pids = [server.start() for server in servers]  # one after the other: one default VIM
        sampler = nuboproc.Sampler(pids)
        sampler.start()
        clients = Replicas(servers)
        try:
            live, rates = await _measure(clients, sampler, args, delays)
        finally:
            await clients.close()
        rss0 = sampler.samples[0][1] if sampler.samples else 0
        notes.append(f"nubo pids {pids}, RSS at the first sample {rss0 / MB:.0f} MB")
        return ConfigResult(db, replicas, live, rates, notes)
    finally:
        if sampler is not None:
            sampler.stop()
        for server in servers:
            server.stop()
            notes += [f"replica {server.port}: {line}" for line in log_findings(server.log_path)]


async def _measure(
    clients: Replicas, sampler: nuboproc.Sampler, args: argparse.Namespace, delays: dict[str, float]
) -> tuple[LiveResult, list[RateResult]]:
    first = clients.clients[0]
    vim = {
        "name": VIM_NAME,
        "type": "fake",
        "endpoint": vimcost.fake_endpoint(delays),
        "subnet_pool": VIM_POOL,
    }
    resp = await first.post("/api/v1/vims", json=vim)
    if resp.status_code != 201:
        raise SystemExit(f"registering the fake VIM failed: {resp.status_code} {resp.text}")
    resp = await first.post("/api/v1/ns-descriptors", content=NSD.read_bytes())
    if resp.status_code != 201:
        raise SystemExit(f"onboarding failed: {resp.status_code} {resp.text}")
    nsd_id = resp.json()["id"]
    print(f"  deploying {args.live} live NSs, {args.live_concurrency} at a time", flush=True)
    active, failures, seconds = await deploy_live(
        clients, nsd_id, args.live, args.live_concurrency, args.live_deadline, args.timeout
    )
    print(f"  live: {active} ACTIVE in {seconds:.1f} s, failures {dict(failures)}", flush=True)
    await asyncio.sleep(args.settle)
    idle_from = time.monotonic()
    await asyncio.sleep(args.idle_window)
    idle = sampler.usage(idle_from, time.monotonic())
    live = LiveResult(args.live, active, failures, seconds, idle, _loadavg())
    print(
        f"  idle with {active} live NSs over {args.idle_window:.0f} s"
        f" (from {args.settle:.0f} s after the last was ACTIVE): CPU"
        f" {idle.cpu_mean:.1f}% of one core (peak {idle.cpu_peak:.0f}%),"
        f" RSS {idle.peak_rss / MB:.0f} MB, load average {live.loadavg}",
        flush=True,
    )
    rates = []
    for rate in args.rates:
        result = await run_rate(clients, sampler, nsd_id, rate, args.window, args.timeout)
        rates.append(result)
        print_rate(result)
    return live, rates


def log_findings(log_path: Path) -> list[str]:
    """Counts of WARNING/ERROR/CRITICAL/Traceback lines and the most frequent ones."""
    if not log_path.exists():
        return []
    pattern = re.compile(r"\b(WARNING|ERROR|CRITICAL)\b|Traceback")
    lines = [ln for ln in log_path.read_text(errors="replace").splitlines() if pattern.search(ln)]
    if not lines:
        return ["nubo log: no WARNING/ERROR lines"]
    # group messages without their ids and numbers, so that one cause is one line
    shapes = Counter(re.sub(r"[0-9a-f][0-9a-f-]{7,}|\d+(\.\d+)?", "#", ln)[:160] for ln in lines)
    out = [f"nubo log: {len(lines)} WARNING/ERROR/Traceback lines; most frequent:"]
    out += [f"  {n:6d} x {shape}" for shape, n in shapes.most_common(5)]
    return out


# -- output -----------------------------------------------------------------------------------
def _loadavg() -> str:
    with open("/proc/loadavg") as fh:
        return " ".join(fh.read().split()[:3])


def _s(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def print_rate(r: RateResult) -> None:
    kinds = Counter(o.failure for o in r.outcomes if o.failure)
    terms = Counter(o.terminate_failure for o in r.outcomes if o.terminate_failure)
    print(
        f"  [{r.rate}/min] sent {len(r.outcomes)} in {r.period:.1f} s, ACTIVE {len(r.latencies)},"
        f" failed {r.failed}, timeouts {r.timeouts} {dict(kinds) or ''}"
        f" mean {_s(r.mean)} s, p95 {_s(r.p95)} s, max {_s(max(r.latencies, default=None))} s"
        f" (op by nubo's clock: mean {_s(r.op_mean)} s), peak RSS {r.usage.peak_rss / MB:.0f} MB,"
        f" CPU mean {r.usage.cpu_mean:.0f}% peak {r.usage.cpu_peak:.0f}%,"
        f" bench client CPU {r.client_cpu:.0f}%, worst send lag {r.max_send_lag * 1000:.0f} ms,"
        f" load average {_loadavg()}" + (f", terminate failures {dict(terms)}" if terms else ""),
        flush=True,
    )


def print_settings() -> None:
    settings = Settings.from_env(NUBO_ENV)
    print("nubo settings (shipped defaults; the bench sets only NUBO_DEFAULT_VIM_TYPE=fake,")
    print(" the port, the data dir, the database URL and NUBO_REPLICA_ID):")
    skip = {"data_dir", "database_url", "port", "replica_id"}
    for f in dataclasses.fields(settings):
        if f.name not in skip:
            print(f"  {f.name} = {getattr(settings, f.name)}")


def print_costs(times: vimcost.CallTimes, base: vimcost.Baseline) -> None:
    print("Docker driver call costs (nubo's DockerVimDriver on this engine; median, ms):")
    print(f"  {'call':<16}{'n':>4}{'median':>10}{'min':>10}{'max':>10}")
    for call in vimcost.DOCKER_CALLS:
        s = times.samples.get(call, [])
        if s:
            print(
                f"  {call:<16}{len(s):>4}{statistics.median(s) * 1000:>10.1f}"
                f"{min(s) * 1000:>10.1f}{max(s) * 1000:>10.1f}"
            )
    print("  (the fake VIM adds each median to its call of that type; other calls: 0)")
    print(f"calls one deploy makes: {dict(base.deploy_calls)}")
    print(f"calls one terminate makes: {dict(base.terminate_calls)}")
    print(
        f"baseline, the fake VIM's own time per deploy (in-process, {len(base.deploy)} runs):"
        f" median {statistics.median(base.deploy):.3f} s (the delays summed without overlap:"
        f" {base.deploy_sum:.3f} s); per terminate {statistics.median(base.terminate):.3f} s"
    )


def print_table(results: list[ConfigResult], baseline: float) -> None:
    head = (
        f"{'db':<11}{'repl':>5}{'live':>7}{'req/min':>8}{'sent':>6}{'fail':>6}{'t/o':>5}"
        f"{'mean s':>8}{'p95 s':>8}{'op s':>8}{'x base':>8}{'RSS MB':>8}{'CPU %':>7}"
    )
    print(head)
    print("-" * len(head))
    for c in results:
        idle = c.live.idle
        print(
            f"{c.db:<11}{c.replicas:>5}{c.live.active:>7}{'idle':>8}{'':>6}{'':>6}{'':>5}"
            f"{'':>8}{'':>8}{'':>8}{'':>8}{idle.peak_rss / MB:>8.0f}{idle.cpu_mean:>7.1f}"
        )
        for r in c.rates:
            ratio = "-" if r.mean is None else f"{r.mean / baseline:.2f}"
            print(
                f"{c.db:<11}{c.replicas:>5}{c.live.active:>7}{r.rate:>8}{len(r.outcomes):>6}"
                f"{r.failed:>6}{r.timeouts:>5}{_s(r.mean):>8}{_s(r.p95):>8}{_s(r.op_mean):>8}"
                f"{ratio:>8}{r.usage.peak_rss / MB:>8.0f}{r.usage.cpu_mean:>7.0f}"
            )


def print_targets(results: list[ConfigResult]) -> None:
    print(f"Targets (one replica, {TARGET_LIVE} live NSs, {TARGET_RATE} requests/min):")
    for c in (c for c in results if c.replicas == 1):
        at_scale = c.live.active >= TARGET_LIVE
        scope = "" if at_scale else f" [only {c.live.active} live NSs: not the target's scale]"
        r = next((r for r in c.rates if r.rate == TARGET_RATE), None)

        def verdict(ok: bool, judged: bool = at_scale) -> str:
            return ("PASS" if ok else "FAIL") if judged else ("would pass" if ok else "FAIL")

        print(f"  {c.db}{scope}:")
        idle = c.live.idle.cpu_mean
        print(
            f"    idle under {TARGET_IDLE_CPU:.0f}% of one core: {idle:.1f}% -> {verdict(idle < 5)}"
        )
        if r is None:
            print(f"    {TARGET_RATE} requests/min not measured")
            continue
        ok = r.mean is not None and r.mean < TARGET_MEAN_S and r.timeouts == 0
        print(f"    mean to ACTIVE under {TARGET_MEAN_S:.0f} s: {_s(r.mean)} s -> {verdict(ok)}")
        lost = r.failed + r.timeouts
        print(f"    0 failed: {r.failed} failed, {r.timeouts} timeouts -> {verdict(lost == 0)}")
        rss = r.usage.peak_rss / MB
        print(f"    RSS under {TARGET_RSS_MB} MB: {rss:.0f} MB -> {verdict(rss < TARGET_RSS_MB)}")
    print("Published anchors (OSM 399.5 s, Pishahang 168.1 s at 300 requests/min, Paderborn 2020):")
    print(
        "  NOT COMPARABLE: other hardware, other NS, mocked VIMs of unknown cost; not a baseline."
    )


# -- main -------------------------------------------------------------------------------------
def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--live", type=int, default=1000, help="NSs kept ACTIVE during the run")
    parser.add_argument("--rates", default="300,1200,3000", help="requests/min, comma separated")
    parser.add_argument("--window", type=float, default=20.0, help="seconds of sending per rate")
    parser.add_argument("--idle-window", type=float, default=20.0, help="seconds of idle sampling")
    parser.add_argument(
        "--settle", type=float, default=40.0, help="seconds between the population and idle"
    )
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--replicas", choices=("1", "2", "both"), default="1")
    parser.add_argument("--timeout", type=float, default=120.0, help="per request, seconds")
    parser.add_argument("--live-concurrency", type=int, default=32)
    parser.add_argument("--live-deadline", type=float, default=1800.0, help="seconds, in all")
    parser.add_argument("--cost-runs", type=int, default=5, help="Docker call repetitions")
    parser.add_argument("--baseline-runs", type=int, default=5)
    parser.add_argument("--keep-data", action="store_true", help="keep nubo's data dirs and logs")
    args = parser.parse_args()
    args.rates = [int(r) for r in args.rates.split(",") if r.strip()]
    if any(r <= 0 for r in args.rates) or args.live < 0:
        parser.error("rates must be positive and --live not negative")
    return args


async def run(args: argparse.Namespace) -> None:
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    counts = [1, 2] if args.replicas == "both" else [int(args.replicas)]
    print("measuring the Docker driver's calls on the local engine ...", flush=True)
    times = await vimcost.measure_docker(args.cost_runs)
    delays = times.medians()
    base = await vimcost.measure_baseline(NSD.read_bytes(), delays, args.baseline_runs)
    print_costs(times, base)
    baseline = statistics.median(base.deploy)
    pg = nuboproc.postgres_server_url() if "postgresql" in dbs else None
    results = []
    for db in dbs:
        for replicas in counts:
            print(f"== {db}, {replicas} replica(s), load average {_loadavg()}", flush=True)
            if replicas == 2 and db == "sqlite":
                print("  (two replicas on one SQLite file: allowed, not a recommended setup)")
            if replicas == 2:
                print("  (each replica has its own in-memory fake VIM: see bench/README.md)")
            results.append(await run_config(db, replicas, args, delays, pg))
    print()
    print_table(results, baseline)
    print(f"(x base: mean request-to-ACTIVE / the baseline's {baseline:.3f} s per deploy)")
    print()
    for c in results:
        print(f"{c.db}, {c.replicas} replica(s): live NSs {c.live.active}/{c.live.wanted} ACTIVE")
        print(f"  deployed in {c.live.seconds:.1f} s, failures {dict(c.live.failures)}")
        for note in c.notes:
            print(f"  {note}")
    print()
    print_targets(results)


def main() -> None:
    args = parse_args()
    print(
        f"nubo load benchmark: {os.cpu_count()} CPUs, load average {_loadavg()},"
        f" load generator on the same machine; live {args.live}, rates {args.rates}/min,"
        f" window {args.window:.0f} s, settle {args.settle:.0f} s,"
        f" idle window {args.idle_window:.0f} s,"
        f" timeout {args.timeout:.0f} s per request",
        flush=True,
    )
    print_settings()
    try:
        asyncio.run(run(args))
    finally:
        left = vimcost.remove_labelled()
        if left:
            print(f"removed by label after the run: {left}")


if __name__ == "__main__":
    main()
