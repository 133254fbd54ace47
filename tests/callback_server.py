"""A loopback HTTP server that plays a notification consumer, for tests.

It listens on 127.0.0.1 on a free port in a thread of its own, answers the
SOL005 endpoint test (GET) with ``get_status`` (204 by default), and records
the JSON body of every POST it accepts; reading them checks each against
ETSI's SOL005 schema of its ``notificationType``. ``fail_first`` POSTs are answered 500
first (``fail_always`` answers every POST 500), so retries can be proven;
``hang`` holds every POST that long without answering (until ``close``). Use
it as a context manager: the server and its thread end even when the test
fails. ``wait_for`` polls without blocking the event loop the orchestrator
runs on.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tests.sol005_schemas import check_notification


class CallbackServer:
    """Records notifications POSTed to ``url``."""

    def __init__(
        self,
        *,
        get_status: int = 204,
        fail_first: int = 0,
        fail_always: bool = False,
        hang: float = 0.0,
        authorization: Callable[[str | None], bool] | None = None,
        token_client: tuple[str, str] | None = None,
    ) -> None:
        #: which ``Authorization`` headers the callback accepts (None: any); else 401
        self.authorization = authorization
        #: (client id, password) the token endpoint ``/token`` accepts as HTTP Basic;
        #: it issues ``tok-1``, ``tok-2`` ... (``tokens``)
        self.token_client = token_client
        self.tokens: list[str] = []
        #: the ``Authorization`` header of every request to the callback, in order
        self.authorizations: list[str | None] = []
        self.get_status = get_status
        self.fail_first = fail_first
        self.fail_always = fail_always
        self.hang = hang
        self._closing = threading.Event()
        self.received: list[dict[str, Any]] = []
        #: the SOL013 ``Version`` header of each accepted POST, in order
        self.versions: list[str | None] = []
        self.posts = 0
        self.gets = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/notify"

    @property
    def token_url(self) -> str:
        return self.url.replace("/notify", "/token")

    def __enter__(self) -> CallbackServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._closing.set()
        if self._thread.is_alive():
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()

    def bodies(self) -> list[dict[str, Any]]:
        """The notifications received so far, each checked against ETSI's schema of its type."""
        with self._lock:
            received = list(self.received)
        for body in received:
            check_notification(body)
        return received

    async def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """At least ``count`` accepted notifications; ``AssertionError`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.bodies()
            if len(got) >= count:
                return got
            await asyncio.sleep(0.02)
        raise AssertionError(f"{self.url} got {len(self.bodies())} notifications, not {count}")

    def _answer_post(self, body: bytes, version: str | None = None) -> int:
        with self._lock:
            self.posts += 1
        if self.hang:
            self._closing.wait(self.hang)
            return 503
        with self._lock:
            if self.fail_always or self.posts <= self.fail_first:
                return 500
            self.received.append(json.loads(body))
            self.versions.append(version)
            return 204

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server.gets += 1
                if not self._authorized():
                    return
                self._reply(server.get_status)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                if self.path == "/token":
                    self._token()
                    return
                if not self._authorized():
                    return
                self._reply(server._answer_post(body, self.headers.get("Version")))

            def _authorized(self) -> bool:
                header = self.headers.get("Authorization")
                with server._lock:
                    server.authorizations.append(header)
                if server.authorization is None or server.authorization(header):
                    return True
                self._reply(401)
                return False

            def _token(self) -> None:
                client = server.token_client
                expected = "Basic " + base64.b64encode(":".join(client or ()).encode()).decode()
                if client is None or self.headers.get("Authorization") != expected:
                    self._reply(401)
                    return
                with server._lock:
                    server.tokens.append(f"tok-{len(server.tokens) + 1}")
                    token = server.tokens[-1]
                self._reply(200, json.dumps({"access_token": token, "expires_in": 3600}).encode())

            def _reply(self, status: int, payload: bytes | None = None) -> None:
                self.send_response(status)
                if payload is None:
                    payload = b"" if status == 204 else b'{"error": "test says no"}'
                if payload:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                return None  # keep test output clean

        return Handler
