"""Instantiate cost through the HTTP API: nubo versus the same work done by hand.

One ``nubo serve`` (the product, shipped defaults, SQLite in a fresh data
directory, the local Docker Engine) deploys each NS through its HTTP API:
the time from the POST to the operation seen COMPLETED (polled every
``--poll`` s; COMPLETED means the NS is ACTIVE and the VIM reported every
VNFC RUNNING), then it is terminated, untimed. In the same run and
interleaved with it, the same networks and containers are made by hand (see
``baselines``): with sequential low-level Docker SDK calls for each NS, and
with ``docker-compose up -d`` for the SIPp NS. Prints the medians, their
ratios against the targets, and where the time goes: network, reservations
(nubo only), container creation, starts, and the rest, which is nubo's own
work (HTTP, database, polling).

The NSs: the SIPp NS of the thesis (server -> client on one link), a chain of
three VNFs whose middle one is on both links (examples/topologies/chain.json),
and five independent VNFs on one link (examples/topologies/independent.json).

    .venv/bin/python bench/instantiate.py --runs 10
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

import docker
import httpx
from baselines import Phases, Topology, compose_once, remove_leftovers, sdk_once
from harness import remove_by_label
from nuboproc import NuboServer

from nubo.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
NSDS = {
    "sipp": ROOT / "examples" / "sipp" / "nsd.json",
    "chain": ROOT / "examples" / "topologies" / "chain.json",
    "independent": ROOT / "examples" / "topologies" / "independent.json",
}
#: nubo / sequential SDK calls, per NS, and nubo / docker-compose for the SIPp NS (issue 10)
TARGETS = {"sipp": 0.9, "chain": 0.8, "independent": 0.5, "compose": 0.65}
#: the product's own server command, not the test server
PRODUCT = [str(Path(sys.executable).with_name("nubo")), "serve"]


@dataclass(frozen=True)
class NuboRun:
    """One deployment through the API, split by the operation's own steps."""

    total: float
    network: float
    reserve: float
    create: float
    start: float

    @property
    def own(self) -> float:
        return self.total - self.network - self.reserve - self.create - self.start


def _span(steps: list[dict[str, Any]], prefix: str) -> float:
    """Seconds from the first step named ``prefix``... starting to the last one ending."""
    chosen = [s for s in steps if s["name"] == prefix or s["name"].startswith(prefix + " ")]
    if not chosen:
        return 0.0
    begin = min(datetime.fromisoformat(s["started_at"]) for s in chosen)
    end = max(datetime.fromisoformat(s["finished_at"]) for s in chosen)
    return (end - begin).total_seconds()


class NuboApi:
    """The bench's side of nubo's HTTP API."""

    def __init__(self, url: str, poll: float) -> None:
        self.http = httpx.Client(base_url=url, timeout=60)
        self.poll = poll

    def onboard(self, path: Path) -> str:
        response = self.http.post("/api/v1/ns-descriptors", content=path.read_bytes())
        response.raise_for_status()
        nsd_id: str = response.json()["id"]
        return nsd_id

    def wait(self, location: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            op: dict[str, Any] = self.http.get(location).json()
            if op["state"] not in ("PROCESSING", "ROLLING_BACK"):
                return op
            time.sleep(self.poll)
        raise SystemExit(f"operation {location} not done within {timeout} s")

    def deploy(self, nsd_id: str) -> tuple[NuboRun, str]:
        started = time.perf_counter()
        response = self.http.post(f"/api/v1/ns-records/{nsd_id}")
        op = self.wait(response.headers["location"])
        total = time.perf_counter() - started
        if op["state"] != "COMPLETED":
            raise SystemExit(f"instantiate failed: {op.get('error')}")
        steps = op["steps"]
        run = NuboRun(
            total=total,
            network=_span(steps, "create-networks"),
            reserve=_span(steps, "allocate"),
            create=_span(steps, "configure"),
            start=_span(steps, "start"),
        )
        return run, str(response.json()["id"])

    def terminate(self, nsr_id: str) -> None:
        response = self.http.delete(f"/api/v1/ns-records/{nsr_id}")
        if self.wait(response.headers["location"])["state"] != "COMPLETED":
            raise SystemExit(f"terminate of {nsr_id} failed")


def run_all(api: NuboApi, client: docker.DockerClient, runs: int) -> dict[str, list[Any]]:
    topologies = {name: Topology.of(path, name, client) for name, path in NSDS.items()}
    nsd_ids = {name: api.onboard(path) for name, path in NSDS.items()}
    results: dict[str, list[Any]] = {}

    def nubo_once(name: str) -> NuboRun:
        run, nsr_id = api.deploy(nsd_ids[name])
        api.terminate(nsr_id)
        left = remove_by_label(client, nsr_id)
        if left:
            print(f"WARNING: removed by label after terminate: {left}", flush=True)
        return run

    rounds = [(n, "sdk", lambda n=n: sdk_once(client, topologies[n])) for n in NSDS]
    rounds += [(n, "nubo", lambda n=n: nubo_once(n)) for n in NSDS]
    rounds += [("sipp", "compose", lambda: compose_once(topologies["sipp"]))]
    for _, _, once in rounds:  # warm caches (images, the engine's and nubo's) once each
        once()
    for index in range(runs):  # interleaved, so that drift hits every side alike
        for name, side, once in rounds:
            results.setdefault(f"{name}/{side}", []).append(once())
        print(f"run {index + 1}/{runs} done", flush=True)
    return results


def _median(values: list[Any], attribute: str = "") -> float:
    return statistics.median(getattr(v, attribute) if attribute else v for v in values)


def report(results: dict[str, list[Any]]) -> None:
    def ms(value: float) -> str:
        return f"{value * 1000:.0f}"

    print("\nmedians in ms | total | network | reserve | create | start | rest")
    for name in NSDS:
        sdk: list[Phases] = results[f"{name}/sdk"]
        mine: list[NuboRun] = results[f"{name}/nubo"]
        print(
            f"{name:12} SDK   | {ms(_median(sdk, 'total'))} | {ms(_median(sdk, 'network'))} | - |"
            f" {ms(_median(sdk, 'create'))} | {ms(_median(sdk, 'start'))} | -"
        )
        print(
            f"{name:12} nubo  | {ms(_median(mine, 'total'))} | {ms(_median(mine, 'network'))} |"
            f" {ms(_median(mine, 'reserve'))} | {ms(_median(mine, 'create'))} |"
            f" {ms(_median(mine, 'start'))} | {ms(_median(mine, 'own'))}"
        )
    compose = _median(results["sipp/compose"])
    print(f"sipp         compose up -d | {ms(compose)}")
    print("\nratios (median / median), target, met:")
    for name in NSDS:
        ratio = _median(results[f"{name}/nubo"], "total") / _median(results[f"{name}/sdk"], "total")
        verdict = "met" if ratio <= TARGETS[name] else "NOT met"
        print(f"  {name:12} nubo / sequential SDK  {ratio:.2f}  (<= {TARGETS[name]})  {verdict}")
    ratio = _median(results["sipp/nubo"], "total") / compose
    verdict = "met" if ratio <= TARGETS["compose"] else "NOT met"
    print(f"  {'sipp':12} nubo / docker-compose  {ratio:.2f}  (<= {TARGETS['compose']})  {verdict}")
    spread = {k: (min(_values(v)), max(_values(v))) for k, v in results.items()}
    print("\nmin..max in ms: " + ", ".join(f"{k} {ms(a)}..{ms(b)}" for k, (a, b) in spread.items()))


def _values(items: list[Any]) -> list[float]:
    return [item if isinstance(item, float) else item.total for item in items]


def print_settings(poll: float) -> None:
    defaults = Settings()
    shown = ("start_timeout", "op_timeout", "fault_management", "fault_interval", "monitoring")
    shown += ("metrics_interval", "autoscaling", "autoscale_interval", "subnet_pool")
    values = {f.name: getattr(defaults, f.name) for f in fields(defaults) if f.name in shown}
    print("nubo serve with the shipped defaults (SQLite in a fresh data dir, local Docker VIM):")
    print("  " + ", ".join(f"{k}={v}" for k, v in values.items()))
    print(f"  the bench polls each operation every {poll} s; load average {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--poll", type=float, default=0.02, help="seconds between op polls")
    args = parser.parse_args()
    if shutil.which("docker-compose") is None:
        raise SystemExit("docker-compose is missing: apt-get install docker-compose")
    print_settings(args.poll)
    client = docker.from_env()
    with tempfile.TemporaryDirectory(prefix="nubo-bench-") as tmp:
        server = NuboServer(Path(tmp) / "data", "", {}, command=PRODUCT)
        server.start()
        api = NuboApi(server.url, args.poll)
        try:
            results = run_all(api, client, args.runs)
        finally:
            api.http.close()
            server.stop()
            remove_leftovers(client)
            client.close()
    print(f"runs: {args.runs}")
    report(results)


if __name__ == "__main__":
    main()
