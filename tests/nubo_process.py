"""`nubo serve` as a real process, for tests that talk to it as a user or kill it.

With ``test_server`` the process is ``python -m nubo.testing serve`` instead:
the same server plus the fake VIM type and crash injection (``crash_at``).
"""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from nubo.testing import CRASH_AT_VARIABLE
from tests.auth import ADMIN, ADMIN_PASSWORD, TEST_AUTH_ENV, bearer
from tests.databases import database_url_for

NUBO = str(Path(sys.executable).parent / "nubo")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class NuboProcess:
    """One `nubo serve` (or test server) on loopback with its own data directory and database.

    Restartable; several processes may share one database (``database_url``).
    """

    def __init__(
        self,
        data_dir: Path,
        port: int | None = None,
        *,
        test_server: bool = False,
        database_url: str | None = None,
        tls: tuple[Path, Path] | None = None,
    ) -> None:
        self.data_dir = data_dir
        #: (certificate, key): serve HTTPS; the certificate is self-signed, its own CA
        self.tls = tls
        self.ca_file = str(tls[0]) if tls else ""
        self.verify: ssl.SSLContext | bool = (
            ssl.create_default_context(cafile=self.ca_file) if tls else True
        )
        self.test_server = test_server
        self.database_url = database_url or database_url_for(data_dir)
        self.port = port or free_port()
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_dir / "nubo.log"
        #: the administrator's access token, got at each start
        self.token = ""

    def start(self, crash_at: str = "", **env: str) -> NuboProcess:
        """Start and wait until healthy; ``crash_at`` (test server only) arms a SIGKILL."""
        assert self.test_server or not crash_at, "crash injection needs test_server=True"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "nubo.testing"] if self.test_server else [NUBO]
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [*command, "serve", "--port", str(self.port), "--data-dir", str(self.data_dir)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=os.environ
            | {
                "NUBO_START_TIMEOUT": "30",
                "NUBO_DATABASE_URL": self.database_url,
                CRASH_AT_VARIABLE: crash_at,
            }
            | TEST_AUTH_ENV
            | self._tls_env()
            | env,
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"nubo serve exited: {self.log()}")
            try:
                health = httpx.get(f"{self.url}/health", timeout=1, verify=self.verify)
                if health.status_code == 200:
                    self.token = self.login()
                    return self
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError(f"nubo serve did not answer: {self.log()}")

    def login(self, user: str = ADMIN, password: str = ADMIN_PASSWORD, **params: str) -> str:
        """An access token by the password grant, as ``nubo login`` gets it."""
        answer = httpx.post(
            f"{self.url}/oauth/token",
            data={"grant_type": "password", "username": user, "password": password, **params},
            timeout=30,
            verify=self.verify,
        )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["access_token"]
        return token

    def _tls_env(self) -> dict[str, str]:
        if self.tls is None:
            return {}
        return {"NUBO_TLS_CERT_FILE": str(self.tls[0]), "NUBO_TLS_KEY_FILE": str(self.tls[1])}

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-3000:]

    def wait_killed(self, timeout: float = 60) -> int:
        """Wait until the process ends by itself (e.g. the SIGKILL ``crash_at`` armed)."""
        assert self.proc is not None
        code = self.proc.wait(timeout=timeout)
        self.proc = None
        return code

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A request as the administrator (``headers`` may override the token)."""
        headers = bearer(self.token) | kwargs.pop("headers", {})
        return httpx.request(
            method, f"{self.url}{path}", timeout=30, headers=headers, verify=self.verify, **kwargs
        )

    def wait_op(self, location: str, timeout: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            op: dict[str, Any] = self.api("GET", location).json()
            if op["state"] in ("COMPLETED", "FAILED", "ROLLED_BACK", "FAILED_TEMP"):
                return op
            time.sleep(0.1)
        raise AssertionError(f"operation {location} did not finish: {self.log()}")
