"""Row locks in a fixed order under real concurrency, on PostgreSQL (R-PAY-01, R-CARD-10)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from medcard.config import Settings
from medcard.db import make_sessionmaker, unit_of_work
from medcard.ledger import service as ledger
from medcard.ledger.errors import InsufficientFunds
from medcard.ledger.repository import LedgerRepository
from medcard.ledger.rules import Leg
from medcard.ledger.service import AccountSpec
from tests.codes.pg import postgres_only, skip_unless_postgres

pytestmark = postgres_only


async def _accounts(engine: AsyncEngine) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    tag = uuid.uuid4()
    specs = [
        AccountSpec("credit_line", f"credit_line:pg:{tag}", floor_fen=-200_000),
        AccountSpec("hospital_receivable", f"hospital_receivable:pg:{tag}"),
        AccountSpec("channel_clearing", f"channel_clearing:pg:{tag}"),
    ]
    async with unit_of_work(make_sessionmaker(engine)) as session:
        ids = await ledger.ensure(session, specs)
    return ids[specs[0].key], ids[specs[1].key], ids[specs[2].key]


async def test_r_card_10_hundred_concurrent_1500_yuan_charges_on_a_fresh_2000_yuan_credit_line_one_succeeds(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    """100 transactions charge 1,500 yuan to one fresh 2,000-yuan credit line at once (each
    also touching the hospital account, so two rows are locked, always in id order): exactly
    one succeeds, the other 99 are refused, no deadlock, the books balance."""
    skip_unless_postgres(settings)
    credit, hospital, _ = await _accounts(isolated_engine)
    sessions = make_sessionmaker(isolated_engine)
    start = asyncio.Event()

    async def charge() -> str:
        await start.wait()
        try:
            async with unit_of_work(sessions) as session:
                legs = [Leg(hospital, 150_000, "hospital"), Leg(credit, -150_000, "credit_line")]
                await ledger.post(session, kind="payment", legs=legs)
        except InsufficientFunds:
            return "refused"
        return "paid"

    tasks = [asyncio.create_task(charge()) for _ in range(100)]
    start.set()
    results = await asyncio.gather(*tasks)
    assert (results.count("paid"), results.count("refused")) == (1, 99)
    async with sessions() as session:
        repository = LedgerRepository(session)
        assert (await repository.balances([credit]))[credit].balance_fen == -150_000
        assert await repository.drift() == []
        assert await repository.total() == 0


async def test_r_pay_04_concurrent_holds_and_resolutions_each_resolve_once(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    """30 holds of 100 yuan on a 2,000-yuan line: 20 fit. Each is then posted and voided by two
    racing transactions: exactly one of the two wins, and the line ends at what was posted."""
    skip_unless_postgres(settings)
    credit, hospital, _ = await _accounts(isolated_engine)
    sessions = make_sessionmaker(isolated_engine)

    async def hold() -> uuid.UUID | None:
        try:
            async with unit_of_work(sessions) as session:
                legs = [Leg(credit, -10_000, "credit_line"), Leg(hospital, 10_000, "hospital")]
                return await ledger.hold(session, kind="payment", legs=legs)
        except InsufficientFunds:
            return None

    held = [entry for entry in await asyncio.gather(*(hold() for _ in range(30))) if entry is not None]
    assert len(held) == 20

    async def resolve(entry: uuid.UUID, post_it: bool) -> bool:
        async with unit_of_work(sessions) as session:
            return await ledger.resolve(session, entry, post_it=post_it)

    outcomes = await asyncio.gather(*(resolve(e, p) for e in held for p in (True, False)))
    assert sum(outcomes) == 20
    posted = sum(1 for index, won in enumerate(outcomes) if won and index % 2 == 0)
    async with sessions() as session:
        state = (await LedgerRepository(session).balances([credit]))[credit]
        assert (state.balance_fen, state.held_fen) == (-10_000 * posted, 0)
        assert await LedgerRepository(session).drift() == []


async def test_r_pay_01_a_move_locks_its_accounts_in_the_order_given_not_the_plans(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    """A move of many balances (``LedgerRepository.move``) locks its rows in the order it is
    given — own accounts, then the hot ones, each by id — so two moves never wait on each other
    crosswise. Proof: while another transaction holds the first account, the move waits on it
    having locked nothing else, so the second account can still be locked NOWAIT."""
    skip_unless_postgres(settings)
    credit, hospital, clearing = await _accounts(isolated_engine)
    first, second = max(hospital, clearing), min(hospital, clearing)  # given first: the higher id
    sessions = make_sessionmaker(isolated_engine)
    async with sessions() as holder, sessions() as mover, sessions() as prober:
        await holder.execute(text("SELECT 1 FROM ledger_account WHERE id = :id FOR UPDATE"), {"id": first})
        move = asyncio.create_task(
            LedgerRepository(mover).move({first: (100, 0), second: (-100, 0)}, first={first})
        )  # fmt: skip
        await _until_waiting(prober)
        # The move waits on ``first``: it has not taken ``second``.
        await prober.execute(text("SELECT 1 FROM ledger_account WHERE id = :id FOR UPDATE NOWAIT"), {"id": second})
        await prober.rollback()
        await holder.rollback()
        await move
        await mover.commit()
    async with sessions() as session:
        states = await LedgerRepository(session).balances([first, second])
        assert (states[first].balance_fen, states[second].balance_fen) == (100, -100)
    assert credit not in states


async def _until_waiting(session: AsyncSession) -> None:
    """Until a backend of this database waits on a row lock (the move)."""
    for _ in range(500):
        waiting = await session.scalar(
            text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                 " AND wait_event_type = 'Lock'")
        )  # fmt: skip
        await session.rollback()
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the move never waited on the held account")
