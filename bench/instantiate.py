"""Instantiate cost: nubo versus the same work done with plain Docker SDK calls.

Each run instantiates the SIPp NS of the thesis through nubo (in-process, real
Docker VIM, SQLite store) and waits for the operation to complete (NS ACTIVE,
every VNFC seen RUNNING), then terminates it. In the same process, the baseline
creates the same network and containers with plain, sequential Docker SDK calls
(network create, server create + start, client create + start with the
server's address in its environment) and removes them. Prints both medians and
their ratio (target: nubo <= 1.2 x baseline).

    .venv/bin/python bench/instantiate.py --runs 10
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import docker

from nubo.app import build
from nubo.model.states import OpState
from nubo.settings import Settings
from nubo.vim.subnets import allocate_subnet

ROOT = Path(__file__).resolve().parent.parent
NSD = ROOT / "examples" / "sipp" / "nsd.json"
BENCH_LABEL = "io.nubo.bench"
#: the baseline's subnet prefix, chosen once outside the timed part (nubo picks its own each time)
BASELINE_PREFIX = ""


def _pick_baseline_prefix(client: docker.DockerClient) -> str:
    used = [
        c["Subnet"]
        for n in client.api.networks()
        for c in (n.get("IPAM") or {}).get("Config") or []
        if c.get("Subnet")
    ]
    return allocate_subnet("10.250.0.0/16", 24, used).rsplit(".", 1)[0]


def _client_env(server_ip: str, nsd: dict[str, object]) -> dict[str, str]:
    client = next(v for v in nsd["vnfd"] if v["name"] == "sipp-client")  # type: ignore[attr-defined]
    params = client["configurations"]["configurationParameters"]
    env = {p["confKey"]: str(p["value"]) for p in params}
    env["SERVER_PRIVATE"] = server_ip
    return env


def baseline_once(client: docker.DockerClient, nsd: dict[str, object]) -> float:
    """Plain Docker SDK: network, server, client (with the server's address), sequentially."""
    tag = uuid.uuid4().hex[:8]
    labels = {BENCH_LABEL: tag}
    started = time.perf_counter()
    prefix = BASELINE_PREFIX
    ipam = docker.types.IPAMConfig(
        pool_configs=[docker.types.IPAMPool(subnet=f"{prefix}.0/24", gateway=f"{prefix}.1")]
    )
    network = client.networks.create(
        f"bench-{tag}-private", driver="bridge", labels=labels, ipam=ipam
    )
    server_ip = f"{prefix}.2"
    server = _create(
        client, "nubo/sipp-server:latest", f"bench-{tag}-server", network, server_ip, {}, labels
    )
    server.start()
    cl = _create(
        client,
        "nubo/sipp-client:latest",
        f"bench-{tag}-client",
        network,
        f"{prefix}.3",
        _client_env(server_ip, nsd),
        labels,
    )
    cl.start()
    elapsed = time.perf_counter() - started
    for container in (cl, server):
        container.remove(force=True)
    network.remove()
    return elapsed


def _create(
    client: docker.DockerClient,
    image: str,
    name: str,
    network: object,
    ip: str,
    env: dict[str, str],
    labels: dict[str, str],
) -> object:
    api = client.api
    config = api.create_networking_config(
        {network.name: api.create_endpoint_config(ipv4_address=ip)}  # type: ignore[attr-defined]
    )
    created = api.create_container(
        image,
        name=name,
        environment=env,
        labels=labels,
        networking_config=config,
        host_config=api.create_host_config(),
    )
    return client.containers.get(created["Id"])


async def run_all(
    runs: int, data_dir: Path, client: docker.DockerClient, nsd: dict[str, object]
) -> tuple[list[float], list[float]]:
    nubo = build(Settings(data_dir=data_dir, op_timeout=120))
    await nubo.start()
    try:
        entry = await nubo.catalogue.onboard(NSD.read_bytes())

        async def nubo_once() -> float:
            started = time.perf_counter()
            nsr, op = await nubo.ns.instantiate(entry.id, name="bench")
            done = await nubo.runner.wait(op.id, timeout=120)
            elapsed = time.perf_counter() - started
            if done.state != OpState.COMPLETED:
                raise SystemExit(f"instantiate failed: {done.error}")
            term = await nubo.ns.terminate(nsr.id)
            await nubo.runner.wait(term.id, timeout=120)
            return elapsed

        baseline_once(client, nsd)  # warm caches on both sides once
        await nubo_once()
        base, mine = [], []
        for _ in range(runs):  # interleaved, so that drift hits both sides alike
            base.append(baseline_once(client, nsd))
            mine.append(await nubo_once())
        return base, mine
    finally:
        await nubo.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    global BASELINE_PREFIX
    nsd = json.loads(NSD.read_text())
    client = docker.from_env()
    BASELINE_PREFIX = _pick_baseline_prefix(client)
    try:
        with tempfile.TemporaryDirectory(prefix="nubo-bench-") as tmp:
            base, mine = asyncio.run(run_all(args.runs, Path(tmp), client, nsd))
    finally:
        for c in client.containers.list(all=True, filters={"label": BENCH_LABEL}):
            c.remove(force=True)
        for n in client.networks.list(filters={"label": BENCH_LABEL}):
            n.remove()
        client.close()
    b, m = statistics.median(base), statistics.median(mine)
    print(f"runs: {args.runs}")
    print(f"plain Docker SDK instantiate median: {b * 1000:.0f} ms")
    print(f"nubo instantiate median:             {m * 1000:.0f} ms")
    print(f"ratio nubo / plain:                  {m / b:.2f} (target <= 1.20)")


if __name__ == "__main__":
    main()
