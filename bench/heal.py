"""Self-healing times: a SIPp VNFC killed or removed, until it is alarmed and until it is healed.

nubo runs in-process (real Docker VIM, SQLite store in a temporary directory,
fault management started as ``nubo serve`` starts it, ``--interval`` for the
periodic pass). The SIPp NS (examples/sipp) is instantiated once, and the
client's first successful calls are awaited. Then, ``--kills`` times:

- ``kill``: ``docker kill`` of the SIPp server container (a crash; healed by a
  restart in place); ``rm``: ``docker rm -f`` of the SIPp client container (it
  vanishes; healed by re-creating it with the same address). ``--mode both``
  alternates them, starting with ``kill``.
- The kill time is taken (wall clock and monotonic) in the Docker call's thread
  right before the call; the time the call returned is recorded too.
- alarm: ``alarm_raised_time`` of the first alarm raised on that VNFC after the
  kill (nubo's wall clock), minus the kill time.
- healed: the first poll (every 20 ms) that finds the VNFC's record RUNNING, a
  HEAL operation of that VNFC launched after the kill COMPLETED, every alarm of
  the VNFC cleared, and a running container of that VNFC server whose addresses
  are the record's (which were those before the kill); minus the kill time. The
  same from nubo's own clocks (the later of the operation's end and the last
  alarm clear) is printed next to it.
- calls: after the heal, the client's ``sipp-stats`` successful count must
  grow again within ``--calls-timeout`` (from zero for a re-created client);
  a failure is reported otherwise.

The healer counts heal attempts per VNFC and forgets them only once the VNFC has
stayed healthy for ``stable_after`` seconds (10 s); a second death inside that
window waits a backoff, and after ``max_attempts`` the healer gives up
(HEAL_FAILED). So before each kill this benchmark waits (bounded) until the
healer holds no attempts for the VNFC it is about to kill, the NS is ACTIVE,
idle, and has no active alarm; that wait is printed as ``settle``.

At the end: medians, p95 and max per mode and overall, and the targets (alarm
within 1 s, healed within 3 s) marked met or not met by the medians. Everything
the run created is terminated through nubo, then removed by its NS label.

    .venv/bin/python bench/heal.py --kills 10 --mode both
    .venv/bin/python bench/heal.py --kills 4 --mode kill --interval 0.5
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import re
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import docker
from harness import poll, sweep_leftovers, terminate_all

from nubo.app import Nubo, build
from nubo.model.records import VnfcInstance
from nubo.model.states import LcmOperationType, NsStatus, OpState, VnfcState
from nubo.settings import Settings
from nubo.vim.port import LABEL_SERVER, LABEL_VNFC

ROOT = Path(__file__).resolve().parent.parent
NSD = ROOT / "examples" / "sipp" / "nsd.json"
TARGET_ALARM_S, TARGET_HEALED_S = 1.0, 3.0
POLL = 0.02
STATS = re.compile(r"successful=(\d+) failed=(\d+)")
#: which VNF each mode hits
VICTIM = {"kill": "sipp-server", "rm": "sipp-client"}
FINAL = frozenset({OpState.COMPLETED, OpState.FAILED, OpState.ROLLED_BACK, OpState.FAILED_TEMP})
T = TypeVar("T")


class Aborted(Exception):
    """A round could not go on; the remaining kills are skipped."""


@dataclass
class Round:
    """What one kill measured."""

    n: int
    mode: str
    vnf: str
    settle_s: float = 0.0
    call_s: float = 0.0
    alarm_s: float | None = None
    causes: list[str] = field(default_factory=list)
    healed_s: float | None = None
    healed_nubo_s: float | None = None
    how: str = ""
    calls: str = ""
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class LogTally(logging.Handler):
    """Counts nubo's log records by level and event; keeps the text of errors."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.counts: Counter[tuple[str, str]] = Counter()
        self.errors: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        event = record.getMessage().split(" ", 1)[0]
        self.counts[(record.levelname, event)] += 1
        if record.levelno >= logging.ERROR:
            self.errors.append(self.format(record))


# -- Docker side (blocking; called through asyncio.to_thread) ---------------------------------
def running_box(client: docker.DockerClient, vnfc_id: str) -> Any:
    found = client.containers.list(filters={"label": f"{LABEL_VNFC}={vnfc_id}"})
    if len(found) != 1:
        raise Aborted(f"expected one running container of VNFC {vnfc_id}, found {len(found)}")
    return found[0]


def strike(box: Any, mode: str) -> tuple[datetime, float, float]:
    """Kill or remove the container: (wall and monotonic time right before, monotonic after)."""
    wall, before = datetime.now(UTC), time.monotonic()
    if mode == "kill":
        box.kill()
    else:
        box.remove(force=True)
    return wall, before, time.monotonic()


def serving(client: docker.DockerClient, vnfc: VnfcInstance) -> str | None:
    """The id of the running container of the VNFC's server, when its addresses are the record's."""
    label = f"{LABEL_SERVER}={vnfc.vc_id}"
    for box in client.containers.list(filters={"label": label}):
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


# -- nubo side ---------------------------------------------------------------------------------
async def vnfc_of(app: Nubo, nsr_id: str, vnfc_id: str) -> VnfcInstance:
    return (await app.ns.get(nsr_id)).find_vnfc(vnfc_id)[2]


async def settle(app: Nubo, nsr_id: str, vnfc_id: str, timeout: float) -> float:
    """Wait until the healer holds no attempts for the VNFC and the NS is quiet; seconds waited."""
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
        return True if ok else None

    if await poll(quiet, timeout, POLL) is None:
        left = app.fault.healer.attempts(vnfc_id)
        raise Aborted(f"not settled within {timeout:.0f} s (healer attempts {left})")
    return time.monotonic() - started


async def one_round(
    app: Nubo, client: docker.DockerClient, nsr_id: str, r: Round, args: argparse.Namespace
) -> None:
    nsr = await app.ns.get(nsr_id)
    target = nsr.vnfr_by_name(r.vnf).vnfcs()[0]
    client_id = nsr.vnfr_by_name("sipp-client").vnfcs()[0].id
    settle_limit = app.fault.healer.stable_after + 3 * args.interval + 15
    r.settle_s = await settle(app, nsr_id, target.id, settle_limit)
    before_ops = {o.id for o in await app.ns.operations(nsr_id)}
    addresses = dict(target.addresses)
    box = await asyncio.to_thread(running_box, client, target.id)
    wall, killed, returned = await asyncio.to_thread(strike, box, r.mode)
    r.call_s = returned - killed

    async def alarmed() -> float | None:
        mine = [
            a
            for a in await app.fault.alarms.list(nsr_id=nsr_id)
            if a.vnfc_id == target.id and a.alarm_raised_time >= wall
        ]
        if not mine:
            return None
        r.causes = [a.probable_cause.value for a in sorted(mine, key=lambda a: a.alarm_raised_time)]
        return min(a.alarm_raised_time for a in mine).timestamp() - wall.timestamp()

    r.alarm_s = await poll(alarmed, args.timeout, POLL)
    if r.alarm_s is None:
        raise Aborted(f"no alarm within {args.timeout:.0f} s")

    async def healed() -> float | None:
        vnfc = await vnfc_of(app, nsr_id, target.id)
        ops = [
            o
            for o in await app.ns.operations(nsr_id)
            if o.id not in before_ops
            and o.operation == LcmOperationType.HEAL
            and o.params.get("vnfcInstanceId") == target.id
        ]
        done = [o for o in ops if o.state == OpState.COMPLETED]
        alarms = [a for a in await app.fault.alarms.list(nsr_id=nsr_id) if a.vnfc_id == target.id]
        mine = [a for a in alarms if a.alarm_raised_time >= wall]
        if (
            vnfc.state != VnfcState.RUNNING
            or vnfc.addresses != addresses
            or not done
            or any(a.active for a in alarms)
        ):
            return None
        box_id = await asyncio.to_thread(serving, client, vnfc)
        if box_id is None:
            return None
        seen = time.monotonic() - killed
        ends = [o.state_entered_time for o in done] + [
            a.alarm_cleared_time for a in mine if a.alarm_cleared_time
        ]
        r.healed_nubo_s = max(ends).timestamp() - wall.timestamp()
        r.how = "in place" if box_id == box.id else "re-created"
        failed = [o.state.value for o in ops if o.state in FINAL and o.state != OpState.COMPLETED]
        if len(ops) > 1 or failed:
            r.how += f", {len(ops)} heal ops {[o.state.value for o in ops]}"
        return seen

    r.healed_s = await poll(healed, args.timeout, POLL)
    if r.healed_s is None:
        vnfc = await vnfc_of(app, nsr_id, target.id)
        ops = [o.state.value for o in await app.ns.operations(nsr_id) if o.id not in before_ops]
        active = [a.probable_cause.value for a in await app.fault.alarms.list(True, nsr_id)]
        raise Aborted(
            f"not healed within {args.timeout:.0f} s: VNFC {vnfc.state.value}, new ops {ops},"
            f" active alarms {active}"
        )
    await check_calls(app, client, nsr_id, client_id, r, fresh=r.vnf == "sipp-client", args=args)
    others = [
        f"{a.probable_cause.value} on VNFC {a.vnfc_id or a.managed_object_id}"
        for a in await app.fault.alarms.list(nsr_id=nsr_id)
        if a.vnfc_id != target.id and a.alarm_raised_time >= wall
    ]
    if others:
        r.notes.append(f"alarms on other objects since the kill: {others}")


async def check_calls(
    app: Nubo,
    client: docker.DockerClient,
    nsr_id: str,
    client_id: str,
    r: Round,
    *,
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


async def run(args: argparse.Namespace, data_dir: Path, ns_ids: list[str]) -> list[Round]:
    settings = Settings(
        data_dir=data_dir, fault_interval=args.interval, start_timeout=30, op_timeout=120
    )
    app = build(settings)
    client = docker.from_env()
    await app.start()
    print(f"healer forgets attempts after {app.fault.healer.stable_after:g} s healthy", flush=True)
    rounds: list[Round] = []
    try:
        entry = await app.catalogue.onboard(NSD.read_bytes())
        nsr, op = await app.ns.instantiate(entry.id, name="bench-heal")
        ns_ids.append(nsr.id)
        done = await app.runner.wait(op.id, timeout=120)
        if done.state != OpState.COMPLETED:
            raise SystemExit(f"instantiate failed: {done.error}")
        nsr = await app.ns.get(nsr.id)
        print(f"NS {nsr.id} ACTIVE; waiting for the first SIP calls", flush=True)
        first = Round(0, "-", "sipp-client")
        client_id = nsr.vnfr_by_name("sipp-client").vnfcs()[0].id
        await check_calls(app, client, nsr.id, client_id, first, fresh=True, args=args)
        if first.failures:
            raise SystemExit(f"the SIPp client makes no calls: {first.failures}")
        modes = ["kill", "rm"] if args.mode == "both" else [args.mode]
        for n in range(1, args.kills + 1):
            mode = modes[(n - 1) % len(modes)]
            r = Round(n, mode, VICTIM[mode])
            rounds.append(r)
            try:
                await one_round(app, client, nsr.id, r, args)
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
        client.close()
    return rounds


# -- output --------------------------------------------------------------------------------
def _s(value: float | None) -> str:
    return "   -   " if value is None else f"{value:7.3f}"


def print_round(r: Round) -> None:
    causes = "+".join(r.causes) or "-"
    line = (
        f"#{r.n:<2} {r.mode:4} {r.vnf:11} settle {r.settle_s:5.1f} s"
        f" | call {r.call_s * 1000:4.0f} ms"
        f" | alarm {_s(r.alarm_s)} s {causes:27} | healed {_s(r.healed_s)} s"
        f" (nubo {_s(r.healed_nubo_s).strip()} s, {r.how or '-'}) | {r.calls or '-'}"
    )
    print(line, flush=True)
    for failure in r.failures:
        print(f"    FAILURE: {failure}", flush=True)
    for note in r.notes:
        print(f"    note: {note}", flush=True)


def stats(values: list[float]) -> tuple[float, float, float] | None:
    if not values:
        return None
    p95 = (
        statistics.quantiles(values, n=20, method="inclusive")[18] if len(values) > 1 else values[0]
    )
    return statistics.median(values), p95, max(values)


def print_summary(rounds: list[Round]) -> None:
    groups = [(m, [r for r in rounds if r.mode == m]) for m in ("kill", "rm")]
    groups = [(m, rs) for m, rs in groups if rs] + [("all", rounds)]
    print()
    print(
        f"{'':6}{'n':>3}   alarm median / p95 / max (s)   healed median / p95 / max (s)   targets"
    )
    for name, rs in groups:
        alarm = stats([r.alarm_s for r in rs if r.alarm_s is not None])
        heal = stats([r.healed_s for r in rs if r.healed_s is not None])
        cells = []
        for got in (alarm, heal):
            cells.append("  ".join(f"{v:7.3f}" for v in got) if got else f"{'-':>25}")
        marks = (
            f"alarm < {TARGET_ALARM_S:g} s {_met(alarm, TARGET_ALARM_S)},"
            f" healed < {TARGET_HEALED_S:g} s {_met(heal, TARGET_HEALED_S)}"
        )
        print(f"{name:6}{len(rs):>3}   {cells[0]}       {cells[1]}       {marks}")
    failed = [r for r in rounds if r.failures]
    print(f"kills with a failure: {len(failed)} of {len(rounds)}")


def _met(got: tuple[float, float, float] | None, target: float) -> str:
    if got is None:
        return "NOT MET (no data)"
    return "met" if got[0] < target else "NOT MET"


def print_log(tally: LogTally) -> None:
    print()
    print("nubo log records by level and event:")
    for (level, event), count in sorted(tally.counts.items()):
        print(f"  {level:8} {event:28} {count}")
    for error in tally.errors[:10]:
        print(f"  ERROR TEXT: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--kills", type=int, default=10, help="kills in all (default 10)")
    parser.add_argument("--mode", choices=["kill", "rm", "both"], default="both")
    parser.add_argument("--interval", type=float, default=1.0, help="fault_interval, seconds")
    parser.add_argument("--timeout", type=float, default=30.0, help="per alarm and heal wait")
    parser.add_argument("--calls-timeout", type=float, default=30.0)
    parser.add_argument("--log", type=Path, help="also write nubo's log to this file")
    args = parser.parse_args()
    if args.kills < 1 or args.interval <= 0:
        parser.error("--kills must be >= 1 and --interval > 0")
    nubo_log = logging.getLogger("nubo")
    nubo_log.setLevel(logging.INFO)
    nubo_log.propagate = False
    tally = LogTally()
    tally.setFormatter(logging.Formatter("%(name)s %(message)s"))
    nubo_log.addHandler(tally)
    if args.log:
        to_file = logging.FileHandler(args.log, mode="w")
        to_file.setFormatter(logging.Formatter("time=%(asctime)s level=%(levelname)s %(message)s"))
        nubo_log.addHandler(to_file)
    print(
        f"nubo heal benchmark: {args.kills} kills, mode {args.mode}, fault interval"
        f" {args.interval:g} s; before each kill wait until the healer holds no attempts"
        " for the victim (stable_after) and the NS is ACTIVE, idle and alarm-free",
        flush=True,
    )
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
