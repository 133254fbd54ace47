"""The schema's version: bringing a database to the migrations shipped with this nubo.

Migrations run on a connection the ``Database`` already holds, so the asyncio
driver serves both the application and Alembic (asyncpg has no synchronous
twin). A database already at head costs one SELECT: loading the migration
scripts costs more than the rest of a start-up.
"""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def upgrade_to_head(connection: Connection) -> None:
    """Run ``alembic upgrade head`` on an open connection (called through ``run_sync``)."""
    if set(MigrationContext.configure(connection).get_current_heads()) == script_heads():
        return
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


@functools.cache
def script_heads() -> frozenset[str]:
    """The head revisions of the migrations shipped with this nubo (read once per process)."""
    return frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())


__all__ = ["MIGRATIONS_DIR", "alembic_config", "script_heads", "upgrade_to_head"]
