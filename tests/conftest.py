"""Test fixtures. Every test runs in a transaction that is rolled back at its end.

The database comes from ``MEDCARD_TEST_DATABASE_URL`` (CI sets a PostgreSQL URL for the
second pass); by default a fresh SQLite file. The schema is built by the Alembic
migrations, not by ``create_all``, so the migrations are exercised on every run.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.pool import NullPool

from medcard.adapters import Adapters, sandbox_adapters
from medcard.app import create_app
from medcard.config import Settings
from medcard.db import make_engine, transaction
from medcard.deps import get_session
from medcard.kit.clock import clock
from medcard.migrate import upgrade
from medcard.models import Base
from tests import factories
from tests.support import run_async

TEST_SECRET = "test-secret-0123456789abcdef0123456789abcdef"


def _database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("MEDCARD_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        environment="test",
        database_url=_database_url(tmp_path_factory),
        secret_key=TEST_SECRET,
        sandbox_latency_scale=0.0,
        audit_seal_interval_seconds=0,  # tests seal where they expect linked rows
        _env_file=None,  # type: ignore[call-arg]
    )


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


@pytest.fixture
async def isolated_engine(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """A PostgreSQL database of its own, migrated, dropped afterwards: for concurrency tests
    that must commit through several connections (their rows must not reach other tests)."""
    if settings.is_sqlite:
        pytest.skip("concurrency needs PostgreSQL (SQLite serialises every writer)")
    url = make_url(settings.database_url)
    name = f"{url.database}_isolated_{os.getpid()}"

    async def admin(statement: str) -> None:
        engine = make_engine(settings, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        async with engine.connect() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin(f'CREATE DATABASE "{name}"')
    isolated = settings.model_copy(update={"database_url": url.set(database=name).render_as_string(False)})
    upgrade(isolated)  # runs in a thread of its own while this loop is running
    engine = make_engine(isolated)
    try:
        yield engine
    finally:
        await engine.dispose()
        await admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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
