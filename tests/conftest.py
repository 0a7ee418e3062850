"""Test fixtures. Every test runs in a transaction that is rolled back at its end.

The database comes from ``MEDCARD_TEST_DATABASE_URL`` (CI sets a PostgreSQL URL for the
second pass); by default a fresh SQLite file. The schema is built by the Alembic
migrations, not by ``create_all``, so the migrations are exercised on every run.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import NullPool

from medcard.adapters import Adapters, sandbox_adapters
from medcard.app import create_app
from medcard.codes.gateway import CodeGateway
from medcard.config import DEV_SECRET, Settings
from medcard.db import make_engine, transaction
from medcard.deps import get_session
from medcard.kit import keys
from medcard.kit.clock import clock
from medcard.migrate import upgrade
from medcard.models import Base
from medcard.observability import configure_logging
from medcard.settlement.gateway import PaymentGateway
from tests import factories
from tests.logscan import CAPTURE, scan, typed_pins
from tests.support import run_async

TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef"
NO_SANDBOX_FAULTS = {
    "sandbox_channel_timeout_rate": 0.0,
    "sandbox_channel_failure_rate": 0.0,
    "sandbox_channel_false_insufficient_rate": 0.0,
    "sandbox_insurance_timeout_rate": 0.0,
}
"""Tests see well-behaved money sandboxes; a test about faults builds its own sandbox."""
LEAKS = pytest.StashKey[list[str]]()
LOG_LINES = pytest.StashKey[int]()


def pytest_configure(config: pytest.Config) -> None:
    """Capture every log line of the run for the R-SEC-08 log scan (structlog goes through logging).

    Under pytest-xdist (``make unit`` runs one worker per core) each worker has a PostgreSQL
    database of its own: ``MEDCARD_TEST_DATABASE_URL`` is rewritten to ``<name>_<worker>`` before
    any fixture reads it, so the databases derived from it (browser tests, isolated and empty
    databases) are the worker's too."""
    _worker_database()
    configure_logging(Settings(_env_file=None))  # type: ignore[call-arg]
    root = logging.getLogger()
    root.addHandler(CAPTURE)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    CAPTURE.keys.update({DEV_SECRET, TEST_SECRET})


def _worker_database() -> None:
    worker, url = os.environ.get("PYTEST_XDIST_WORKER"), os.environ.get("MEDCARD_TEST_DATABASE_URL")
    if not worker or not url:
        return
    base = make_url(url)
    name = f"{base.database}_{worker}"
    settings = Settings(database_url=url, _env_file=None)  # type: ignore[call-arg]
    run_async(_admin_sql(settings, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    run_async(_admin_sql(settings, f'CREATE DATABASE "{name}"'))
    os.environ["MEDCARD_TEST_DATABASE_URL"] = base.set(database=name).render_as_string(hide_password=False)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """R-SEC-08: no full ID number, phone, typed PIN, payment code or key in any log line.
    An xdist worker scans its own lines and hands what it found to the controller."""
    leaks = scan(CAPTURE.lines, pins=typed_pins(Path(__file__).parent), keys=CAPTURE.keys)
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["log_lines"] = len(CAPTURE.lines)
        workeroutput["leaks"] = [str(leak) for leak in leaks]
        return
    found = session.config.stash.setdefault(LEAKS, [])
    found.extend(str(leak) for leak in leaks)
    session.config.stash[LOG_LINES] = session.config.stash.get(LOG_LINES, 0) + len(CAPTURE.lines)
    if found:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """The controller collects each xdist worker's log-scan result (its own scan sees no lines)."""
    output = getattr(node, "workeroutput", {})
    node.config.stash.setdefault(LEAKS, []).extend(output.get("leaks", []))
    node.config.stash[LOG_LINES] = node.config.stash.get(LOG_LINES, 0) + output.get("log_lines", 0)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    leaks = config.stash.get(LEAKS, [])
    lines = config.stash.get(LOG_LINES, 0)
    title = f"log scan (R-SEC-08): {lines} log lines, {len(leaks)} with personal data or secrets"
    terminalreporter.write_sep("=" if not leaks else "!", title, red=bool(leaks), green=not leaks)
    for leak in leaks[:100]:
        terminalreporter.write_line(f"LOG LEAK {leak}", red=True)


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("MEDCARD_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(
        environment="test",
        sandbox=True,
        database_url=_database_url(tmp_path_factory),
        secret_key=TEST_SECRET,
        sandbox_latency_scale=0.0,
        **NO_SANDBOX_FAULTS,
        audit_seal_interval_seconds=0,  # tests seal where they expect linked rows
        job_worker_interval_seconds=0,  # tests run the worker where they expect jobs to run
        _env_file=None,  # type: ignore[call-arg]
    )
    ring = settings.key_ring()
    derived = [*ring.data_keys.values(), ring.index_key]
    CAPTURE.keys.update(key.hex() for key in derived)
    return settings


def _reset_schema(settings: Settings) -> None:
    """Drop whatever a previous run left, then migrate an empty database to head."""

    async def drop() -> None:
        engine = make_engine(settings)
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)
            await connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
        await engine.dispose()

    run_async(drop())
    upgrade(settings)


@pytest.fixture(scope="session")
def migrated(settings: Settings) -> Settings:
    _reset_schema(settings)
    return settings


@pytest.fixture(scope="session")
async def engine(migrated: Settings) -> AsyncIterator[AsyncEngine]:
    engine = make_engine(migrated)
    yield engine
    await engine.dispose()


async def _admin_sql(settings: Settings, statement: str) -> None:
    """One statement outside any transaction (CREATE / DROP DATABASE) on the test server."""
    engine = make_engine(settings, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    async with engine.connect() as connection:
        await connection.execute(text(statement))
    await engine.dispose()


@pytest.fixture
async def isolated_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """A PostgreSQL database of its own, migrated, dropped afterwards: for concurrency tests
    that must commit through several connections (their rows must not reach other tests)."""
    if settings.is_sqlite:
        pytest.skip("concurrency needs PostgreSQL (SQLite serialises every writer)")
    url = make_url(settings.database_url)
    name = f"{url.database}_isolated_{os.getpid()}"
    await _admin_sql(settings, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await _admin_sql(settings, f'CREATE DATABASE "{name}"')
    isolated = settings.model_copy(update={"database_url": url.set(database=name).render_as_string(False)})
    upgrade(isolated)  # runs in a thread of its own while this loop is running
    engine = make_engine(isolated)
    try:
        yield engine
    finally:
        await engine.dispose()
        await _admin_sql(settings, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def empty_database(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """Settings of an empty database (no schema) of the same kind as the test database, dropped afterwards."""
    if settings.is_sqlite:
        yield settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"})
        return
    admin = make_url(settings.database_url)
    name = f"{admin.database}_empty_{os.getpid()}"
    run_async(_admin_sql(settings, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    run_async(_admin_sql(settings, f'CREATE DATABASE "{name}"'))
    try:
        url = admin.set(database=name).render_as_string(hide_password=False)
        yield settings.model_copy(update={"database_url": url})
    finally:
        run_async(_admin_sql(settings, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def db(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside an outer transaction that is rolled back after the test."""
    async with engine.connect() as connection:
        transaction = await connection.begin()
        session = AsyncSession(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False
        )
        try:
            yield session
        finally:
            await session.close()
            await transaction.rollback()


@pytest.fixture(autouse=True)
def _real_clock() -> Iterator[None]:
    yield
    clock.unfreeze()


@pytest.fixture(autouse=True)
def _session_keys(settings: Settings) -> None:
    """Every test starts with the suite's key ring (a CLI test may have installed another)."""
    keys.install(settings.key_ring())


@pytest.fixture
def adapters(settings: Settings) -> Adapters:
    """Fresh sandboxes per test (the HIS and SMS sandboxes keep state in memory)."""
    return sandbox_adapters(settings)


@pytest.fixture
def app(settings: Settings, adapters: Adapters, db: AsyncSession):  # type: ignore[no-untyped-def]
    application = create_app(settings, adapters)

    async def test_session() -> AsyncIterator[AsyncSession]:
        # The real commit point, on the test's session (commits release a savepoint).
        async with transaction(db):
            yield db

    application.dependency_overrides[get_session] = test_session
    # The code gateway's batches run on the test's session too, one at a time.
    application.state.code_gateway = CodeGateway(lambda: transaction(db), settings, max_in_flight=1)
    # So do the payment gateway's, and the payments it leaves to the single path (which run
    # concurrently in production, each on its own session: here one at a time).
    turn = asyncio.Lock()

    @asynccontextmanager
    async def one_at_a_time() -> AsyncIterator[AsyncSession]:
        async with turn, transaction(db) as session:
            yield session

    application.state.payment_gateway = PaymentGateway(
        one_at_a_time, one_at_a_time, settings, adapters, max_in_flight=1
    )
    return application


@pytest.fixture
async def client(app) -> AsyncIterator[httpx.AsyncClient]:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def demo(db: AsyncSession) -> factories.Demo:
    """The demo region, hospitals and one staff user per role."""
    return await factories.demo(db)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: "e2e" in item.keywords)  # browser tests last (stable sort)
    if not Path("/usr/bin/chromium").exists():
        skip = pytest.mark.skip(reason="chromium not installed (make test installs it)")
        for item in items:
            if "e2e" in item.keywords:
                item.add_marker(skip)
