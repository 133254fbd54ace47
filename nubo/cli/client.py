"""The CLI's HTTP client: a thin httpx wrapper that turns problem details into CLI errors.

The CLI talks to nubo only through the northbound API, so this module is the one
place that knows about transport failures and RFC 9457 bodies. Tests inject an
``httpx.MockTransport`` through :class:`CliConfig`.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import IO, Any

import click
import httpx

from nubo.api.versions import api_of
from nubo.cli.credentials import TokenSource

DEFAULT_URL = "http://127.0.0.1:8080"
API = "/api/v1"

#: exit codes: 1 the API refused or an operation failed, 2 usage (click), 3 unreachable
EXIT_API_ERROR = 1
EXIT_UNREACHABLE = 3


class ApiError(click.ClickException):
    """The API answered with an error; carries the problem-details document."""

    exit_code = EXIT_API_ERROR

    def __init__(self, problem: dict[str, Any]) -> None:
        self.problem = problem
        super().__init__(str(problem.get("detail") or problem.get("title") or "API error"))

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(format_problem(self.problem), file=file, err=True)


class NotLoggedIn(ApiError):
    """401: no token, or one the server no longer takes; the answer says how to get one."""

    def __init__(self, problem: dict[str, Any], url: str) -> None:
        super().__init__(problem)
        self.url = url

    def show(self, file: IO[Any] | None = None) -> None:
        super().show(file)
        click.echo(f"  log in first: nubo --url {self.url} login", file=file, err=True)


class OperationFailed(click.ClickException):
    """An LCM operation ended in a state other than COMPLETED."""

    exit_code = EXIT_API_ERROR

    def __init__(self, op: dict[str, Any]) -> None:
        self.op = op
        super().__init__(f"operation {op.get('id')} ended {op.get('state')}")

    def show(self, file: IO[Any] | None = None) -> None:
        lines = [f"Error: {op_label(self.op)} {self.op.get('id', '')} ended {self.op.get('state')}"]
        error = self.op.get("error")
        if isinstance(error, dict):
            lines.append(format_problem(error, heading=False))
        if self.op.get("state") == "FAILED_TEMP":
            op_id = self.op.get("id", "")
            lines.append(
                f"it waits: nubo op retry {op_id} | nubo op rollback {op_id} | nubo op fail {op_id}"
            )
        click.echo("\n".join(lines), file=file, err=True)


class Unreachable(click.ClickException):
    """No HTTP answer at all: nubo is not running, or the URL is wrong."""

    exit_code = EXIT_UNREACHABLE

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach nubo at {url}: is `nubo serve` running? ({reason})")


def op_label(op: dict[str, Any]) -> str:
    return str(op.get("operation") or "operation")


def format_problem(problem: dict[str, Any], heading: bool = True) -> str:
    """A problem document as readable lines: title, detail, step, cause, each field error."""
    title = str(problem.get("title") or "Error")
    status = problem.get("status")
    code = problem.get("code")
    tag = " ".join(str(x) for x in (status, code) if x)
    lines = [f"{'Error: ' if heading else ''}{title}" + (f" ({tag})" if tag else "")]
    detail = problem.get("detail")
    errors = problem.get("errors")
    listed = isinstance(errors, list) and bool(errors)
    # a validation detail is often just the joined field errors listed below
    if detail and detail != title and not (listed and _joins_errors(str(detail), errors)):
        lines.append(f"  {detail}")
    for key in ("step", "cause"):
        if problem.get(key):
            lines.append(f"  {key}: {problem[key]}")
    if isinstance(errors, list):
        for err in errors:
            if isinstance(err, dict):
                lines.append(f"  - {err.get('path', '$')}: {err.get('message', '')}")
            else:
                lines.append(f"  - {err}")
    return "\n".join(lines)


def _joins_errors(detail: str, errors: Any) -> bool:
    parts = [f"{e.get('path')}: {e.get('message')}" for e in errors if isinstance(e, dict)]
    return bool(parts) and all(part in detail for part in parts[:5])


def problem_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and ("title" in body or "detail" in body):
        body.setdefault("status", response.status_code)
        return body
    text = response.text.strip()
    return {
        "title": response.reason_phrase or "HTTP error",
        "status": response.status_code,
        "detail": text[:300] if text else f"{response.request.method} {response.request.url}",
    }


class NuboClient:
    """Calls the nubo API; every non-2xx answer raises :class:`ApiError`."""

    def __init__(
        self,
        base_url: str,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 30.0,
        prefix: str = API,
        tokens: TokenSource | None = None,
        all_projects: bool = False,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.prefix = prefix
        self._tokens = tokens
        #: every request asks for every project's records (a system administrator's)
        self._scope = {"allProjects": "true"} if all_projects else {}
        self._http = httpx.Client(
            base_url=self.base_url, transport=transport, timeout=timeout, verify=verify
        )

    def close(self) -> None:
        self._http.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: dict[str, str] | None = None,
        idempotency_key: str | None = None,
        content: bytes | None = None,
        content_type: str | None = None,
    ) -> httpx.Response:
        """Send a request (``body`` as JSON, or raw ``content`` of ``content_type``).

        With an idempotency key, a lost answer is asked for again.
        """
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
        api = api_of(self.prefix + path)
        if api is not None:  # SOL005 answers only a client that names the version it speaks
            headers["Version"] = api.current
        if content_type:
            headers["Content-Type"] = content_type
        response = self._send(method, path, body, params, headers, content, idempotency_key)
        if response.status_code == 401 and self._tokens is not None and self._tokens.refresh():
            # the saved token expired meanwhile (or was revoked): once more with the new one
            response = self._send(method, path, body, params, headers, content, idempotency_key)
        if response.status_code == 401:
            raise NotLoggedIn(problem_of(response), self.base_url)
        if response.status_code >= 400:
            raise ApiError(problem_of(response))
        return response

    def _send(
        self,
        method: str,
        path: str,
        body: Any,
        params: dict[str, str] | None,
        headers: dict[str, str],
        content: bytes | None,
        idempotency_key: str | None,
    ) -> httpx.Response:
        if self._tokens is not None:
            headers = headers | self._tokens.header()
        if self._scope:
            params = self._scope | (params or {})
        attempts = 3 if idempotency_key else 1
        for attempt in range(1, attempts + 1):
            try:
                return self._http.request(
                    method,
                    self.prefix + path,
                    json=body,
                    content=content,
                    params=params,
                    headers=headers,
                )
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                raise Unreachable(self.base_url, str(exc) or type(exc).__name__) from None
            except httpx.TransportError as exc:
                # the server may have acted on the request: only a keyed retry is safe
                if attempt == attempts:
                    raise Unreachable(self.base_url, f"{type(exc).__name__}: {exc}") from None
        raise AssertionError("unreachable")

    def get(self, path: str, params: dict[str, str] | None = None) -> Any:
        """The JSON answer; a paged SOL005 list is followed to its last page."""
        response = self.request("GET", path, params=params)
        body = _json(response)
        while isinstance(body, list) and "next" in response.links:
            url = httpx.URL(response.links["next"]["url"])
            following = url.raw_path.decode("ascii")
            response = self.request("GET", following.removeprefix(self.prefix))
            body.extend(_json(response))
        return body

    def post(
        self, path: str, body: Any = None, idempotency_key: str | None = None
    ) -> httpx.Response:
        return self.request("POST", path, body=body, idempotency_key=idempotency_key)

    def delete(self, path: str) -> httpx.Response:
        return self.request("DELETE", path)


def _json(response: httpx.Response) -> Any:
    return response.json() if response.content else None


def op_id_of(response: httpx.Response) -> str:
    """The LCM operation id of a 202 answer: from ``Location``, else from an op body."""
    location = str(response.headers.get("Location", ""))
    if "/lcm-operations/" in location or "/ns_lcm_op_occs/" in location:
        return location.rstrip("/").rsplit("/", 1)[-1]
    body = _json(response)
    if isinstance(body, dict) and "operation" in body and body.get("id"):
        return str(body["id"])
    raise click.ClickException("the API accepted the request but named no LCM operation")


@dataclass
class CliConfig:
    """Per-invocation settings; tests pass their own (transport, no sleeping) as ``obj``."""

    url: str = DEFAULT_URL
    transport: httpx.BaseTransport | None = None
    poll_interval: float = 0.3
    sleep: Callable[[float], None] = time.sleep
    #: ask for every project's records (``--all-projects``, system administrators)
    all_projects: bool = False
    #: a PEM file of the CA that signed an HTTPS server's certificate (``--ca-file``)
    ca_file: str | None = None
    _client: NuboClient | None = field(default=None, repr=False)
    _root: NuboClient | None = field(default=None, repr=False)
    _tokens: TokenSource | None = field(default=None, repr=False)

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """How HTTPS servers are verified: by the given CA file, else the system's CAs."""
        return ssl.create_default_context(cafile=self.ca_file) if self.ca_file else True

    def tokens(self) -> TokenSource:
        """The saved session of this URL (or ``NUBO_TOKEN``) that every request sends."""
        if self._tokens is None or self._tokens.credentials.url != self.url.rstrip("/"):
            self._tokens = TokenSource(self.url, transport=self.transport, verify=self.verify)
        return self._tokens

    def client(self) -> NuboClient:
        """A client of the Open Baton routes (paths relative to ``/api/v1``)."""
        if self._client is None:
            self._client = NuboClient(
                self.url,
                transport=self.transport,
                tokens=self.tokens(),
                all_projects=self.all_projects,
                verify=self.verify,
            )
        return self._client

    def root(self) -> NuboClient:
        """A client taking whole paths (``/nslcm/v1/...``, ``/nsd/v1/...``)."""
        if self._root is None:
            self._root = NuboClient(
                self.url,
                transport=self.transport,
                prefix="",
                tokens=self.tokens(),
                all_projects=self.all_projects,
                verify=self.verify,
            )
        return self._root

    @contextmanager
    def api(self, prefix: str, timeout: float = 30.0) -> Iterator[NuboClient]:
        """A client of one API (``/nsfm/v1``, ``/nslcm/v1``, ...) for the length of a block."""
        client = NuboClient(
            self.url,
            transport=self.transport,
            timeout=timeout,
            prefix=prefix,
            tokens=self.tokens(),
            all_projects=self.all_projects,
            verify=self.verify,
        )
        try:
            yield client
        finally:
            client.close()

    def close(self) -> None:
        for client in (self._client, self._root):
            if client is not None:
                client.close()
        self._client = self._root = None


pass_config = click.make_pass_decorator(CliConfig)
json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print the raw JSON document(s) on stdout."
)
wait_option = click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Follow the LCM operation until it ends.",
)


def echo_json(data: Any) -> None:
    """Raw JSON on stdout, for scripts."""
    click.echo(json.dumps(data, indent=2, sort_keys=False))
