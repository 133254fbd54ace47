"""``nubo serve`` over HTTPS with the certificate and key of the settings; the CLI
verifies it with ``--ca-file``; settings that cannot serve are one clear line."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from nubo.cli.client import CliConfig
from nubo.cli.main import main
from tests.auth import ADMIN_PASSWORD, TEST_AUTH_ENV
from tests.nubo_process import NUBO, NuboProcess


def self_signed(directory: Path, name: str = "server") -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by openssl (valid one day)."""
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=127.0.0.1",
            "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuboProcess]:
    base = tmp_path_factory.mktemp("nubo-tls")
    process = NuboProcess(base / "data", test_server=True, tls=self_signed(base))
    process.start()
    try:
        yield process
    finally:
        process.stop()


def test_the_api_is_served_over_https_only(server: NuboProcess) -> None:
    assert server.url.startswith("https://")
    assert server.api("GET", "/api/v1/whoami").status_code == 200
    # without the certificate's CA the client refuses the server
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{server.url}/health", timeout=5)
    # plain HTTP to the same port gets no answer of the API
    with pytest.raises(httpx.TransportError):
        httpx.get(server.url.replace("https://", "http://") + "/health", timeout=5)


def test_the_cli_verifies_the_server_with_its_ca_file(
    server: NuboProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NUBO_TOKEN", raising=False)
    ca = server.ca_file

    def cli(*args: str, stdin: str | None = None) -> str:
        result = CliRunner().invoke(
            main, ["--url", server.url, *args], obj=CliConfig(url=server.url), input=stdin
        )
        assert result.exit_code == 0, result.output
        return result.output

    cli("--ca-file", ca, "login", "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
    assert "admin: ADMIN" in cli("--ca-file", ca, "whoami")
    refused = CliRunner().invoke(
        main, ["--url", server.url, "whoami"], obj=CliConfig(url=server.url)
    )
    assert refused.exit_code != 0
    assert "certificate" in refused.output.lower()


def serve_fails(tmp_path: Path, **env: str) -> str:
    """``nubo serve`` with these settings: it must exit 1 before serving; its stderr."""
    done = subprocess.run(
        [NUBO, "serve", "--port", "1", "--data-dir", str(tmp_path / "data")],
        env=os.environ | TEST_AUTH_ENV | env,
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    return done.stderr


def test_settings_that_cannot_serve_are_refused_in_one_line(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, "one")
    _, other_key = self_signed(tmp_path, "two")
    alone = serve_fails(tmp_path, NUBO_TLS_CERT_FILE=str(cert))
    assert "NUBO_TLS_KEY_FILE is not" in alone and "Traceback" not in alone
    mismatch = serve_fails(tmp_path, NUBO_TLS_CERT_FILE=str(cert), NUBO_TLS_KEY_FILE=str(other_key))
    assert "cannot serve" in mismatch and "Traceback" not in mismatch
    missing = serve_fails(
        tmp_path, NUBO_TLS_CERT_FILE=str(tmp_path / "nope.crt"), NUBO_TLS_KEY_FILE=str(key)
    )
    assert "does not exist" in missing
