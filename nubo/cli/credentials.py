"""The CLI's tokens, per server URL, in the user's config file (mode 0600).

``nubo login`` stores the access and refresh tokens there; every command
sends the access token and, when it has expired (or the server refuses it
as expired), trades the refresh token for a new pair and saves that. The
file is ``$NUBO_CONFIG``, else ``$XDG_CONFIG_HOME/nubo/config.json``, else
``~/.config/nubo/config.json``. ``NUBO_TOKEN`` (a bearer token, for scripts
and API clients) is sent as it is, instead of the file's.
"""

from __future__ import annotations

import json
import os
import ssl
import time
from pathlib import Path
from typing import Any

import click
import httpx

#: refresh this long before the access token expires, so a command never starts on a dying one
EXPIRY_MARGIN = 30.0


def config_path() -> Path:
    explicit = os.environ.get("NUBO_CONFIG")
    if explicit:
        return Path(explicit).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "nubo" / "config.json"


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None
    return document if isinstance(document, dict) else {}


def _write(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(path.name + ".tmp")
    # created 0600 from the start: a token must never be readable by others, not even briefly
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        json.dump(document, file, indent=2)
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


class Credentials:
    """The saved session of one server URL."""

    def __init__(self, url: str, path: Path | None = None) -> None:
        self.url = url.rstrip("/")
        self.path = path or config_path()

    def session(self) -> dict[str, Any] | None:
        servers = _read(self.path).get("servers", {})
        entry = servers.get(self.url) if isinstance(servers, dict) else None
        return entry if isinstance(entry, dict) else None

    def save(self, answer: dict[str, Any], **extra: Any) -> dict[str, Any]:
        """Keep a token endpoint's answer (and who logged in) for this URL."""
        document = _read(self.path)
        servers = document.setdefault("servers", {})
        previous = servers.get(self.url) or {}
        entry = {
            "access_token": answer["access_token"],
            "refresh_token": answer.get("refresh_token"),
            "expires_at": time.time() + float(answer.get("expires_in", 0)),
            "project_id": answer.get("project_id"),
            "role": answer.get("role"),
            "username": extra.get("username", previous.get("username")),
        }
        servers[self.url] = entry
        _write(self.path, document)
        return entry

    def forget(self) -> dict[str, Any] | None:
        document = _read(self.path)
        entry = document.get("servers", {}).pop(self.url, None)
        _write(self.path, document)
        return entry if isinstance(entry, dict) else None


class TokenSource:
    """What every request of the CLI authenticates with; refreshes a saved session."""

    def __init__(
        self,
        url: str,
        transport: httpx.BaseTransport | None = None,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.credentials = Credentials(url)
        self._transport = transport
        self._verify = verify
        self._fixed = os.environ.get("NUBO_TOKEN") or None

    def header(self) -> dict[str, str]:
        token = self._fixed or self._current()
        return {"Authorization": f"Bearer {token}"} if token else {}

    def refresh(self) -> bool:
        """Trade the refresh token for new tokens; False when there is nothing to refresh."""
        if self._fixed:
            return False
        session = self.credentials.session()
        if not session or not session.get("refresh_token"):
            return False
        with httpx.Client(
            base_url=self.credentials.url, transport=self._transport, verify=self._verify
        ) as http:
            try:
                answer = http.post(
                    "/oauth/token",
                    data={"grant_type": "refresh_token", "refresh_token": session["refresh_token"]},
                )
            except httpx.TransportError:
                return False
        if answer.status_code != 200:
            return False
        self.credentials.save(answer.json())
        return True

    def _current(self) -> str | None:
        session = self.credentials.session()
        if not session:
            return None
        if float(session.get("expires_at") or 0) - EXPIRY_MARGIN < time.time() and self.refresh():
            session = self.credentials.session() or session
        token = session.get("access_token")
        return str(token) if token else None
