"""What authentication costs per request: the token check, against an unauthenticated answer.

nubo runs in process (in-memory VIM, SQLite in a temporary directory, no
background loops) and is asked through its ASGI application, without a
socket, so that the figures are nubo's own. Measured, ``--requests`` times each:

- verify: ``TokenService.verify`` of an access token alone (signature, expiry,
  revocation and holder look-ups in the replica's state; the state is read
  again once per ``token_sync_interval``, as in production);
- health: ``GET /health``, which needs no token (the baseline);
- whoami: ``GET /api/v1/whoami`` with the token: the same path through the
  application plus the authentication middleware and the permission check;
- login: ``POST /oauth/token`` (password grant, Argon2id at nubo's default
  cost), a few times: what the token check avoids paying per request.

Printed: medians and p95 in milliseconds, the per-request cost of
authentication (whoami - health), and the 1 ms target for the median check.

    .venv/bin/python bench/tokens.py --requests 2000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx

from nubo.app import build
from nubo.settings import Settings
from nubo.testing import registry_with_fake

PASSWORD = "bench-admin-password"


async def timed(n: int, call: Callable[[], Awaitable[object]]) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        await call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


def line(name: str, samples: list[float]) -> str:
    p95 = statistics.quantiles(samples, n=20)[-1] if len(samples) >= 20 else max(samples)
    median = statistics.median(samples)
    return f"{name:<8} median {median:8.3f} ms   p95 {p95:8.3f} ms   n={len(samples)}"


async def run(requests: int, logins: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            default_vim_type="fake",
            fault_management=False,
            monitoring=False,
            autoscaling=False,
            admin_password=PASSWORD,
            token_rate_per_user=10_000,
            token_rate_per_address=10_000,
        )
        nubo = build(settings, registry=registry_with_fake())
        await nubo.start()
        try:
            transport = httpx.ASGITransport(app=nubo.api())
            async with httpx.AsyncClient(transport=transport, base_url="http://nubo") as http:
                form = {"grant_type": "password", "username": "admin", "password": PASSWORD}

                async def login() -> httpx.Response:
                    answer = await http.post("/oauth/token", data=form)
                    assert answer.status_code == 200, answer.text
                    return answer

                token = (await login()).json()["access_token"]
                headers = {"Authorization": f"Bearer {token}"}

                async def health() -> object:
                    return await http.get("/health")

                async def whoami() -> object:
                    answer = await http.get("/api/v1/whoami", headers=headers)
                    assert answer.status_code == 200
                    return answer

                async def verify() -> object:
                    return await nubo.auth.tokens.verify(token)

                await timed(50, health)  # warm-up
                await timed(50, whoami)
                figures = {
                    "verify": await timed(requests, verify),
                    "health": await timed(requests, health),
                    "whoami": await timed(requests, whoami),
                    "login": await timed(logins, login),
                }
        finally:
            await nubo.stop()
    for name, samples in figures.items():
        print(line(name, samples))
    check = statistics.median(figures["verify"])
    extra = statistics.median(figures["whoami"]) - statistics.median(figures["health"])
    print(f"authentication per request (whoami - health medians): {extra:.3f} ms")
    print(
        f"token check median {check:.3f} ms: target < 1 ms {'met' if check < 1 else 'NOT met'}; "
        f"a login costs {statistics.median(figures['login']) / check:.0f}x a token check"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--logins", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.logins))


if __name__ == "__main__":
    main()
