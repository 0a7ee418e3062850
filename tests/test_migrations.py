"""Alembic migrations: an empty database goes to head and back, and head matches the models."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, make_url, text
from sqlalchemy.pool import NullPool

from medcard.config import Settings
from medcard.db import make_engine
from medcard.migrate import downgrade, upgrade
from medcard.models import Base
from tests.support import run_async


@pytest.fixture
def fresh(settings: Settings, tmp_path: Path) -> Iterator[Settings]:
    """An empty database of the same kind as the test database."""
    if settings.is_sqlite:
        yield settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'mig.db'}"})
        return
    name = f"medcard_migration_{os.getpid()}"
    admin = make_url(settings.database_url)

    async def admin_sql(statement: str) -> None:
        engine = make_engine(settings, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        async with engine.connect() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    run_async(admin_sql(f'DROP DATABASE IF EXISTS "{name}"'))
    run_async(admin_sql(f'CREATE DATABASE "{name}"'))
    try:
        url = admin.set(database=name).render_as_string(hide_password=False)
        yield settings.model_copy(update={"database_url": url})
    finally:
        run_async(admin_sql(f'DROP DATABASE IF EXISTS "{name}"'))


def _tables_and_diff(settings: Settings) -> tuple[set[str], list[object]]:
    async def run() -> tuple[set[str], list[object]]:
        engine = make_engine(settings)
        async with engine.connect() as connection:

            def inspect_sync(sync_connection):  # type: ignore[no-untyped-def]
                context = MigrationContext.configure(sync_connection, opts={"compare_type": True})
                return set(inspect(sync_connection).get_table_names()), compare_metadata(context, Base.metadata)

            result = await connection.run_sync(inspect_sync)
        await engine.dispose()
        return result

    return run_async(run())


def test_upgrade_to_head_matches_models_and_downgrade_empties(fresh: Settings) -> None:
    upgrade(fresh)
    tables, diff = _tables_and_diff(fresh)
    assert set(Base.metadata.tables) <= tables
    assert diff == [], f"models and migrations disagree: {diff}"
    downgrade(fresh, "base")
    tables, _ = _tables_and_diff(fresh)
    assert tables <= {"alembic_version"}
