"""Auto-scaling: reaction time from a load step to a new RUNNING VNFC, and the sampler's cost.

Reaction (real Docker; nubo in-process with monitoring and auto-scaling on,
fault management off): the CPU-load NS (examples/load, VNF ``load``, one VNFC
that may grow to three) is instantiated once; ``--period``/``--cooldown``
override every policy's values (default: the descriptor's). Then ``--rounds``
times:

- settle (bounded, printed): the NS is ACTIVE with one RUNNING VNFC, no
  operation holds it, the VNF's cooldown has passed, and the newest CPU sample
  of the VNFC is fresh and at most 20 %.
- t0: wall and monotonic time right before ``docker exec <ctr> set-load 95`` of
  the first container (every running VNFC of the NS gets the step).
- t1: the first poll (every 50 ms) that finds a VNFC that did not exist at t0
  RUNNING in the record; reaction = t1 - t0.
- From the SCALED_OUT decision recorded after t0: ``holding_since`` (when the
  auto-scaler first saw the condition hold), its time (the launch) and its
  operation, whose end by nubo's clock is printed too.
- Then the load of every VNFC goes to 0 and the round waits until the VNF is
  back to one VNFC (printed as ``back to 1``).

Medians and max; the target (reaction within period + 2 s) is marked met or not
met by the median.

Sampler cost: ``MetricSampler.run_once`` called directly, the background
sampling loop stopped, auto-scaling and fault management off. The CPU time of
this whole process (``time.process_time``: every thread, so the Docker stats
worker threads too) is read around each call; ``--cost-rounds`` calls after one
warm-up call. Per 100 VNFCs = per call x 100 / VNFCs sampled; percent of one
core at a 5 s interval = CPU seconds per call per 100 VNFCs / 5 x 100.

- fake VIM (in-memory): ``--fake-ns`` SIPp NSs (examples/sipp, 2 VNFCs each,
  default 50: 100 VNFCs).
- Docker: ``--docker-vnfcs`` load NSs of one VNFC each at load 0 (default 100;
  fewer are extrapolated linearly to 100 and labelled so). The CPU of the
  host's Docker daemons (dockerd, containerd, the shims) during the calls is
  measured too and added: sampling makes them work (the stats API does; the
  kernel counters nubo reads for local containers do not). It includes
  anything else running on the host.

The targets, at the shipped sampling interval (printed): nubo's CPU under 5 %
of one core per 100 VNFCs, and on Docker nubo's and the daemons' together
under 3 %; marked met or not by the medians. Everything the run created on
Docker is terminated through nubo, then removed by its NS label, also on
failure.

    .venv/bin/python bench/autoscale.py                       # about 6 min
    .venv/bin/python bench/autoscale.py --only reaction --rounds 3 --period 3 --cooldown 6
    .venv/bin/python bench/autoscale.py --only fake,docker --cost-rounds 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import docker
from harness import poll, sweep_leftovers, terminate_all

from nubo.app import Nubo, build
from nubo.autoscale.decisions import Outcome
from nubo.model.metrics import Metric
from nubo.model.states import NsStatus, OpState, VnfcState
from nubo.monitor.sampler import SamplingReport
from nubo.settings import Settings
from nubo.testing import registry_with_fake
from nubo.vim.port import LABEL_NS

ROOT = Path(__file__).resolve().parent.parent
LOAD_NSD = ROOT / "examples" / "load" / "nsd.json"
SIPP_NSD = ROOT / "examples" / "sipp" / "nsd.json"
VNF = "load"
HIGH, LOW = 95, 0
#: the scale-in policy's alarm threshold in the example: below it the VNF is idle
IDLE_PERCENT = 20.0
TARGET_EXTRA_S = 2.0
#: the sampling interval a user gets, and the targets per 100 VNFCs sampled at it: nubo's
#: own CPU (any VIM), and on Docker nubo's plus the Docker daemons' together
TARGET_INTERVAL_S = Settings().metrics_interval
TARGET_CORE_PERCENT, TARGET_DOCKER_PERCENT = 5.0, 3.0
POLL = 0.05
PARTS = ("reaction", "fake", "docker")
FINAL = frozenset({OpState.COMPLETED, OpState.FAILED, OpState.ROLLED_BACK, OpState.FAILED_TEMP})
#: outcomes expected around a load step; others are noted with the round
ROUTINE = frozenset({Outcome.HOLDING, Outcome.NOT_HOLDING, Outcome.SCALED_OUT})
DAEMONS = ("dockerd", "containerd", "containerd-shim")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
T = TypeVar("T")


class Aborted(Exception):
    """A round could not go on; the remaining rounds are skipped."""


@dataclass
class Round:
    """What one load step measured (seconds from t0 unless said otherwise)."""

    n: int
    settle_s: float = 0.0
    exec_ms: float = 0.0
    holding_s: float | None = None
    decided_s: float | None = None
    op_done_s: float | None = None
    running_s: float | None = None
    op: str = ""
    back_s: float | None = None
    #: stats calls of the background sampler that failed between t0 and t1
    stats_failed: int = 0
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


@dataclass
class Cost:
    """Sampler cost on one VIM: one entry per measured ``run_once``."""

    vim: str
    vnfcs: list[int] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)
    daemons_s: list[float] = field(default_factory=list)
    failed: int = 0
    warmup: str = ""

    def per_100(self) -> list[float]:
        return [cpu * 100 / n for cpu, n in zip(self.cpu_s, self.vnfcs, strict=True) if n]


# -- Docker side (blocking; called through asyncio.to_thread) ---------------------------------
def step_load(client: docker.DockerClient, nsr_id: str, percent: int) -> tuple[float, float, int]:
    """``set-load`` in every running container of the NS: (wall, monotonic) right before, count."""
    boxes = client.containers.list(filters={"label": f"{LABEL_NS}={nsr_id}"})
    if not boxes:
        raise Aborted(f"no running container of NS {nsr_id}")
    wall, mono = time.time(), time.monotonic()
    for box in boxes:
        try:
            code, out = box.exec_run(["set-load", str(percent)])
        except docker.errors.APIError:  # removed by a scale-in right now
            continue
        if code != 0:
            raise Aborted(f"set-load {percent} in {box.name}: {out.decode(errors='replace')}")
    return wall, mono, len(boxes)


def daemon_cpu() -> float:
    """CPU seconds used so far by the host's Docker daemons visible in /proc (0 if none)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
            if not comm.startswith(DAEMONS):
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def others_running(client: docker.DockerClient, ours: list[str]) -> int:
    """Running containers on the host that belong to none of this run's NSs (not touched)."""
    boxes = client.containers.list()
    return sum(1 for box in boxes if box.labels.get(LABEL_NS) not in ours)


# -- nubo side ---------------------------------------------------------------------------------
@dataclass
class SamplerTally:
    """What the background sampling rounds reported, seen from outside the sampler."""

    rounds: int = 0
    rounds_failed: int = 0
    calls_failed: int = 0
    reasons: Counter[str] = field(default_factory=Counter)
    slowest_s: float = 0.0


def watch_sampler(app: Nubo) -> SamplerTally:
    """Wrap this instance's ``run_once`` (the loop calls it) to count its failures."""
    tally = SamplerTally()
    sampler = app.monitoring.sampler
    original = sampler.run_once

    async def observed() -> SamplingReport:
        report = await original()
        tally.rounds += 1
        tally.slowest_s = max(tally.slowest_s, report.seconds)
        if report.failed:
            tally.rounds_failed += 1
            tally.calls_failed += len(report.failed)
            tally.reasons.update(UUID.sub("<id>", r) for r in report.failed.values())
        return report

    sampler.run_once = observed  # type: ignore[method-assign]
    return tally


def load_descriptor(period: int | None, cooldown: int | None) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(LOAD_NSD.read_text())
    for policy in doc["vnfd"][0]["auto_scale_policy"]:
        if period is not None:
            policy["period"] = period
        if cooldown is not None:
            policy["cooldown"] = cooldown
    return doc


async def instantiate(app: Nubo, nsd_id: str, name: str, ns_ids: list[str]) -> str:
    nsr, op = await app.ns.instantiate(nsd_id, name=name)
    ns_ids.append(nsr.id)
    done = await app.runner.wait(op.id, timeout=120)
    if done.state != OpState.COMPLETED:
        raise SystemExit(f"instantiate of {name} ended {done.state.value}: {done.error}")
    return nsr.id


async def settle(app: Nubo, nsr_id: str, vnfr_id: str, timeout: float) -> float:
    """Wait until the VNF is idle at one VNFC and may scale at once; seconds waited."""
    started = time.monotonic()
    max_age = 3 * app.settings.metrics_interval

    async def quiet() -> bool | None:
        nsr = await app.ns.get(nsr_id)
        vnfcs = nsr.find_vnfr(vnfr_id).vnfcs()
        cooldown = app.autoscaling.scaler.cooldown_until(nsr_id, vnfr_id) or 0.0
        now = time.time()
        if (
            nsr.status != NsStatus.ACTIVE
            or len(vnfcs) != 1
            or vnfcs[0].state != VnfcState.RUNNING
            or await app.runner.locks.holder(nsr_id) is not None
            or app.autoscaling.scaler.scaling()
            or now < cooldown
        ):
            return None
        cpu = await app.monitoring.reader.latest(
            Metric.CPU_PERCENT, vnfr_id=vnfr_id, max_age=max_age, now=now
        )
        value = cpu.get(vnfcs[0].id)
        return True if value is not None and value <= IDLE_PERCENT else None

    if await poll(quiet, timeout, POLL) is None:
        raise Aborted(f"not settled (one idle VNFC, cooldown over) within {timeout:.0f} s")
    return time.monotonic() - started


async def one_round(
    app: Nubo,
    client: docker.DockerClient,
    nsr_id: str,
    vnfr_id: str,
    r: Round,
    timeout: float,
    tally: SamplerTally,
) -> None:
    r.settle_s = await settle(app, nsr_id, vnfr_id, timeout)
    before = {c.id for c in (await app.ns.get(nsr_id)).find_vnfr(vnfr_id).vnfcs()}
    failed_before = tally.calls_failed
    wall, t0, _ = await asyncio.to_thread(step_load, client, nsr_id, HIGH)
    r.exec_ms = (time.monotonic() - t0) * 1000

    async def new_running() -> float | None:
        vnfcs = (await app.ns.get(nsr_id)).find_vnfr(vnfr_id).vnfcs()
        fresh = [c for c in vnfcs if c.id not in before and c.state == VnfcState.RUNNING]
        return time.monotonic() - t0 if fresh else None

    r.running_s = await poll(new_running, timeout, POLL)
    r.stats_failed = tally.calls_failed - failed_before
    decisions = await app.autoscaling.decisions.list(nsr_id=nsr_id, since=wall, limit=500)
    outs = [d for d in decisions if d.outcome == Outcome.SCALED_OUT and d.time >= wall]
    if outs:
        first = min(outs, key=lambda d: d.time)
        r.decided_s = first.time - wall
        if first.holding_since is not None:
            r.holding_s = first.holding_since - wall
        r.op = first.op_id or "-"
        if first.op_id and r.running_s is not None:
            # the VNFC is RUNNING before its operation ends: wait for the end (after t1)
            op = await app.runner.wait(first.op_id, timeout=timeout)
            if op.state in FINAL:
                r.op_done_s = op.state_entered_time.timestamp() - wall
            r.op = f"{first.op_id[:8]} {op.state.value}"
    others = sorted({d.outcome.value for d in decisions if d.outcome not in ROUTINE})
    if others:
        r.notes.append(f"other outcomes recorded since t0: {', '.join(others)}")
    if r.running_s is None:
        raise Aborted(
            f"no new VNFC RUNNING within {timeout:.0f} s; decisions since the step: "
            + "; ".join(f"{d.outcome.value} {d.reason}" for d in reversed(decisions[:10]))
        )
    if len(outs) > 1:
        r.notes.append(f"{len(outs)} SCALED_OUT decisions since t0")
    started = time.monotonic()

    async def back_to_one() -> float | None:
        await asyncio.to_thread(step_load, client, nsr_id, LOW)  # the new VNFC too
        vnfcs = (await app.ns.get(nsr_id)).find_vnfr(vnfr_id).vnfcs()
        if len(vnfcs) == 1 and await app.runner.locks.holder(nsr_id) is None:
            return time.monotonic() - started
        await asyncio.sleep(0.5)
        return None

    r.back_s = await poll(back_to_one, 2 * timeout, POLL)
    if r.back_s is None:
        raise Aborted(f"not back to one VNFC within {2 * timeout:.0f} s")


async def reaction(args: argparse.Namespace, data_dir: Path, ns_ids: list[str]) -> list[Round]:
    settings = Settings(
        data_dir=data_dir,
        start_timeout=30,
        op_timeout=120,
        fault_management=False,
        metrics_interval=args.metrics_interval,
        autoscale_interval=args.autoscale_interval,
    )
    app = build(settings)
    client = docker.from_env()
    await app.start()
    tally = watch_sampler(app)
    first_ns = len(ns_ids)
    rounds: list[Round] = []
    try:
        doc = load_descriptor(args.period, args.cooldown)
        policies = doc["vnfd"][0]["auto_scale_policy"]
        period = max(p["period"] for p in policies)
        entry = await app.catalogue.onboard(doc)
        nsr_id = await instantiate(app, entry.id, "bench-autoscale", ns_ids)
        vnfr_id = (await app.ns.get(nsr_id)).vnfr_by_name(VNF).id
        print(
            "policies: "
            + ", ".join(
                f"{p['name']} period {p['period']} s cooldown {p['cooldown']} s" for p in policies
            )
            + f"; metrics_interval {args.metrics_interval:g} s,"
            f" autoscale_interval {args.autoscale_interval:g} s;"
            f" other running containers on the host: {others_running(client, ns_ids)}",
            flush=True,
        )
        timeout = period + max(p["cooldown"] for p in policies) + 60
        for n in range(1, args.rounds + 1):
            r = Round(n)
            rounds.append(r)
            try:
                await one_round(app, client, nsr_id, vnfr_id, r, timeout, tally)
            except Aborted as exc:
                r.failures.append(str(exc))
                print_round(r)
                print("aborting the remaining rounds", flush=True)
                break
            print_round(r)
        print_reaction(rounds, period)
    finally:
        print_tally(tally, app.monitoring.sampler.timeout)
        try:
            await terminate_all(app, ns_ids[first_ns:])
        except Exception as exc:  # the label sweep in main() still cleans up
            print(f"WARNING: terminate through nubo failed: {exc!r}", flush=True)
        await app.stop()
        client.close()
    return rounds


# -- sampler cost ------------------------------------------------------------------------------
async def measure(app: Nubo, cost: Cost, rounds: int, pause: float) -> None:
    """One warm-up ``run_once``, then ``rounds`` measured ones, ``pause`` seconds apart."""
    await app.monitoring.stop()  # the loop must not sample in between
    sampler = app.monitoring.sampler
    started = time.perf_counter()
    warm = await sampler.run_once()
    cost.warmup = (
        f"{warm.vnfcs} VNFCs, {warm.samples} samples, {len(warm.failed)} failed,"
        f" {time.perf_counter() - started:.3f} s"
    )
    for _ in range(rounds):
        await asyncio.sleep(pause)
        daemons = daemon_cpu()
        cpu, wall = time.process_time(), time.perf_counter()
        report = await sampler.run_once()
        cost.cpu_s.append(time.process_time() - cpu)
        cost.wall_s.append(time.perf_counter() - wall)
        cost.daemons_s.append(daemon_cpu() - daemons)
        cost.vnfcs.append(report.vnfcs)
        cost.failed += len(report.failed)


def cost_settings(data_dir: Path, vim_type: str) -> Settings:
    return Settings(
        data_dir=data_dir,
        default_vim_type=vim_type,
        start_timeout=30,
        op_timeout=120,
        fault_management=False,
        autoscaling=False,
        metrics_interval=TARGET_INTERVAL_S,
    )


async def cost_fake(args: argparse.Namespace, data_dir: Path) -> Cost:
    app = build(cost_settings(data_dir, "fake"), registry=registry_with_fake())
    await app.start()
    cost = Cost(f"fake, {args.fake_ns} SIPp NSs")
    try:
        entry = await app.catalogue.onboard(SIPP_NSD.read_bytes())
        ns_ids: list[str] = []
        for i in range(args.fake_ns):
            await instantiate(app, entry.id, f"bench-sampler-{i}", ns_ids)
        for i, nsr in enumerate(await app.ns.list()):
            driver: Any = await app.vims.driver(nsr.vim_id)
            for j, vnfc in enumerate(nsr.all_vnfcs()):
                # values as a busy service would report; the cost does not depend on them
                driver.set_load(
                    vnfc.vc_id, cpu_percent=(7 * i + 13 * j) % 100, memory_bytes=1 << 26
                )
        await measure(app, cost, args.cost_rounds, args.cost_pause)
    finally:
        await app.stop()
    return cost


async def cost_docker(args: argparse.Namespace, data_dir: Path, ns_ids: list[str]) -> Cost:
    app = build(cost_settings(data_dir, "docker"))
    client = docker.from_env()
    await app.start()
    cost = Cost(f"Docker, {args.docker_vnfcs} load NSs at load 0")
    first_ns = len(ns_ids)
    try:
        entry = await app.catalogue.onboard(load_descriptor(None, None))
        started = time.monotonic()
        for i in range(args.docker_vnfcs):
            await instantiate(app, entry.id, f"bench-sampler-{i}", ns_ids)
        print(
            f"Docker: {args.docker_vnfcs} load NSs ACTIVE in {time.monotonic() - started:.1f} s;"
            f" other running containers on the host: {others_running(client, ns_ids)}",
            flush=True,
        )
        await measure(app, cost, args.cost_rounds, args.cost_pause)
    finally:
        try:
            await terminate_all(app, ns_ids[first_ns:])
        except Exception as exc:
            print(f"WARNING: terminate through nubo failed: {exc!r}", flush=True)
        await app.stop()
        client.close()
    return cost


# -- output --------------------------------------------------------------------------------
def _s(value: float | None) -> str:
    return "     -" if value is None else f"{value:6.2f}"


def print_round(r: Round) -> None:
    print(
        f"#{r.n:<2} settle {r.settle_s:5.1f} s | exec {r.exec_ms:4.0f} ms"
        f" | holding {_s(r.holding_s)} decided {_s(r.decided_s)} op done {_s(r.op_done_s)}"
        f" | new VNFC RUNNING {_s(r.running_s)} s (op {r.op or '-'})"
        f" | back to 1 after {_s(r.back_s)} s | failed stats calls t0-t1 {r.stats_failed}",
        flush=True,
    )
    for failure in r.failures:
        print(f"    FAILURE: {failure}", flush=True)
    for note in r.notes:
        print(f"    note: {note}", flush=True)


def _median_max(values: list[float]) -> str:
    if not values:
        return "      -        -"
    return f"{statistics.median(values):7.2f}  {max(values):7.2f}"


def print_reaction(rounds: list[Round], period: int) -> None:
    target = period + TARGET_EXTRA_S
    print()
    print("reaction, seconds from the load step (t0)   median      max")
    rows = [
        ("condition seen holding (holding_since)", [r.holding_s for r in rounds]),
        ("scale-out decided and launched", [r.decided_s for r in rounds]),
        ("scale-out op ended (nubo's clock)", [r.op_done_s for r in rounds]),
        ("new VNFC RUNNING (reaction)", [r.running_s for r in rounds]),
    ]
    for name, got in rows:
        print(f"  {name:40} {_median_max([v for v in got if v is not None])}")
    done = [r.running_s for r in rounds if r.running_s is not None]
    if done:
        median = statistics.median(done)
        mark = "met" if median <= target else "NOT MET"
        print(
            f"target: reaction within period + 2 s = {target:g} s: {mark} (median {median:.2f} s)"
        )
    else:
        print(f"target: reaction within period + 2 s = {target:g} s: NOT MET (no data)")
    print(f"rounds with a failure: {sum(1 for r in rounds if r.failures)} of {len(rounds)}")


def print_tally(tally: SamplerTally, timeout: float) -> None:
    reasons = "; ".join(f"{n} x {why}" for why, n in tally.reasons.most_common(5)) or "-"
    print(
        f"background sampling during the reaction part: {tally.rounds} rounds,"
        f" {tally.rounds_failed} with failed stats calls ({tally.calls_failed} calls: {reasons});"
        f" slowest round {tally.slowest_s:.2f} s; sampler per-call timeout"
        f" {timeout:g} s",
        flush=True,
    )


def print_costs(costs: list[Cost]) -> None:
    print()
    print(
        "sampler cost per run_once (medians): VIM | VNFCs | CPU ms | wall ms"
        f" | CPU ms per 100 VNFCs | % of one core, 100 VNFCs every {TARGET_INTERVAL_S:g} s"
        " (the shipped interval) | target"
    )
    for cost in costs:
        if not cost.cpu_s:
            print(f"  {cost.vim}: no data")
            continue
        vnfcs = statistics.median(cost.vnfcs)
        cpu, wall = statistics.median(cost.cpu_s), statistics.median(cost.wall_s)
        per_100 = statistics.median(cost.per_100())
        percent = per_100 / TARGET_INTERVAL_S * 100
        mark = "met" if percent < TARGET_CORE_PERCENT else "NOT MET"
        label = "" if vnfcs >= 100 else " EXTRAPOLATED linearly to 100 VNFCs"
        print(
            f"  {cost.vim}: {vnfcs:.0f} VNFCs | {cpu * 1000:7.1f} | {wall * 1000:7.1f}"
            f" | {per_100 * 1000:7.1f} | {percent:5.2f} %{label}"
            f" | < {TARGET_CORE_PERCENT:g} % {mark}"
        )
        print(
            f"      {len(cost.cpu_s)} rounds; CPU ms per round min/max"
            f" {min(cost.cpu_s) * 1000:.1f}/{max(cost.cpu_s) * 1000:.1f};"
            f" failed stats calls {cost.failed}; warm-up (not counted): {cost.warmup}"
        )
        if cost.vim.startswith("Docker"):
            daemons = statistics.median(cost.daemons_s)
            daemons_100 = daemons * 100 / max(vnfcs, 1)
            both = (per_100 + daemons_100) / TARGET_INTERVAL_S * 100
            mark = "met" if both < TARGET_DOCKER_PERCENT else "NOT MET"
            print(
                f"      Docker daemons' CPU during a call (host-wide): {daemons * 1000:.1f} ms,"
                f" {daemons_100 * 1000:.1f} ms per 100 VNFCs{label};"
                f" nubo and daemons together {both:.2f} % of one core"
                f" | < {TARGET_DOCKER_PERCENT:g} % {mark}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--only", default=",".join(PARTS), help="parts: reaction,fake,docker")
    parser.add_argument("--rounds", type=int, default=5, help="load steps (default 5)")
    parser.add_argument("--period", type=int, help="override every policy's period, seconds")
    parser.add_argument("--cooldown", type=int, help="override every policy's cooldown, seconds")
    parser.add_argument("--metrics-interval", type=float, default=1.0, help="seconds (default 1)")
    parser.add_argument("--autoscale-interval", type=float, default=1.0, help="seconds")
    parser.add_argument("--cost-rounds", type=int, default=20, help="measured run_once calls")
    parser.add_argument("--cost-pause", type=float, default=1.0, help="seconds between calls")
    parser.add_argument("--fake-ns", type=int, default=50, help="SIPp NSs on the fake VIM")
    parser.add_argument("--docker-vnfcs", type=int, default=100, help="load NSs on Docker")
    parser.add_argument("--log", type=Path, help="also write nubo's log to this file")
    args = parser.parse_args()
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    if not parts or set(parts) - set(PARTS):
        parser.error(f"--only takes a comma separated subset of {','.join(PARTS)}")
    if min(args.rounds, args.cost_rounds, args.fake_ns, args.docker_vnfcs) < 1:
        parser.error("--rounds, --cost-rounds, --fake-ns and --docker-vnfcs must be >= 1")
    if args.metrics_interval <= 0 or args.autoscale_interval <= 0:
        parser.error("intervals must be > 0")
    nubo_log = logging.getLogger("nubo")
    nubo_log.setLevel(logging.INFO)
    nubo_log.propagate = False
    nubo_log.addHandler(logging.NullHandler())
    if args.log:
        to_file = logging.FileHandler(args.log, mode="w")
        to_file.setFormatter(logging.Formatter("time=%(asctime)s level=%(levelname)s %(message)s"))
        nubo_log.addHandler(to_file)
    print(f"nubo autoscale benchmark: {', '.join(parts)}; {os.cpu_count()} CPUs", flush=True)
    ns_ids: list[str] = []
    rounds: list[Round] = []
    costs: list[Cost] = []
    try:
        if "reaction" in parts:
            with tempfile.TemporaryDirectory(prefix="nubo-bench-autoscale-") as tmp:
                rounds = asyncio.run(reaction(args, Path(tmp), ns_ids))
        if "fake" in parts:
            with tempfile.TemporaryDirectory(prefix="nubo-bench-sampler-") as tmp:
                costs.append(asyncio.run(cost_fake(args, Path(tmp))))
        if "docker" in parts:
            with tempfile.TemporaryDirectory(prefix="nubo-bench-sampler-") as tmp:
                costs.append(asyncio.run(cost_docker(args, Path(tmp), ns_ids)))
    finally:
        sweep_leftovers(ns_ids)
        if costs:
            print_costs(costs)
    if any(r.failures for r in rounds):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
