"""Alembic migrations: an empty database goes to head and back, and head matches the models."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

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


def test_0003_indexes_sealed_rows_only_and_keeps_the_log(empty_database: Settings) -> None:
    """Migration 0003 (ADR 0012, tenth round): the chain's unique index leaves unsealed rows out,
    the sealer's backlog index stays partial through SQLite's table copy, no audit row is lost,
    and the idempotency keys' pages are filled to 20% on PostgreSQL; downgrading restores the
    unique constraint."""
    audit = Base.metadata.tables["audit_event"]

    def row(seq: int | None) -> dict[str, object]:
        now = datetime.now(UTC)
        return {"id": uuid.uuid4(), "created_at": now, "at": now, "actor_kind": "system", "actor_id": "t",
                "actor_label": "", "action": "test.migrated", "subject_kind": "test", "subject_id": "1",
                "result": "ok", "details": {}, "chain_seq": seq}  # fmt: skip

    async def insert_rows(*seqs: int | None) -> None:
        engine = make_engine(empty_database)
        try:
            async with engine.begin() as connection:
                await connection.execute(insert(audit), [row(seq) for seq in seqs])
        finally:
            await engine.dispose()

    async def schema() -> tuple[int, dict[str, dict[str, Any]], list[Any], str]:
        engine = make_engine(empty_database)
        try:
            async with engine.connect() as connection:
                count = (await connection.execute(select(func.count()).select_from(audit))).scalar_one()

                def read(sync_connection):  # type: ignore[no-untyped-def]
                    inspector = inspect(sync_connection)
                    indexes = {index["name"]: index for index in inspector.get_indexes("audit_event")}
                    return indexes, inspector.get_unique_constraints("audit_event")

                indexes, uniques = await connection.run_sync(read)
                options = ""
                if engine.dialect.name == "postgresql":
                    found = await connection.execute(
                        text("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE relname = 'idempotency_key'")
                    )
                    options = found.scalar_one() or ""
                return count, indexes, uniques, options
        finally:
            await engine.dispose()

    def where(index: dict[str, Any]) -> str:
        options = index.get("dialect_options", {})
        clause = options.get("postgresql_where", options.get("sqlite_where"))
        return " ".join(str(clause).split()).lower().replace("(", "").replace(")", "")

    upgrade(empty_database, "0002")
    run_async(insert_rows(1, None))
    upgrade(empty_database)
    count, indexes, uniques, options = run_async(schema())
    assert count == 2
    assert indexes["uq_audit_event_chain_seq"]["unique"] and where(indexes["uq_audit_event_chain_seq"]) == (
        "chain_seq is not null"
    )
    assert where(indexes["ix_audit_event_unsealed"]) == "chain_seq is null"
    assert not [u for u in uniques if u["column_names"] == ["chain_seq"]]
    if empty_database.is_sqlite:
        assert options == ""
    else:
        assert "fillfactor=20" in options.split(",")
    run_async(insert_rows(None, None, 2))  # any number unsealed
    with pytest.raises(IntegrityError):
        run_async(insert_rows(2))  # a chain position is taken once
    downgrade(empty_database, "0002")
    count, indexes, uniques, options = run_async(schema())
    assert count == 5 and options == ""
    # PostgreSQL lists the constraint's own index too: whole, not partial.
    assert where(indexes.get("uq_audit_event_chain_seq", {})) == "none"
    assert [u["column_names"] for u in uniques if u["name"] == "uq_audit_event_chain_seq"] == [["chain_seq"]]
    assert where(indexes["ix_audit_event_unsealed"]) == "chain_seq is null"
