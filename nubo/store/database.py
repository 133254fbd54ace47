"""The database: URLs, the engine, the schema; what every repository is built on.

``Database`` is the one object the composition root makes from the URL; it
owns the engine (created here, tuned for the backend), brings the schema to
the newest migration, and disposes of the engine at the end. Repositories
take it and share its engine, so that transactions of different aggregates
go to one pool and one schema.

Users write PostgreSQL URLs the way libpq and most tools take them
(``postgresql://user:password@host/db`` or ``postgres://...``); SQLAlchemy
would pick the synchronous psycopg2 driver for those, which nubo neither ships
nor can use on asyncio, so they are mapped to asyncpg here. SQLite URLs keep
their file path; a bare ``sqlite://`` gets the asyncio driver for the same
reason. Anything else is refused before an engine exists, with the URL named
and its password masked, so a typo in ``--database-url`` is a clear start-up
error instead of a traceback from deep inside SQLAlchemy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import event, make_url, text
from sqlalchemy.engine import URL, Engine, ExceptionContext
from sqlalchemy.exc import ArgumentError, DBAPIError, DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from nubo.model.errors import BadRequest, DatabaseUnavailable, InvalidDatabaseUrl
from nubo.store.schema import upgrade_to_head

__all__ = [
    "Database",
    "SqliteEngine",
    "create_engine",
    "database_url",
    "engine_options",
    "ensure_reachable",
    "ensure_sqlite_directory",
    "masked",
    "probe",
    "refuse_unstorable_values",
]

POSTGRESQL_DRIVER = "postgresql+asyncpg"
SQLITE_DRIVER = "sqlite+aiosqlite"

_DRIVERS = {
    "postgresql": POSTGRESQL_DRIVER,
    "postgres": POSTGRESQL_DRIVER,
    POSTGRESQL_DRIVER: POSTGRESQL_DRIVER,
    "sqlite": SQLITE_DRIVER,
    SQLITE_DRIVER: SQLITE_DRIVER,
}

#: seconds a PostgreSQL connection attempt may take before start-up reports the server down
CONNECT_TIMEOUT = 10.0
#: connections one nubo process keeps open to PostgreSQL, and how many more it may open
#: under load (an overflow connection is opened and closed per use: a burst of deploys
#: with background loops beside it needs more than a handful); every replica has its own
#: pool, so replicas x (size + overflow) must stay below the server's max_connections
#: (100 by default)
POOL_SIZE = 20
POOL_OVERFLOW = 10
#: how long a SQLite connection waits for another writer before giving up
SQLITE_BUSY_TIMEOUT_MS = 10_000


#: drivers that log each statement with its parameters at DEBUG: password hashes,
#: secret configuration values and token ids would reach the log with them
STATEMENT_LOGGERS = ("aiosqlite",)


def quiet_statement_loggers() -> None:
    """Keep the drivers' statement logs out of a DEBUG log (SQLAlchemy's own echo,
    ``echo=True``, remains for debugging the store on purpose)."""
    for name in STATEMENT_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < logging.INFO:
            logger.setLevel(logging.INFO)


class Database:
    """One SQL database (SQLite or PostgreSQL): its engine, its schema, its end.

    Building it checks the URL (``InvalidDatabaseUrl``) and connects to
    nothing; ``init`` reaches the server and migrates.
    """

    def __init__(self, url: str | URL, *, echo: bool = False) -> None:
        quiet_statement_loggers()
        self._url = database_url(url)
        self._engine = create_engine(self._url, echo=echo)
        refuse_unstorable_values(self._engine)
        if self._url.get_backend_name() == "sqlite":
            event.listen(self._engine.sync_engine, "connect", _tune_sqlite)
        else:
            event.listen(self._engine.sync_engine, "checkout", _refuse_closed)

    @property
    def engine(self) -> AsyncEngine:
        """For the repositories of ``nubo.store`` only: nothing above them sees SQLAlchemy."""
        return self._engine

    async def init(self) -> None:
        """Create or migrate the schema to the newest version; a no-op when already there."""
        ensure_sqlite_directory(self._url)
        await ensure_reachable(self._engine)
        async with self._engine.begin() as conn:
            await conn.run_sync(upgrade_to_head)

    async def close(self) -> None:
        await self._engine.dispose()


def ensure_sqlite_directory(url: URL) -> None:
    """Make the directory of a SQLite file: on a first start it does not exist yet."""
    database = url.database
    if url.get_backend_name() != "sqlite" or not database:
        return
    if database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _tune_sqlite(dbapi_connection: Any, _record: Any) -> None:
    """WAL lets readers work while one writer commits; the busy timeout makes writers queue."""
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
    finally:
        cursor.close()


def _refuse_closed(_dbapi_connection: Any, _record: Any, proxy: Any) -> None:
    """A pooled connection the server has closed (a restart, an idle timeout) is not
    handed out: the pool drops it and checks out another.

    The driver sees the server close the socket as it happens, so asking it
    costs nothing, where a test query (the pool's pre-ping) would cost a round
    trip on every checkout. A connection that dies while in use still fails
    that use, and the pool then replaces every connection older than it.
    """
    if proxy.driver_connection.is_closed():
        raise DisconnectionError("the server closed this connection")


def masked(url: str | URL) -> str:
    """The URL with its password replaced by ``***``, for messages and logs."""
    if isinstance(url, URL):
        return url.render_as_string(hide_password=True)
    # text that did not parse: whatever stands between the user name and the host goes
    credentials, at, host = url.rpartition("@")
    if not at:
        return url
    scheme, slashes, user_and_password = credentials.rpartition("://")
    user, colon, _ = user_and_password.partition(":")
    return f"{scheme}{slashes}{user}{':***' if colon else ''}@{host}"


def database_url(raw: str | URL) -> URL:
    """The SQLAlchemy URL with nubo's asyncio driver; ``InvalidDatabaseUrl`` otherwise."""
    try:
        url = raw if isinstance(raw, URL) else make_url(raw.strip())
    except ArgumentError:
        raise InvalidDatabaseUrl(
            f"database URL {masked(raw)!r} is not a URL: use postgresql://USER:PASSWORD@HOST/DB"
            " or sqlite+aiosqlite:///PATH",
            url=masked(raw),
        ) from None
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise InvalidDatabaseUrl(
            f"database URL {masked(url)!r}: nubo stores its data in PostgreSQL (postgresql://)"
            f" or SQLite (sqlite+aiosqlite://), not with driver {url.drivername!r}",
            url=masked(url),
        )
    if driver == POSTGRESQL_DRIVER and not url.database:
        raise InvalidDatabaseUrl(
            f"database URL {masked(url)!r} names no database: postgresql://USER:PASSWORD@HOST/DB",
            url=masked(url),
        )
    return url.set(drivername=driver)


def engine_options(url: URL) -> dict[str, Any]:
    """Keyword arguments of ``create_async_engine`` for the URL's backend."""
    if url.get_backend_name() != "postgresql":
        return {}
    return {
        "pool_size": POOL_SIZE,
        "max_overflow": POOL_OVERFLOW,
        # reads run outside a transaction (``PostgresEngine``)
        "isolation_level": "AUTOCOMMIT",
        "connect_args": {
            "timeout": CONNECT_TIMEOUT,
            "server_settings": {"application_name": "nubo"},
        },
    }


class SqliteEngine(AsyncEngine):
    """An engine whose write transactions (``begin``) take turns within the process.

    SQLite lets one writer in at a time and makes the others sleep and poll
    (its busy handler backs off up to 100 ms a try): with several writers a
    burst of writes spends most of its time asleep, then fails with
    "database is locked". Queued on a lock here, each writer starts the
    moment the previous one commits; readers (``connect``) never wait, WAL
    lets them read while one writer writes. The busy handler remains for
    other processes on the same file.
    """

    def __init__(self, sync_engine: Engine) -> None:
        super().__init__(sync_engine)
        self._writer = asyncio.Lock()

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        async with self._writer, super().begin() as conn:
            yield conn


class PostgresEngine(AsyncEngine):
    """An engine whose reads (``connect``) run in autocommit and whose writes (``begin``)
    in a READ COMMITTED transaction.

    Each read is one statement or a few independent ones; at READ COMMITTED
    every statement takes its own snapshot anyway, so a transaction around
    them adds nothing but two round trips (BEGIN, ROLLBACK).
    """

    @contextlib.asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        async with self.connect() as conn:
            await conn.execution_options(isolation_level="READ COMMITTED")
            async with conn.begin():
                yield conn


def create_engine(url: URL, **options: Any) -> AsyncEngine:
    """The engine for a URL that ``database_url`` made, with nubo's options."""
    engine = create_async_engine(url, **engine_options(url), **options)
    if url.get_backend_name() == "sqlite":
        return SqliteEngine(engine.sync_engine)
    return PostgresEngine(engine.sync_engine)


async def ensure_reachable(engine: AsyncEngine) -> None:
    """One round trip to the database; ``DatabaseUnavailable`` naming the URL when it fails."""
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (OSError, TimeoutError, DBAPIError) as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise DatabaseUnavailable(
            f"cannot use the database at {masked(engine.url)}: {reason}", url=masked(engine.url)
        ) from exc


async def probe(raw: str | URL) -> None:
    """Check the URL and that its database answers, with an engine of its own."""
    url = database_url(raw)
    # a first start probes a SQLite file whose directory nobody made yet
    ensure_sqlite_directory(url)
    engine = create_engine(url)
    try:
        await ensure_reachable(engine)
    finally:
        await engine.dispose()


#: SQLSTATEs of PostgreSQL refusing a value that SQLite would have stored as given
_UNSTORABLE = {
    "22001": "a value is longer than the database allows",
    "22021": "text with a NUL character (U+0000) cannot be stored",
    "22P05": "a document with a NUL character (\\u0000) cannot be stored",
}


def refuse_unstorable_values(engine: AsyncEngine) -> None:
    """Turn PostgreSQL's refusal of a value into ``BadRequest`` for the caller who sent it.

    Descriptors and requests come from users; a NUL character or an over-long
    name would otherwise end as an internal error (500) on PostgreSQL only.
    """

    def translate(context: ExceptionContext) -> BaseException | None:
        reason = _UNSTORABLE.get(getattr(context.original_exception, "sqlstate", None) or "")
        if reason is None:
            return None
        return BadRequest(reason, cause=str(context.original_exception).splitlines()[0])

    if engine.url.get_backend_name() == "postgresql":
        event.listen(engine.sync_engine, "handle_error", translate)
