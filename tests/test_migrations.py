"""Alembic migrations: an empty database goes to head and back, and head matches the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from medcard.config import Settings
from medcard.db import make_engine
from medcard.migrate import downgrade, upgrade
from medcard.models import Base
from tests.support import run_async


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


def test_upgrade_to_head_matches_models_and_downgrade_empties(empty_database: Settings) -> None:
    upgrade(empty_database)
    tables, diff = _tables_and_diff(empty_database)
    assert set(Base.metadata.tables) <= tables
    assert diff == [], f"models and migrations disagree: {diff}"
    downgrade(empty_database, "base")
    tables, _ = _tables_and_diff(empty_database)
    assert tables <= {"alembic_version"}
