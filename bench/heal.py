"""Self-healing times of the SIPp NS against Docker's own restart policy, in the same run.

nubo runs in-process (real Docker VIM, SQLite store in a temporary directory,
fault management started as ``nubo serve`` starts it, shipped settings unless
``--interval`` is given; printed). The SIPp NS (examples/sipp) is
instantiated once and the client's first successful calls are awaited. Then,
``--kills`` times:

- ``crash`` (the default mode): a host ``kill -9`` of the init process of a
  VNFC's container, alternately the SIPp server's and the client's. The
  engine's restart policy brings it back in place; nubo alarms it and records
  a HEAL. In the same round the same kill hits a baseline: a plain container
  outside nubo with the victim's image, environment and networks and the same
  restart policy as nubo's containers (read from the victim), created fresh
  for the round (the two go in turns, first one then the other, alternating
  which goes first).
- ``kill``: ``docker kill`` of the server (a manual stop for the engine, which
  restarts nothing): nubo's healer restarts it in place. ``rm``: ``docker rm
  -f`` of the client: nubo re-creates it with the same address. Neither has a
  Docker baseline: the engine heals neither.

Times are differences of clocks, not polls: the kill time is taken right
before the call; Docker's times are the engine's event stamps (``die``,
``start``; ``destroy`` for rm); nubo's alarm time is the alarm's
``alarm_raised_time``, its healed time the later of the HEAL occurrence's end
and the last clear of the VNFC's alarms. A poll (20 ms) checks that nubo's
record says RUNNING with a COMPLETED HEAL, every alarm clear, and a running
container of the VNFC with the record's addresses, and after that the
client's successful call count grows again.

- healed: from the kill; ``docker`` is the baseline's ``start``, ``engine``
  the victim's own ``start`` (the engine's part of nubo's heal), ``nubo`` as
  above; ratio = nubo / docker (target <= 1.05, median).
- alarm: nubo's alarm after the engine's ``die`` of the victim (target
  <= 0.1 s, median).

Before each round the bench waits until the victim has run for 10 s (so the
engine's restart delay is its first, 0.1 s, as for the fresh baseline), the
healer holds no attempts for it, and the NS is ACTIVE, idle and alarm-free
(printed as ``settle``). The engine restarts a container at most 3 times per
start through its API (nubo's policy): a victim whose restarts are spent is
stopped and started through nubo (``stop_vnfc``, ``start_vnfc``) before its
next round, so that each round measures the engine's restart. Everything is
terminated through nubo and removed by label at the end.

    .venv/bin/python bench/heal.py                     # 10 crash kills, about 2 min
    .venv/bin/python bench/heal.py --mode all --kills 6
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import docker
from harness import poll, sweep_leftovers, terminate_all
from heal_parts import (
    VICTIMS,
    Aborted,
    EventLog,
    LogTally,
    Round,
    baseline_like,
    check_calls,
    kill_init,
    print_log,
    print_round,
    running_box,
    serving,
    strike,
)

from nubo.app import Nubo, build
from nubo.model.states import LcmOperationType, NsStatus, OpState, VnfcState
from nubo.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
NSD = ROOT / "examples" / "sipp" / "nsd.json"
TARGET_RATIO, TARGET_ALARM_S = 1.05, 0.1
POLL = 0.02
#: the engine doubles its restart delay for a container that ran less than this
ENGINE_RESET_S = 10.5


async def settle(app: Nubo, client: Any, nsr_id: str, vnfc_id: str, timeout: float) -> float:
    """Wait until the victim has run 10 s, the healer forgot it and the NS is quiet."""
    started = time.monotonic()

    async def quiet() -> bool | None:
        nsr = await app.ns.get(nsr_id)
        ok = (
            app.fault.healer.attempts(vnfc_id) == 0
            and nsr.status == NsStatus.ACTIVE
            and await app.runner.locks.holder(nsr_id) is None
            and all(c.state == VnfcState.RUNNING for c in nsr.all_vnfcs())
            and not await app.fault.alarms.list(active_only=True, nsr_id=nsr_id)
        )
        if not ok:
            return None
        box = await asyncio.to_thread(running_box, client, vnfc_id)
        since = datetime.fromisoformat(box.attrs["State"]["StartedAt"].replace("Z", "+00:00"))
        return True if time.time() - since.timestamp() >= ENGINE_RESET_S else None

    if await poll(quiet, timeout, 0.1) is None:
        left = app.fault.healer.attempts(vnfc_id)
        raise Aborted(f"not settled within {timeout:.0f} s (healer attempts {left})")
    return time.monotonic() - started


async def baseline_round(client: Any, events: EventLog, victim: Any, r: Round, t: float) -> None:
    """The same kill on a plain container with the victim's image, env, networks and policy."""
    box = await asyncio.to_thread(baseline_like, client, victim, r.n)
    try:
        await asyncio.to_thread(events.wait_for, box.id, "start", 0.0, t)
        await asyncio.sleep(0.5)  # let it settle as the victim has
        killed = await asyncio.to_thread(kill_init, box)
        started = await asyncio.to_thread(events.wait_for, box.id, "start", killed, t)
        if started is None:
            raise Aborted(f"the baseline was not restarted by the engine within {t:.0f} s")
        r.docker_s = started - killed
    finally:
        await asyncio.to_thread(box.remove, force=True)


async def nubo_round(
    app: Nubo, client: Any, events: EventLog, nsr_id: str, r: Round, t: float
) -> None:
    """Strike nubo's victim; the alarm after the engine's event, and when nubo says healed."""
    nsr = await app.ns.get(nsr_id)
    target = nsr.vnfr_by_name(r.vnf).vnfcs()[0]
    before = {o.id for o in await app.ns.operations(nsr_id)}
    addresses = dict(target.addresses)
    box = await asyncio.to_thread(running_box, client, target.id)
    killed = await asyncio.to_thread(strike, box, r.mode)
    gone = await asyncio.to_thread(
        events.wait_for, box.id, "destroy" if r.mode == "rm" else "die", killed, t
    )
    if gone is None:
        raise Aborted("the engine told no end of the victim")
    r.event_s = gone - killed

    async def alarmed() -> float | None:
        mine = [a for a in await app.fault.alarms.list(nsr_id=nsr_id) if a.vnfc_id == target.id]
        stamps = [a.alarm_raised_time.timestamp() for a in mine]
        new = [s for s in stamps if s >= killed]
        return min(new) - gone if new else None

    r.alarm_s = await poll(alarmed, t, POLL)
    if r.alarm_s is None:
        raise Aborted(f"no alarm within {t:.0f} s")

    async def healed() -> float | None:
        vnfc = (await app.ns.get(nsr_id)).find_vnfc(target.id)[2]
        ops = [
            o
            for o in await app.ns.operations(nsr_id)
            if o.id not in before
            and o.operation == LcmOperationType.HEAL
            and o.params.get("vnfcInstanceId") == target.id
        ]
        done = [o for o in ops if o.state == OpState.COMPLETED]
        alarms = [a for a in await app.fault.alarms.list(nsr_id=nsr_id) if a.vnfc_id == target.id]
        if vnfc.state != VnfcState.RUNNING or vnfc.addresses != addresses or not done:
            return None
        if any(a.active for a in alarms):
            return None
        box_id = await asyncio.to_thread(serving, client, vnfc)
        if box_id is None:
            return None
        ends = [o.state_entered_time.timestamp() for o in done]
        ends += [a.alarm_cleared_time.timestamp() for a in alarms if a.alarm_cleared_time]
        by_vim = done[-1].params.get("restartedBy") == "VIM"
        r.how += "engine" if by_vim else ("nubo in place" if box_id == box.id else "re-created")
        if len(ops) > 1:
            r.how += f", {len(ops)} heal ops {[o.state.value for o in ops]}"
        return max(e for e in ends if e >= killed) - killed

    r.nubo_s = await poll(healed, t, POLL)
    if r.nubo_s is None:
        raise Aborted(f"not healed within {t:.0f} s")
    if r.mode == "crash":
        started = await asyncio.to_thread(events.wait_for, box.id, "start", killed, 1.0)
        r.engine_s = None if started is None else started - killed


async def one_round(
    app: Nubo, client: Any, events: EventLog, nsr_id: str, r: Round, args: argparse.Namespace
) -> None:
    nsr = await app.ns.get(nsr_id)
    target = nsr.vnfr_by_name(r.vnf).vnfcs()[0]
    client_id = nsr.vnfr_by_name("sipp-client").vnfcs()[0].id
    limit = app.fault.healer.stable_after + ENGINE_RESET_S + 15
    box = await asyncio.to_thread(running_box, client, target.id)
    retries = int(box.attrs["HostConfig"]["RestartPolicy"].get("MaximumRetryCount") or 0)
    if r.mode == "crash" and retries and box.attrs["RestartCount"] >= retries:
        await restart_through_nubo(app, nsr_id, target.id)
        r.how = "after a stop and start through nubo; "
    r.settle_s = await settle(app, client, nsr_id, target.id, limit)
    victim = await asyncio.to_thread(running_box, client, target.id)
    r.policy = victim.attrs["HostConfig"]["RestartPolicy"]
    if r.mode == "crash" and r.n % 2 == 1:
        await baseline_round(client, events, victim, r, args.timeout)
    await nubo_round(app, client, events, nsr_id, r, args.timeout)
    if r.mode == "crash" and r.n % 2 == 0:
        await asyncio.sleep(1.0)  # nubo's record and alarm are done: the host is quiet again
        await baseline_round(client, events, victim, r, args.timeout)
    await check_calls(app, client, nsr_id, client_id, r, r.vnf == "sipp-client", args)


async def restart_through_nubo(app: Nubo, nsr_id: str, vnfc_id: str) -> None:
    """Stop and start the VNFC through nubo: the engine counts its restarts from there."""
    nsr = await app.ns.get(nsr_id)
    vnfr, vdu, _ = nsr.find_vnfc(vnfc_id)
    for action in (app.ns.stop_vnfc, app.ns.start_vnfc):
        op = await action(nsr_id, vnfr.id, vdu.id, vnfc_id)
        done = await app.runner.wait(op.id, timeout=60)
        if done.state != OpState.COMPLETED:
            raise Aborted(f"{done.operation.value} through nubo failed: {done.error}")


def modes_of(args: argparse.Namespace) -> list[str]:
    if args.mode == "all":
        return ["crash"] * args.kills + ["kill", "rm"]
    return [args.mode] * args.kills


async def run(args: argparse.Namespace, data_dir: Path, ns_ids: list[str]) -> list[Round]:
    overrides = {"fault_interval": args.interval} if args.interval else {}
    settings = Settings(data_dir=data_dir, start_timeout=30, op_timeout=120, **overrides)
    app = build(settings)
    client = docker.from_env()
    events = EventLog(docker.from_env())
    await app.start()
    healer = app.fault.healer
    print(
        f"settings: fault_interval {settings.fault_interval:g} s, healer stable_after"
        f" {healer.stable_after:g} s, waits for the engine's restart {healer.vim_restart_wait:g} s"
        f" (VIM_RESTART_WAIT), heal policy default (3 attempts, backoff 0.5 s doubling)",
        flush=True,
    )
    rounds: list[Round] = []
    try:
        entry = await app.catalogue.onboard(NSD.read_bytes())
        nsr, op = await app.ns.instantiate(entry.id, name="bench-heal")
        ns_ids.append(nsr.id)
        done = await app.runner.wait(op.id, timeout=120)
        if done.state != OpState.COMPLETED:
            raise SystemExit(f"instantiate failed: {done.error}")
        nsr = await app.ns.get(nsr.id)
        first = Round(0, "-", "sipp-client")
        client_id = nsr.vnfr_by_name("sipp-client").vnfcs()[0].id
        await check_calls(app, client, nsr.id, client_id, first, True, args)
        if first.failures:
            raise SystemExit(f"the SIPp client makes no calls: {first.failures}")
        policy = (await asyncio.to_thread(running_box, client, client_id)).attrs["HostConfig"]
        print(f"NS {nsr.id} ACTIVE, calls flow; restart policy {policy['RestartPolicy']}")
        for n, mode in enumerate(modes_of(args), start=1):
            vnf = VICTIMS[(n - 1) % 2] if mode == "crash" else VICTIMS[mode == "rm"]
            r = Round(n, mode, vnf)
            rounds.append(r)
            try:
                await one_round(app, client, events, nsr.id, r, args)
            except Aborted as exc:
                r.failures.append(str(exc))
                print_round(r)
                print("aborting the remaining kills", flush=True)
                break
            print_round(r)
    finally:
        try:
            await terminate_all(app, ns_ids, report=True)
        except Exception as exc:  # the label sweep in main() still cleans up
            print(f"WARNING: terminate through nubo failed: {exc!r}", flush=True)
        await app.stop()
        events.close()
        client.close()
    return rounds


def _line(name: str, values: list[float], unit: str = " s") -> str:
    if not values:
        return f"  {name:34} -"
    med, most = statistics.median(values), max(values)
    return f"  {name:34} median {med:7.3f}{unit}  max {most:7.3f}{unit}  (n={len(values)})"


def print_summary(rounds: list[Round]) -> None:
    print()
    crash = [r for r in rounds if r.mode == "crash" and not r.failures]
    docker_s = [r.docker_s for r in crash if r.docker_s is not None]
    nubo_s = [r.nubo_s for r in crash if r.nubo_s is not None]
    print("crash (host kill -9 of the container's init), healed from the kill:")
    print(_line("Docker restart policy (baseline)", docker_s))
    print(_line("engine's restart of nubo's VNFC", [r.engine_s for r in crash if r.engine_s]))
    print(_line("nubo (record RUNNING, HEAL, clear)", nubo_s))
    own = [r.nubo_s - r.engine_s for r in crash if r.nubo_s and r.engine_s]
    print(_line("nubo's part, after the engine's start", own))
    ratios = [r.nubo_s / r.docker_s for r in crash if r.nubo_s and r.docker_s]
    print(_line("ratio nubo / Docker, per round", ratios, ""))
    if docker_s and nubo_s:
        ratio = statistics.median(nubo_s) / statistics.median(docker_s)
        verdict = "met" if ratio <= TARGET_RATIO else "NOT MET"
        print(f"  ratio of the medians {ratio:.3f} (target <= {TARGET_RATIO}: {verdict})")
    alarm = [r.alarm_s for r in crash if r.alarm_s is not None]
    print(_line("alarm after the engine's die", alarm))
    if alarm:
        verdict = "met" if statistics.median(alarm) <= TARGET_ALARM_S else "NOT MET"
        print(f"  alarm target <= {TARGET_ALARM_S} s (median): {verdict}")
    for mode in ("kill", "rm"):
        done = [r for r in rounds if r.mode == mode and not r.failures]
        if done:
            print(f"{mode} (nubo's own heal; no Docker baseline):")
            print(_line("healed from the kill", [r.nubo_s for r in done if r.nubo_s]))
            print(_line("alarm after the engine's event", [r.alarm_s for r in done if r.alarm_s]))
    failed = [r for r in rounds if r.failures]
    print(f"rounds with a failure: {len(failed)} of {len(rounds)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--kills", type=int, default=10, help="crash kills (default 10)")
    parser.add_argument("--mode", choices=["crash", "kill", "rm", "all"], default="crash")
    parser.add_argument("--interval", type=float, help="fault_interval (default: shipped)")
    parser.add_argument("--timeout", type=float, default=30.0, help="per alarm and heal wait")
    parser.add_argument("--calls-timeout", type=float, default=30.0)
    parser.add_argument("--log", type=Path, help="also write nubo's log to this file")
    args = parser.parse_args()
    if args.kills < 1 or (args.interval is not None and args.interval <= 0):
        parser.error("--kills must be >= 1 and --interval > 0")
    tally = LogTally.install(args.log)
    print(f"nubo heal benchmark: mode {args.mode}, {args.kills} kills", flush=True)
    ns_ids: list[str] = []
    rounds: list[Round] = []
    try:
        with tempfile.TemporaryDirectory(prefix="nubo-bench-heal-") as tmp:
            rounds = asyncio.run(run(args, Path(tmp), ns_ids))
    finally:
        sweep_leftovers(ns_ids)
        if rounds:
            print_summary(rounds)
        print_log(tally)
    if any(r.failures for r in rounds):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
