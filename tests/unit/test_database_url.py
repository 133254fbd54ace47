"""Database URLs as users write them: mapped to nubo's drivers, refused clearly otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from nubo.cli.main import main
from nubo.model.errors import DatabaseUnavailable, InvalidDatabaseUrl
from nubo.settings import Settings
from nubo.store.database import Database, database_url, masked, probe


@pytest.mark.parametrize(
    ("written", "used"),
    [
        ("postgresql://nubo:pw@db.example/nubo", "postgresql+asyncpg://nubo:pw@db.example/nubo"),
        (
            "postgres://nubo:pw@db.example:6543/nubo",
            "postgresql+asyncpg://nubo:pw@db.example:6543/nubo",
        ),
        ("postgresql+asyncpg://nubo@db.example/nubo", "postgresql+asyncpg://nubo@db.example/nubo"),
        ("sqlite+aiosqlite:////var/lib/nubo/nubo.db", "sqlite+aiosqlite:////var/lib/nubo/nubo.db"),
        ("sqlite:///relative/nubo.db", "sqlite+aiosqlite:///relative/nubo.db"),
    ],
)
def test_urls_map_to_the_asyncio_drivers(written: str, used: str) -> None:
    assert database_url(written).render_as_string(hide_password=False) == used


def test_the_environment_url_reaches_the_store() -> None:
    settings = Settings.from_env({"NUBO_DATABASE_URL": "postgres://nubo:pw@db.example/nubo"})
    database = Database(settings.db_url)
    assert database.engine.url.drivername == "postgresql+asyncpg"
    assert database.engine.url.database == "nubo"


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("mysql://nubo:s3cret@db.example/nubo", "not with driver 'mysql'"),
        ("postgresql+psycopg2://nubo:s3cret@db.example/nubo", "not with driver"),
        ("postgresql://nubo:s3cret@db.example", "names no database"),
        ("nubo:s3cret@db.example/nubo", "is not a URL"),
    ],
)
def test_unusable_urls_are_refused_naming_them_without_the_password(
    written: str, says: str
) -> None:
    with pytest.raises(InvalidDatabaseUrl) as caught:
        Database(written)
    assert says in caught.value.detail
    assert "s3cret" not in caught.value.detail
    assert "***" in caught.value.detail


def test_masked_hides_the_password_of_unparsed_text_too() -> None:
    assert masked("postgresql://nubo:s3cret@db/nubo") == "postgresql://nubo:***@db/nubo"
    assert masked("sqlite+aiosqlite:///nubo.db") == "sqlite+aiosqlite:///nubo.db"


async def test_a_server_that_does_not_answer_is_named_at_init() -> None:
    # port 1 on loopback: nothing listens, the connection is refused at once
    database = Database("postgresql://nubo:s3cret@127.0.0.1:1/nubo")
    try:
        with pytest.raises(DatabaseUnavailable) as caught:
            await database.init()
    finally:
        await database.close()
    detail = caught.value.detail
    assert "postgresql+asyncpg://nubo:***@127.0.0.1:1/nubo" in detail
    assert "s3cret" not in detail
    assert caught.value.status == 503


def test_serve_reports_an_unreachable_database_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main,
        [
            "serve",
            "--data-dir",
            str(tmp_path),
            "--database-url",
            "postgres://n:s3cret@127.0.0.1:1/x",
        ],
    )
    assert result.exit_code == 1
    assert "cannot use the database at postgresql+asyncpg://n:***@127.0.0.1:1/x" in result.output
    assert "s3cret" not in result.output
    assert "Traceback" not in result.output


def test_serve_reports_a_bad_url_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["serve", "--data-dir", str(tmp_path), "--database-url", "oracle://a:s3cret@h/d"]
    )
    assert result.exit_code == 1
    assert "oracle://a:***@h/d" in result.output
    assert "s3cret" not in result.output


async def test_a_first_start_probes_a_sqlite_file_whose_directory_does_not_exist(
    tmp_path: Path,
) -> None:
    # `nubo serve` on a fresh machine: ~/.local/share/nubo is not there yet
    await probe(f"sqlite+aiosqlite:///{tmp_path / 'fresh' / 'data' / 'nubo.db'}")
    assert (tmp_path / "fresh" / "data").is_dir()
