"""The database every test's store and orchestrator uses, on the backend the run asks for.

``NUBO_TEST_DATABASE`` chooses the backend of a pytest run: ``sqlite`` (the
default) or ``postgresql``; then ``NUBO_TEST_POSTGRES_URL`` is the URL of a
role that may create databases (``scripts/postgres.sh`` makes one; default
``postgresql://nubo:nubo@127.0.0.1:5439/postgres``). A PostgreSQL run whose
server does not answer fails every test that needs a database, never skips it.

Migrating a schema takes longer than most tests, so it happens once per run,
into a template: on SQLite a file that each test copies, on PostgreSQL a
database that each test clones with ``CREATE DATABASE ... TEMPLATE``. A data
directory gets one database for its life, so an orchestrator restarted on the
same directory finds its records again. Databases are named after the run
(two runs on one server never collide) and dropped after the test that made
them, or at the end of the run for those a module-scoped fixture made.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from sqlalchemy import make_url, select
from sqlalchemy.ext.asyncio import create_async_engine

from nubo.store.database import Database, masked
from nubo.store.tables import nsrs

_T = TypeVar("_T")

BACKENDS = ("sqlite", "postgresql")
DEFAULT_POSTGRES_URL = "postgresql://nubo:nubo@127.0.0.1:5439/postgres"
#: PostgreSQL databases cloned ahead of the tests that will need them
SPARE_CLONES = 3
#: tries to drop a database that a server process of another role is still using
DROP_ATTEMPTS = 10


class _LoopThread:
    """An event loop of its own in a thread, so sync fixtures and async tests alike can
    run database set-up to completion while the test's own loop may be running."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="test-databases")
        self._thread.start()

    def run(self, make: Callable[[], Coroutine[Any, Any, _T]], timeout: float = 120) -> _T:
        return self.submit(make).result(timeout)

    def submit(self, make: Callable[[], Coroutine[Any, Any, _T]]) -> Future[_T]:
        return asyncio.run_coroutine_threadsafe(make(), self._loop)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


async def _migrate(url: str) -> None:
    database = Database(url)
    try:
        await database.init()
    finally:
        await database.close()


class TestDatabases:
    """Per-run template and per-data-directory databases of one backend."""

    __test__ = False  # not a test class, despite its name

    def __init__(self, backend: str, postgres_url: str, workdir: Path) -> None:
        if backend not in BACKENDS:
            raise pytest.UsageError(f"NUBO_TEST_DATABASE={backend!r}: use one of {BACKENDS}")
        self.backend = backend
        self._workdir = workdir
        self._admin_url = make_url(postgres_url).set(drivername="postgresql")
        self._run = uuid.uuid4().hex[:12]
        self._numbers = itertools.count(1)
        self._runner = _LoopThread()
        self._admin: asyncpg.Pool | None = None
        #: clones of the template being made ahead of the tests that will take them
        self._spares: list[Future[str]] = []
        self._drops: list[Future[None]] = []
        self._template: str | None = None
        self._template_error: str | None = None
        #: data directory -> database URL, in creation order
        self._databases: dict[Path, str] = {}
        #: PostgreSQL database name of each URL this run created
        self._names: dict[str, str] = {}

    # -- what tests use ----------------------------------------------------------

    def url_for(self, data_dir: Path) -> str:
        """The database of ``data_dir``, at the newest schema; the same URL every call."""
        key = data_dir.resolve()
        if key not in self._databases:
            self._databases[key] = self._clone(key)
        return self._databases[key]

    def empty_url(self, data_dir: Path) -> str:
        """A database without any schema, for tests of the migrations themselves."""
        key = data_dir.resolve()
        assert key not in self._databases, f"{data_dir} has a database already"
        if self.backend == "sqlite":
            key.mkdir(parents=True, exist_ok=True)
            url = f"sqlite+aiosqlite:///{key / 'nubo.db'}"
        else:
            url = self._create_database("")
        self._databases[key] = url
        return url

    def nsr_ids(self, url: str) -> list[str]:
        """Ids of the NSRs in that database, read without a running orchestrator."""

        async def read() -> list[str]:
            engine = create_async_engine(url)
            try:
                async with engine.connect() as conn:
                    return [row.id for row in await conn.execute(select(nsrs.c.id))]
            finally:
                await engine.dispose()

        return self._runner.run(read)

    # -- lifetime ----------------------------------------------------------------

    def mark(self) -> int:
        return len(self._databases)

    def drop_since(self, mark: int) -> None:
        """Drop the databases created after ``mark`` (a test's own), whatever the test did."""
        created = list(self._databases.items())[mark:]
        for key, url in created:
            del self._databases[key]
            self._drop(url)

    def close(self) -> None:
        try:
            self.drop_since(0)
            for drop in self._drops:
                drop.result(120)  # a database a test could not drop fails the run here
            for spare in self._spares:
                with contextlib.suppress(Exception):
                    self._drop_name(spare.result(120))
            if self._template is not None and self.backend == "postgresql":
                self._drop_name(self._template)
            if self._admin is not None:
                admin = self._admin
                self._runner.run(admin.close)
        finally:
            self._runner.close()

    # -- backends ----------------------------------------------------------------

    def _clone(self, data_dir: Path) -> str:
        template = self._ensure_template()
        if self.backend == "sqlite":
            data_dir.mkdir(parents=True, exist_ok=True)
            target = data_dir / "nubo.db"
            assert not target.exists(), f"{target} exists before its test made it"
            shutil.copyfile(template, target)
            return f"sqlite+aiosqlite:///{target}"
        return self._take_spare(template)

    def _take_spare(self, template: str) -> str:
        """A clone made in advance: CREATE DATABASE waits on the server far longer than it
        works, so a few made side by side while tests run cost the tests next to nothing."""
        while len(self._spares) < SPARE_CLONES + 1:
            name = f"nubo_test_{self._run}_{next(self._numbers)}"
            self._spares.append(self._runner.submit(lambda n=name: self._clone_into(n, template)))
        name = self._spares.pop(0).result(120)
        url = self._url_of(name)
        self._names[url] = name
        return url

    async def _clone_into(self, name: str, template: str) -> str:
        await self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return name

    def _ensure_template(self) -> str:
        """The migrated template, made on first use: runs that need no database pay nothing."""
        if self._template_error is not None:
            pytest.fail(self._template_error, pytrace=False)
        if self._template is not None:
            return self._template
        try:
            if self.backend == "sqlite":
                path = self._workdir / "template.db"
                self._runner.run(lambda: _migrate(f"sqlite+aiosqlite:///{path}"))
                self._template = str(path)
            else:
                name = f"nubo_test_{self._run}_template"
                self._admin_execute(f'CREATE DATABASE "{name}"')
                self._template = name
                self._runner.run(lambda: _migrate(self._url_of(name)))
        except Exception as exc:
            where = masked(self._admin_url) if self.backend == "postgresql" else self._workdir
            hint = " (start one with: bash scripts/postgres.sh)" if self.backend != "sqlite" else ""
            self._template_error = (
                f"no {self.backend} test database at {where}: {type(exc).__name__}: {exc}{hint}"
            )
            pytest.fail(self._template_error, pytrace=False)
        return self._template

    def _create_database(self, template: str) -> str:
        name = f"nubo_test_{self._run}_{next(self._numbers)}"
        clause = f' TEMPLATE "{template}"' if template else ""
        self._admin_execute(f'CREATE DATABASE "{name}"{clause}')
        url = self._url_of(name)
        self._names[url] = name
        return url

    def _drop(self, url: str) -> None:
        name = self._names.pop(url, None)
        if name is not None:
            # in the background like the clones; close() waits for every drop
            self._drops.append(self._runner.submit(lambda: self._drop_database(name)))

    def _drop_name(self, name: str) -> None:
        self._runner.run(lambda: self._drop_database(name))

    async def _drop_database(self, name: str) -> None:
        """Drop a database, waiting out a server process FORCE may not end.

        FORCE ends what a killed `nubo serve` or a leaked engine left connected,
        but not a process of another role: an autovacuum worker that started on
        a fresh clone refuses (InsufficientPrivilege), and is gone in moments.
        """
        statement = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
        for attempt in range(1, DROP_ATTEMPTS + 1):
            try:
                await self._execute(statement)
                return
            except asyncpg.InsufficientPrivilegeError:
                if attempt == DROP_ATTEMPTS:
                    raise
                await asyncio.sleep(0.2 * attempt)

    def _url_of(self, name: str) -> str:
        url = self._admin_url.set(drivername="postgresql+asyncpg", database=name)
        return url.render_as_string(hide_password=False)

    def _admin_execute(self, statement: str) -> None:
        self._runner.run(lambda: self._execute(statement))

    async def _execute(self, statement: str) -> None:
        """Run one statement on the admin pool (in the loop thread: no lock needed)."""
        if self._admin is None:
            dsn = self._admin_url.render_as_string(hide_password=False)
            self._admin = await asyncpg.create_pool(
                dsn, min_size=1, max_size=SPARE_CLONES + 1, timeout=10
            )
        await self._admin.execute(statement)


_current: TestDatabases | None = None


def open_test_databases(workdir: Path) -> TestDatabases:
    """The run's databases, from the environment; tests reach them with ``current_databases()``."""
    global _current
    backend = os.environ.get("NUBO_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
    postgres_url = os.environ.get("NUBO_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)
    _current = TestDatabases(backend, postgres_url, workdir)
    return _current


def close_test_databases() -> None:
    global _current
    if _current is not None:
        _current.close()
        _current = None


def current_databases() -> TestDatabases:
    assert _current is not None, "the test_databases session fixture is not active"
    return _current


def database_url_for(data_dir: Path) -> str:
    """The database URL of the orchestrator or store that keeps its data in ``data_dir``."""
    return current_databases().url_for(data_dir)
