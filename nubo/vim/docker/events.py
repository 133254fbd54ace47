"""The Docker Engine's event stream, as ``ServerEvent``s of the servers nubo manages.

The SDK's event stream is a blocking generator over a long-lived HTTP
response, so one thread per subscription reads it and hands each event to the
event loop (``call_soon_threadsafe`` onto an ``asyncio.Queue``). Closing the
async generator shuts the response's socket down, which unblocks and ends the
thread: following never leaks a thread or a task. Any way the stream ends
other than our own close (engine stopped or restarting, connection refused)
surfaces as ``VimUnreachable`` so the consumer reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import AsyncGenerator, Mapping
from typing import Any

import docker.errors
import requests.exceptions

from nubo.model.errors import VimError, VimUnreachable
from nubo.vim.docker.engine import DockerEngine
from nubo.vim.docker.payloads import LABEL_POP, wrap_error
from nubo.vim.port import LABEL_MANAGED, LABEL_PREFIX, LABEL_SERVER, ServerEvent, ServerStatus

log = logging.getLogger("nubo.vim")

EVENT_FILTERS = {"type": "container", "label": [f"{LABEL_MANAGED}=true"]}
#: how long closing waits for the reader thread (it ends as soon as its socket is shut)
JOIN_TIMEOUT = 5.0

_Item = ServerEvent | VimError


def _exit_status(code: str) -> ServerStatus:
    # 143 is SIGTERM: a requested stop the image did not trap (as container_status)
    return ServerStatus.EXITED if code in ("0", "143") else ServerStatus.FAILED


def server_event_of(payload: Mapping[str, Any]) -> ServerEvent | None:
    """The ``ServerEvent`` of one decoded Docker event, or None when it is not one of ours."""
    if payload.get("Type", "container") != "container":
        return None
    action = str(payload.get("Action") or payload.get("status") or "")
    attributes: dict[str, str] = dict((payload.get("Actor") or {}).get("Attributes") or {})
    server_id = attributes.get(LABEL_SERVER)
    if not server_id:
        return None
    status: ServerStatus | None
    if action == "start":
        status, detail = ServerStatus.RUNNING, "started"
    elif action == "die":
        code = str(attributes.get("exitCode", ""))
        status, detail = _exit_status(code), f"exit code {code}"
    elif action == "stop":
        status, detail = ServerStatus.EXITED, "stopped"
    elif action == "kill":
        status, detail = ServerStatus.STOPPING, f"killed by signal {attributes.get('signal', '?')}"
    elif action == "oom":
        status, detail = ServerStatus.FAILED, "OOM killed"
    elif action == "destroy":
        status, detail = None, "removed"
    else:
        return None
    labels = {k: v for k, v in attributes.items() if k.startswith(LABEL_PREFIX) and k != LABEL_POP}
    nano = payload.get("timeNano")
    stamp = int(nano) / 1e9 if nano else float(payload.get("time") or time.time())
    return ServerEvent(server_id=server_id, status=status, labels=labels, time=stamp, detail=detail)


class EventReader(threading.Thread):
    """Reads one event stream in a worker thread and hands what it reads to the loop."""

    def __init__(
        self, api: Any, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[_Item]
    ) -> None:
        super().__init__(name="nubo-docker-events", daemon=True)
        self._api = api
        self._loop = loop
        self._queue = queue
        self._lock = threading.Lock()
        self._stream: Any = None
        self._closing = False

    def _hand(self, item: _Item) -> None:
        # RuntimeError: the loop is closed, nobody is listening any more
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._queue.put_nowait, item)

    def run(self) -> None:
        try:
            stream = self._api.events(decode=True, filters=EVENT_FILTERS)
        except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
            self._hand(wrap_error(exc, "follow Docker events"))
            return
        with self._lock:
            self._stream = stream
            closing = self._closing
        try:
            if not closing:
                self._pump(stream)
        finally:
            _close_stream(stream)

    def _pump(self, stream: Any) -> None:
        try:
            for payload in stream:
                event = server_event_of(payload) if isinstance(payload, dict) else None
                if event is not None:
                    self._hand(event)
        except Exception as exc:  # a broken stream, whatever the library raised
            if not self._closing:
                self._hand(VimUnreachable(f"Docker event stream broke: {type(exc).__name__}"))
            return
        if not self._closing:
            self._hand(VimUnreachable("Docker event stream ended (is the engine restarting?)"))

    @property
    def subscribed(self) -> bool:
        """Whether the engine accepted the subscription (events from now on are seen)."""
        with self._lock:
            return self._stream is not None

    def close(self) -> None:
        """Ask the thread to end: shut its socket so the blocking read returns."""
        with self._lock:
            self._closing = True
            stream = self._stream
        if stream is not None:
            _close_stream(stream)


def _close_stream(stream: Any) -> None:
    """Shut the stream's socket (unblocks a reader), then release the response."""
    with contextlib.suppress(Exception):  # already closed, or the socket is gone
        stream.close()
    with contextlib.suppress(Exception):
        stream._response.close()


async def follow_events(engine: DockerEngine) -> AsyncGenerator[ServerEvent, None]:
    """Server events of the containers nubo manages, until closed; see the module docstring."""
    api = await engine.api()
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[_Item] = asyncio.Queue()
    reader = EventReader(api, loop, queue)
    reader.start()
    try:
        while True:
            item = await queue.get()
            if isinstance(item, VimError):
                raise item
            yield item
    finally:
        reader.close()
        await asyncio.to_thread(reader.join, JOIN_TIMEOUT)
        if reader.is_alive():
            log.warning("vim.events_reader_stuck thread=%s", reader.name)
