"""The sealer links committed audit rows after commit: in the app's background, and safely
from several processes at once on PostgreSQL (R-SEC-08)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from medcard.app import create_app
from medcard.audit import chain, repository, sealer
from medcard.audit.repository import AuditRepository
from medcard.audit.service import Actor, record
from medcard.config import Settings
from medcard.db import driver_connection, make_engine, make_sessionmaker, unit_of_work
from medcard.migrate import upgrade
from medcard.models import AuditEvent, Region
from tests.codes.pg import postgres_only


async def _region(sessions: async_sessionmaker[AsyncSession]) -> Region:
    async with unit_of_work(sessions) as session:
        region = Region(code=f"99{secrets.randbelow(10**4):04d}", name_zh="测试", name_en="Test", card_scope="hospital")
        session.add(region)
    return region


async def _write(sessions: async_sessionmaker[AsyncSession], region: Region, rows: int, *, tag: str = "w") -> None:
    """One committed transaction with ``rows`` audit rows, as any audited request writes them."""
    async with unit_of_work(sessions) as session:
        for step in range(rows):
            await record(session, actor=Actor.system("sealer-test"), action=f"test.{tag}{step}", subject=region)


async def _chain_positions(sessions: async_sessionmaker[AsyncSession]) -> list[int | None]:
    async with sessions() as session:
        return list((await session.scalars(select(AuditEvent.chain_seq).order_by(AuditEvent.chain_seq))).all())


@postgres_only
async def test_r_sec_08_concurrent_sealers_build_one_contiguous_chain(isolated_engine: AsyncEngine) -> None:
    """R-SEC-08: three sealers in small batches while writers keep committing: every row is sealed exactly
    once, positions are 1..N without gaps or duplicates, and the chain verifies."""
    sessions = make_sessionmaker(isolated_engine)
    region = await _region(sessions)
    await asyncio.gather(*(_write(sessions, region, 10, tag=f"a{i}.") for i in range(6)))
    writing = True
    sealed_by: list[int] = [0, 0, 0]

    async def writer(index: int) -> None:
        for round_ in range(8):
            await _write(sessions, region, 3, tag=f"b{index}.{round_}.")
            await asyncio.sleep(0.005)

    async def seal_loop(index: int) -> None:
        while writing:
            sealed_by[index] += await sealer.seal_pending(sessions, batch=7)
            await asyncio.sleep(0.002)

    sealers = [asyncio.create_task(seal_loop(index)) for index in range(3)]
    await asyncio.gather(*(writer(index) for index in range(5)))
    writing = False
    await asyncio.gather(*sealers)
    final = await sealer.seal_pending(sessions, batch=7)

    positions = await _chain_positions(sessions)
    assert None not in positions
    assert positions == list(range(1, len(positions) + 1))
    assert sum(sealed_by) + final == len(positions) == 6 * 10 + 5 * 8 * 3
    assert sum(1 for count in sealed_by if count) >= 2  # they really took turns
    async with sessions() as session:
        report = await chain.verify(session)
    assert report.intact and report.pending == 0, report.problems


@postgres_only
async def test_r_sec_08_rows_committed_during_a_seal_are_sealed_by_the_next_one(
    isolated_engine: AsyncEngine,
) -> None:
    """R-SEC-08: a writer commits while a sealer holds the chain lock (commits never wait for it); its row,
    though written with an earlier time, is appended by the next seal, after the sealed rows."""
    sessions = make_sessionmaker(isolated_engine)
    region = await _region(sessions)
    await _write(sessions, region, 3)

    async def write_late() -> AuditEvent:
        async with unit_of_work(sessions) as writing:
            row = await record(writing, actor=Actor.system("sealer-test"), action="test.late", subject=region)
            row.at -= timedelta(minutes=5)
        return row

    async with unit_of_work(sessions) as sealing:
        assert await chain.seal(sealing) == 3
        late = await asyncio.wait_for(write_late(), timeout=10)  # commits while the lock is held
    async with sessions() as session:
        first = {row.id: row.row_hash for row in (await session.scalars(select(AuditEvent))).all() if row.chain_seq}
        state = await AuditRepository(session).seal_state()
    assert (state.sealed, state.pending) == (3, 1)
    assert await sealer.seal_pending(sessions) == 1
    async with sessions() as session:
        rows = (await session.scalars(select(AuditEvent).order_by(AuditEvent.chain_seq))).all()
        report = await chain.verify(session)
    assert [row.chain_seq for row in rows] == [1, 2, 3, 4] and rows[-1].id == late.id
    assert {row.id: row.row_hash for row in rows[:3]} == first
    assert report.intact and report.pending == 0


@pytest.fixture
def own_database(tmp_path: Path, settings: Settings) -> Settings:
    """A migrated SQLite file of the test's own: the app's sealer commits through its own
    connections, which the rolled-back test transaction would block."""
    local = settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{tmp_path / 'sealer.db'}"})
    upgrade(local)
    return local


async def _pending(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).where(AuditEvent.chain_seq.is_(None))) or 0)


@pytest.fixture
async def own_sessions(own_database: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on ``own_database`` outside the app (its engine is disposed when it stops)."""
    engine = make_engine(own_database)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def test_r_sec_08_the_app_seals_in_the_background(
    own_database: Settings, own_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """R-SEC-08: the app's lifespan runs the sealer every interval."""
    app = create_app(own_database.model_copy(update={"audit_seal_interval_seconds": 0.05}))
    async with app.router.lifespan_context(app):
        await _write(own_sessions, await _region(own_sessions), 4)
        for _ in range(100):
            if await _pending(own_sessions) == 0:
                break
            await asyncio.sleep(0.05)
        assert await _pending(own_sessions) == 0
    assert await _chain_positions(own_sessions) == [1, 2, 3, 4]


async def test_r_sec_08_the_app_seals_what_is_left_when_it_stops(
    own_database: Settings, own_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """R-SEC-08: a clean shutdown seals once more, so nothing stays pending."""
    app = create_app(own_database.model_copy(update={"audit_seal_interval_seconds": 3600}))
    async with app.router.lifespan_context(app):
        await asyncio.sleep(0.05)  # the first round found nothing; the next is an hour away
        await _write(own_sessions, await _region(own_sessions), 2)
        assert await _pending(own_sessions) == 2
    assert await _chain_positions(own_sessions) == [1, 2]


async def test_r_sec_08_interval_zero_runs_no_sealer(
    own_database: Settings, own_sessions: async_sessionmaker[AsyncSession]
) -> None:
    """R-SEC-08: interval 0 turns the background sealer off (tests; a scheduler runs `audit seal`)."""
    app = create_app(own_database.model_copy(update={"audit_seal_interval_seconds": 0}))
    async with app.router.lifespan_context(app):
        await _write(own_sessions, await _region(own_sessions), 2)
        await asyncio.sleep(0.1)
        assert await _pending(own_sessions) == 2
    assert await _pending(own_sessions) == 2


_ROWS = (
    "INSERT INTO audit_event (id, created_at, at, actor_kind, actor_id, actor_label, action, subject_kind,"
    " subject_id, result, details) SELECT gen_random_uuid(), now(),"
    " now() + make_interval(secs => g / 1000.0 + {start}), 'system', 'plan-test', '', 'test.plan', 'test', '1',"
    " 'ok', '{{}}'::jsonb FROM generate_series(1, {rows}) g"
)
_SEAL = (
    "UPDATE audit_event SET chain_seq = s.n + {after} FROM (SELECT id, row_number() OVER (ORDER BY at, id) n"
    " FROM audit_event WHERE chain_seq IS NULL) s WHERE audit_event.id = s.id AND s.n <= {upto}"
)


@postgres_only
async def test_the_sealer_reads_its_backlog_through_its_index_whatever_the_statistics(
    isolated_engine: AsyncEngine,
) -> None:
    """Statistics taken while 3,000 of 30,000 rows waited, then all of them sealed and 64 new
    ones written: without the sealer's plan settings PostgreSQL 15 reads the backlog through the
    ``at`` index, past every sealed row (checked by hand: 20 ms here, the whole log on a
    deployment). The sealer's read goes through the backlog's partial index, finds the 64, and
    leaves the transaction's planner settings as they were (ADR 0012, tenth round)."""
    async with isolated_engine.begin() as connection:
        await connection.execute(text(_ROWS.format(start=0, rows=30_000)))
        await connection.execute(text(_SEAL.format(after=0, upto=27_000)))
    async with isolated_engine.connect() as connection:
        await connection.execute(text("ANALYZE audit_event"))
    async with isolated_engine.begin() as connection:
        await connection.execute(text(_SEAL.format(after=27_000, upto=3_000)))
        await connection.execute(text(_ROWS.format(start=3600, rows=64)))
    async with make_sessionmaker(isolated_engine)() as session:
        driver = await driver_connection(session)
        assert driver is not None
        await driver.execute(repository._BACKLOG_PLAN)
        plan = " ".join(row[0] for row in await driver.fetch(f"EXPLAIN {repository._UNSEALED}", chain.SEAL_BATCH))
        await driver.execute(repository._PLAN_RESET)
        assert "ix_audit_event_unsealed" in plan and "Sort" not in plan, plan
        rows = await AuditRepository(session).unsealed_rows(limit=chain.SEAL_BATCH)
        assert len(rows) == 64 and all(row.action == "test.plan" for row in rows)
        assert [row[0] for row in await driver.fetch("SHOW enable_sort")] == ["on"]
        assert [row[0] for row in await driver.fetch("SHOW enable_incremental_sort")] == ["on"]
