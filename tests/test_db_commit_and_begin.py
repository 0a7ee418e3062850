"""``db.commit_and_begin`` (docs/adr/0012, ninth round): the payment batch's recovery-point commit
and its posting's ``BEGIN`` as one message on PostgreSQL. Proven on committed rows seen from
another connection (so on a database of its own, not inside the tests' rolled-back transaction),
and by the session's driver surviving it (no second ``BEGIN`` of SQLAlchemy's)."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from medcard.db import commit_and_begin, driver_connection, make_sessionmaker
from tests.codes.pg import postgres_only

pytestmark = postgres_only

TABLE = "CREATE TABLE IF NOT EXISTS t_phase (id int PRIMARY KEY)"
DEFERRED = (
    "CREATE TABLE IF NOT EXISTS t_deferred (id int, CONSTRAINT uq_t_deferred UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)"
)


async def _rows(engine: AsyncEngine, table: str) -> list[int]:
    """What another connection sees: committed rows only."""
    async with engine.connect() as connection:
        return [row[0] for row in await connection.execute(text(f"SELECT id FROM {table} ORDER BY id"))]  # noqa: S608


async def _prepared(engine: AsyncEngine, statement: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(text(statement))


async def test_the_work_before_is_committed_and_the_work_after_is_its_own_transaction(
    isolated_engine: AsyncEngine,
) -> None:
    await _prepared(isolated_engine, TABLE)
    sessions = make_sessionmaker(isolated_engine)
    async with sessions() as session:
        driver = await driver_connection(session)
        assert driver is not None and driver.top_level
        await driver.execute("INSERT INTO t_phase VALUES (1)")
        await commit_and_begin(session)
        assert await _rows(isolated_engine, "t_phase") == [1]  # committed, seen from elsewhere
        # The session's transaction, its driver and the connection go on: no begin of SQLAlchemy's.
        assert await driver_connection(session) is driver
        await driver.execute("INSERT INTO t_phase VALUES (2)")
        assert await _rows(isolated_engine, "t_phase") == [1]  # the next transaction is open
        await session.rollback()  # undoes the second transaction only
    assert await _rows(isolated_engine, "t_phase") == [1]
    async with sessions() as session:
        driver = await driver_connection(session)
        assert driver is not None
        await driver.execute("INSERT INTO t_phase VALUES (3)")
        await commit_and_begin(session)
        await driver.execute("INSERT INTO t_phase VALUES (4)")
        await session.commit()
    assert await _rows(isolated_engine, "t_phase") == [1, 3, 4]


async def test_a_commit_that_fails_raises_and_begins_nothing(isolated_engine: AsyncEngine) -> None:
    """A deferred constraint refuses the commit: the error is the session's to handle, as its own
    commit's would be, and the rows are gone."""
    await _prepared(isolated_engine, DEFERRED)
    async with make_sessionmaker(isolated_engine)() as session:
        driver = await driver_connection(session)
        assert driver is not None
        await driver.execute("INSERT INTO t_deferred VALUES (7), (7)")
        with pytest.raises(asyncpg.UniqueViolationError):
            await commit_and_begin(session)
        assert not driver.connection.is_in_transaction()  # nothing was begun after the failed commit
        await session.rollback()
    assert await _rows(isolated_engine, "t_deferred") == []


async def test_inside_someone_elses_transaction_it_is_the_sessions_commit(db: AsyncSession) -> None:
    """The tests' sessions run in a savepoint of a transaction the fixture began: a raw COMMIT
    would end that one, so the session commits (releases its savepoint) instead."""
    driver = await driver_connection(db)
    if driver is None:
        pytest.skip("SQLite has no driver path: commit_and_begin is the session's commit there")
    assert not driver.top_level
    await driver.execute("CREATE TEMP TABLE t_kept (id int) ON COMMIT DROP")
    await driver.execute("INSERT INTO t_kept VALUES (5)")
    await commit_and_begin(db)
    renewed = await driver_connection(db)
    assert renewed is not None and renewed.connection is driver.connection
    assert await renewed.fetch("SELECT id FROM t_kept") == [(5,)]  # the outer transaction goes on
