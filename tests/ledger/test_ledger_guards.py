"""The database itself refuses to edit the journal (R-PAY-01: posted entries are never edited,
reversal entries instead; every entry balances): triggers installed by the migration, tried
here with statements that bypass the ledger service."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import delete, insert, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.kit.clock import clock
from medcard.ledger import service as ledger
from medcard.ledger.rules import Leg
from medcard.ledger.service import AccountSpec
from medcard.models import JournalEntry, Posting


async def _accounts(db: AsyncSession) -> tuple[uuid.UUID, uuid.UUID]:
    specs = [
        AccountSpec("world", f"world:guard:{uuid.uuid4()}"),
        AccountSpec("deposit", f"d:{uuid.uuid4()}", floor_fen=0),
    ]
    ids = await ledger.ensure(db, specs)
    return ids[specs[0].key], ids[specs[1].key]


async def _refused(db: AsyncSession, statement: object) -> str:
    """Run ``statement`` in a savepoint; return the database's refusal (the test fails if none)."""
    with pytest.raises(DBAPIError) as refused:
        async with db.begin_nested():
            await db.execute(statement)  # type: ignore[call-overload]
    return str(refused.value)


async def test_r_pay_01_the_database_refuses_to_edit_or_delete_a_posted_entry(db: AsyncSession) -> None:
    """A posting is never updated or deleted; a posted entry's row is never changed or deleted."""
    world, deposit = await _accounts(db)
    entry_id = await ledger.post(db, kind="top_up", legs=[Leg(world, -500, "world"), Leg(deposit, 500, "deposit")])
    on_entry = Posting.entry_id == entry_id
    assert "ledger" in await _refused(db, update(Posting).where(on_entry).values(amount_fen=Posting.amount_fen * 2))
    assert "ledger" in await _refused(db, delete(Posting).where(on_entry))
    assert "ledger" in await _refused(db, update(JournalEntry).where(JournalEntry.id == entry_id).values(kind="x"))
    assert "ledger" in await _refused(
        db, update(JournalEntry).where(JournalEntry.id == entry_id).values(state="voided")
    )
    assert "ledger" in await _refused(db, delete(JournalEntry).where(JournalEntry.id == entry_id))


async def test_r_pay_01_a_pending_entry_is_resolved_once_then_frozen(db: AsyncSession) -> None:
    """A hold's state may change once (pending → posted / voided, the ledger's conditional
    UPDATE); after that the database refuses any further change."""
    world, deposit = await _accounts(db)
    await ledger.post(db, kind="top_up", legs=[Leg(world, -500, "world"), Leg(deposit, 500, "deposit")])
    held = await ledger.hold(db, kind="payment", legs=[Leg(deposit, -200, "deposit"), Leg(world, 200, "world")])
    assert await ledger.resolve(db, held, post_it=False)
    reopen = update(JournalEntry).where(JournalEntry.id == held).values(state="pending", resolved_at=None)
    assert "ledger" in await _refused(db, reopen)


async def test_r_pay_01_postgresql_refuses_an_unbalanced_entry_at_commit(db: AsyncSession) -> None:
    """Legs written past the ledger service that do not sum to zero: the deferred constraint
    trigger refuses them when the transaction's constraints are checked (at COMMIT, or here
    at ``SET CONSTRAINTS ALL IMMEDIATE``); balanced legs pass."""
    if db.get_bind().dialect.name != "postgresql":
        pytest.skip("deferred constraint triggers are PostgreSQL's (SQLite checks in the ledger service)")
    world, deposit = await _accounts(db)
    now = clock.now()

    async def entry(amounts: list[int]) -> None:
        entry_id = uuid.uuid4()
        await db.execute(insert(JournalEntry).values(id=entry_id, created_at=now, kind="top_up", state="posted",
                                                     memo={}, resolved_at=now))  # fmt: skip
        await db.execute(insert(Posting), [
            {"id": uuid.uuid4(), "created_at": now, "entry_id": entry_id, "account_id": account, "amount_fen": amount,
             "source": "world"} for account, amount in zip((world, deposit), amounts, strict=True)
        ])  # fmt: skip
        await db.execute(text("SET CONSTRAINTS ALL IMMEDIATE"))  # check now what COMMIT would check
        await db.execute(text("SET CONSTRAINTS ALL DEFERRED"))

    async with db.begin_nested():
        await entry([-300, 300])  # balanced: accepted
    with pytest.raises(DBAPIError) as refused:
        async with db.begin_nested():
            await entry([-300, 299])
    assert "sum to -1 fen" in str(refused.value)
