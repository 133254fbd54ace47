"""Shared fixtures and builders: in-memory and Docker orchestrators, HTTP clients of
their API, an engine client, a per-test label and cleanup by that label.

Docker tests are skipped when no engine answers, unless ``NUBO_REQUIRE_DOCKER``
is set (CI): then an unreachable engine fails the run instead of hiding it.
Every store and orchestrator gets the test's own database on the backend
``NUBO_TEST_DATABASE`` names (see ``tests/databases.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import docker
import docker.errors
import httpx
import pytest
import requests.exceptions

from nubo.app import Nubo, Repositories, build, build_repositories
from nubo.nfvo.operations import FaultHook
from nubo.settings import Settings
from nubo.store.database import Database
from nubo.testing import registry_with_fake
from nubo.vim.docker import DockerVimDriver
from nubo.vim.port import LABEL_NS, VimConfig
from tests.auth import TEST_AUTH_SETTINGS, token_for
from tests.databases import (
    TestDatabases,
    close_test_databases,
    database_url_for,
    open_test_databases,
)
from tests.sol005 import asgi_client
from tests.sol005_schemas import require_schemas

#: step boundaries of an instantiation where tests inject faults (raise, or kill nubo)
INSTANTIATE_POINTS = [
    "after:create-networks",
    "after:allocate",
    "after:configure",
    "after:start sipp-server",
    "before:verify",
]

DOCKER_ENDPOINT = os.environ.get("NUBO_DOCKER_ENDPOINT", "unix:///var/run/docker.sock")


def pytest_configure(config: pytest.Config) -> None:
    """Without ETSI's SOL005 schemas the answers cannot be checked: the run fails, not skips."""
    try:
        require_schemas()
    except FileNotFoundError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.fixture(scope="session", autouse=True)
def test_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestDatabases]:
    """The run's template and databases; whatever is left is dropped when the run ends."""
    databases = open_test_databases(tmp_path_factory.mktemp("databases"))
    try:
        yield databases
    finally:
        close_test_databases()


@pytest.fixture(autouse=True)
def own_databases(test_databases: TestDatabases) -> Iterator[None]:
    """Drop the databases this test made, also when it failed (autouse: torn down last)."""
    mark = test_databases.mark()
    yield
    test_databases.drop_since(mark)


@pytest.fixture(autouse=True)
def cli_session(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI keeps its tokens in a file of the test's own, never in the user's config."""
    config = tmp_path_factory.mktemp("cli-config") / "config.json"
    monkeypatch.setenv("NUBO_CONFIG", str(config))
    monkeypatch.delenv("NUBO_TOKEN", raising=False)


@pytest.fixture(scope="session")
def docker_client() -> Iterator[Any]:
    """A docker SDK client; skips (or fails under NUBO_REQUIRE_DOCKER) without an engine."""
    try:
        client = docker.DockerClient(base_url=DOCKER_ENDPOINT, version="auto", timeout=30)
        client.ping()
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        reason = f"Docker Engine unreachable at {DOCKER_ENDPOINT}: {exc}"
        if os.environ.get("NUBO_REQUIRE_DOCKER"):
            pytest.fail(f"{reason} (NUBO_REQUIRE_DOCKER is set)", pytrace=False)
        pytest.skip(reason)
    yield client
    client.close()


def remove_labelled(client: Any, label: str) -> None:
    """Force-remove every container, then every network, carrying ``label`` (k=v)."""
    for container in client.containers.list(
        ignore_removed=True, all=True, filters={"label": label}
    ):
        with contextlib.suppress(docker.errors.NotFound):
            container.remove(force=True)
    for network in client.networks.list(filters={"label": label}):
        with contextlib.suppress(docker.errors.NotFound):
            network.remove()


async def stop_and_clean(app: Any, docker_client: Any) -> None:
    """Stop an in-process nubo, then remove everything of every NS it knows.

    In that order: calls already running in the Docker driver's threads finish
    during ``stop``, so nothing they create can appear after the clean-up.
    """
    nsr_ids = [nsr.id for nsr in await app.repositories.nsrs.list_nsrs(include_terminated=True)]
    await app.stop()
    for nsr_id in nsr_ids:
        remove_labelled(docker_client, f"{LABEL_NS}={nsr_id}")


@pytest.fixture
async def database(tmp_path: Path) -> AsyncIterator[Database]:
    """The test's own database at its newest schema (cloned from the run's template)."""
    db = Database(database_url_for(tmp_path))
    await db.init()
    try:
        yield db
    finally:
        await db.close()


@pytest.fixture
def store(database: Database) -> Repositories:
    """Every repository on an empty database, as the composition root builds them."""
    return build_repositories(database, "test-replica", lease_seconds=10.0)


@pytest.fixture
def ns_labels(docker_client: Any) -> Iterator[dict[str, str]]:
    """``{io.nubo.ns-id: <uuid>}`` for this test; everything carrying it is removed after."""
    value = str(uuid.uuid4())
    yield {LABEL_NS: value}
    remove_labelled(docker_client, f"{LABEL_NS}={value}")


@pytest.fixture
def docker_vim_config() -> VimConfig:
    return VimConfig(id="test-docker", name="test-docker", type="docker", endpoint=DOCKER_ENDPOINT)


@pytest.fixture
async def docker_driver(
    docker_vim_config: VimConfig, ns_labels: dict[str, str]
) -> AsyncIterator[DockerVimDriver]:
    """A Docker driver; depends on ``ns_labels`` so it closes before the label cleanup."""
    driver = DockerVimDriver(docker_vim_config)
    yield driver
    await driver.close()


@pytest.fixture(autouse=True)
async def no_leaked_tasks() -> AsyncIterator[None]:
    """A test that leaves asyncio tasks running (an operation nobody awaited) fails."""
    yield
    current = asyncio.current_task()
    leaked = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    for task in leaked:
        task.cancel()
    assert not leaked, f"test leaked asyncio tasks: {[t.get_name() for t in leaked]}"


def fake_nubo(
    data_dir: Path,
    *,
    background: bool = False,
    fault_hook: FaultHook | None = None,
    **settings: Any,
) -> Nubo:
    """An orchestrator on the in-memory VIM (not started).

    Without ``background``, fault management, monitoring and auto-scaling stay
    off, so a test drives the NFVO (or one loop of its own) undisturbed.
    """
    if not background:
        settings = {"fault_management": False, "monitoring": False, "autoscaling": False} | settings
    settings = {"database_url": database_url_for(data_dir)} | TEST_AUTH_SETTINGS | settings
    config = Settings(data_dir=data_dir, default_vim_type="fake", **settings)
    return build(config, registry=registry_with_fake(), fault_hook=fault_hook)


def docker_nubo(
    data_dir: Path,
    *,
    background: bool = False,
    fault_hook: FaultHook | None = None,
    **settings: Any,
) -> Nubo:
    """An orchestrator on the local Docker Engine with test bounds (not started).

    Start waits are 30 s and operations 120 s; without ``background`` the
    fault, monitoring and auto-scaling loops stay off, as in ``fake_nubo``.
    """
    if not background:
        settings = {"fault_management": False, "monitoring": False, "autoscaling": False} | settings
    defaults = {
        "start_timeout": 30,
        "op_timeout": 120,
        "database_url": database_url_for(data_dir),
        **TEST_AUTH_SETTINGS,
    }
    config = Settings(data_dir=data_dir, **(defaults | settings))
    return build(config, fault_hook=fault_hook)


@contextlib.asynccontextmanager
async def running(app: Nubo, docker_client: Any = None) -> AsyncIterator[Nubo]:
    """Start ``app`` for a test; stop it after, also when the test fails.

    With a ``docker_client``, everything of every NS the orchestrator knows is
    removed from the engine after it stopped (``stop_and_clean``).
    """
    await app.start()
    try:
        yield app
    finally:
        if docker_client is None:
            await app.stop()
        else:
            await stop_and_clean(app, docker_client)


@contextlib.asynccontextmanager
async def api_client(app: Nubo, user: str = "admin") -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the (started) orchestrator's API, in process, logged in as ``user``."""
    async with asgi_client(app.api(), token=await token_for(app, user)) as client:
        yield client
