"""``db.together`` (docs/adr/0012, seventh round): on PostgreSQL, writes nobody reads back go to
the database as one statement of data-modifying CTEs. Counted in statements, never timed."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from medcard.db import Driver, driver_connection, together
from tests.support import statements

ITEMS = "INSERT INTO t_item (id, name) SELECT * FROM unnest($1::int[], $2::text[])"
TALLY = "INSERT INTO t_tally (id, n) VALUES ($1, $2)"
BUMP = "UPDATE t_tally SET n = n + $1 WHERE id = $2"
NAMED = "INSERT INTO t_item (id, name) SELECT id + $2, name FROM picked"
PICK = "picked AS (SELECT * FROM unnest($1::int[], $3::text[]) AS p(id, name))"


async def driver_for(db: AsyncSession) -> Driver:
    driver = await driver_connection(db)
    if driver is None:
        pytest.skip("one statement for many writes is PostgreSQL's (SQLite has no driver path)")
    await driver.execute("CREATE TEMP TABLE t_item (id int PRIMARY KEY, name text NOT NULL) ON COMMIT DROP")
    await driver.execute("CREATE TEMP TABLE t_tally (id int PRIMARY KEY, n int NOT NULL) ON COMMIT DROP")
    return driver


async def test_writes_of_a_block_reach_the_database_as_one_statement(db: AsyncSession, engine: AsyncEngine) -> None:
    driver = await driver_for(db)
    with statements(engine) as sent:
        async with together(db):
            await driver.write(ITEMS, [1, 2], ["甲", "乙"])
            await driver.write(TALLY, 7, 10)
            await driver.write(NAMED, [1], 100, ["丙"], ctes=(PICK,))
            await driver.write(NAMED, [2], 200, ["丁"], ctes=(PICK,))  # the same CTE name, kept apart
            assert sent == []  # nothing sent until the block ends
    assert len(sent) == 1 and sent[0].startswith("WITH ")
    assert [tuple(row) for row in await driver.fetch("SELECT id, name FROM t_item ORDER BY id")] == [
        (1, "甲"), (2, "乙"), (101, "丙"), (202, "丁")
    ]  # fmt: skip
    assert await driver.fetch("SELECT n FROM t_tally") == [(10,)]


async def test_a_read_inside_the_block_sees_the_writes_before_it(db: AsyncSession, engine: AsyncEngine) -> None:
    driver = await driver_for(db)
    with statements(engine) as sent:
        async with together(db):
            await driver.write(TALLY, 1, 5)
            assert [tuple(row) for row in await driver.fetch("SELECT id, n FROM t_tally")] == [(1, 5)]
            await driver.write(BUMP, 2, 1)
    assert len(sent) == 3  # the kept write, the read, the write kept after it
    assert await driver.fetch("SELECT n FROM t_tally") == [(7,)]


async def test_a_block_left_by_an_error_sends_nothing(db: AsyncSession, engine: AsyncEngine) -> None:
    driver = await driver_for(db)

    async def failing() -> None:
        async with together(db):
            await driver.write(TALLY, 1, 5)
            raise RuntimeError("the batch failed")

    with statements(engine) as sent, pytest.raises(RuntimeError):
        await failing()
    assert sent == []
    await driver.write(TALLY, 2, 6)  # outside a block: sent at once
    assert await driver.fetch("SELECT id, n FROM t_tally") == [(2, 6)]


async def test_a_statement_on_other_tables_rides_with_the_kept_writes(db: AsyncSession, engine: AsyncEngine) -> None:
    """``fetch_beside``: one round trip for the kept writes and a statement that needs none of
    them; one that names a kept write's table waits for it to be sent first."""
    driver = await driver_for(db)
    await driver.write(TALLY, 1, 5)
    with statements(engine) as sent:
        async with together(db):
            await driver.write(ITEMS, [1], ["甲"])
            rows = await driver.fetch_beside(
                "UPDATE t_tally SET n = n + $1 WHERE id = $2 RETURNING n", 10, 1, touches=("t_tally",)
            )
            assert [tuple(row) for row in rows] == [(15,)]
            await driver.write(ITEMS, [2], ["乙"])
            names = await driver.fetch_beside("SELECT name FROM t_item ORDER BY id", touches=("t_item",))
            assert [row[0] for row in names] == ["甲", "乙"]  # the kept insert was sent first
    assert len(sent) == 3
    assert [tuple(row) for row in await driver.fetch("SELECT id, name FROM t_item ORDER BY id")] == [
        (1, "甲"),
        (2, "乙"),
    ]


async def test_a_statement_beside_the_kept_writes_may_have_ctes_of_its_own(
    db: AsyncSession, engine: AsyncEngine
) -> None:
    """``fetch_beside(…, ctes=…)``: the main query's own data-modifying CTEs go with the kept
    writes (their ``$n`` shifted past the writes'), in one round trip, with or without them."""
    driver = await driver_for(db)
    await driver.write(TALLY, 1, 5)
    await driver.write(TALLY, 2, 6)
    bumped = "bumped AS (UPDATE t_tally SET n = n + $1 WHERE id = $2 RETURNING id, n)"
    main = "SELECT id, n FROM bumped UNION ALL SELECT id, n FROM t_tally WHERE id = $3"
    with statements(engine) as sent:
        async with together(db):
            await driver.write(ITEMS, [1], ["甲"])
            rows = await driver.fetch_beside(main, 10, 1, 2, touches=("t_tally",), ctes=(bumped,))
        alone = await driver.fetch_beside(main, 100, 2, 1, touches=("t_tally",), ctes=(bumped,))  # no block
    assert sorted(tuple(row) for row in rows) == [(1, 15), (2, 6)]
    assert sorted(tuple(row) for row in alone) == [(1, 15), (2, 106)]
    assert len(sent) == 2 and all(query.startswith("WITH ") for query in sent)
    assert await driver.fetch("SELECT name FROM t_item") == [("甲",)]
