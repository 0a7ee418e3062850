"""The double-entry ledger (R-PAY-01): balanced entries, floors enforced in code and by the
database, two-phase holds resolved exactly once, reversals instead of edits."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.ledger import service as ledger
from medcard.ledger.errors import InsufficientFunds, UnbalancedEntry
from medcard.ledger.repository import LedgerRepository
from medcard.ledger.rules import Leg
from medcard.ledger.service import AccountSpec
from medcard.models import LedgerAccount


def _spec(kind: str, floor: int | None = None) -> AccountSpec:
    return AccountSpec(kind, f"{kind}:test:{uuid.uuid4()}", floor_fen=floor)


async def _accounts(db: AsyncSession, *specs: AccountSpec) -> list[uuid.UUID]:
    ids = await ledger.ensure(db, specs)
    return [ids[spec.key] for spec in specs]


async def _balance(db: AsyncSession, account: uuid.UUID) -> tuple[int, int]:
    state = (await LedgerRepository(db).balances([account]))[account]
    return state.balance_fen, state.held_fen


async def _books_are_right(db: AsyncSession) -> None:
    repository = LedgerRepository(db)
    assert await repository.total() == 0
    assert await repository.drift() == []
    assert await repository.unbalanced_entries() == []


async def test_r_pay_01_an_entry_that_does_not_sum_to_zero_is_refused(db: AsyncSession) -> None:
    world, deposit = await _accounts(db, _spec("world"), _spec("deposit", 0))
    with pytest.raises(UnbalancedEntry):
        await ledger.post(db, kind="top_up", legs=[Leg(world, -100, "world"), Leg(deposit, 99, "deposit")])
    with pytest.raises(UnbalancedEntry):
        await ledger.post(db, kind="top_up", legs=[])


async def test_r_pay_01_posting_moves_balances_and_the_books_sum_to_zero(db: AsyncSession) -> None:
    world, deposit = await _accounts(db, _spec("world"), _spec("deposit", 0))
    await ledger.post(db, kind="top_up", legs=[Leg(world, -5000, "world"), Leg(deposit, 5000, "deposit")])
    await ledger.post(db, kind="top_up", legs=[Leg(world, -700, "world"), Leg(deposit, 700, "deposit")])
    assert await _balance(db, deposit) == (5700, 0)
    assert await _balance(db, world) == (-5700, 0)
    await _books_are_right(db)


async def test_r_pay_01_a_deposit_never_goes_negative(db: AsyncSession) -> None:
    world, deposit = await _accounts(db, _spec("world"), _spec("deposit", 0))
    await ledger.post(db, kind="top_up", legs=[Leg(world, -1000, "world"), Leg(deposit, 1000, "deposit")])
    with pytest.raises(InsufficientFunds) as refused:
        await ledger.post(db, kind="payment", legs=[Leg(deposit, -1001, "deposit"), Leg(world, 1001, "world")])
    assert refused.value.params["source"] == "deposit" and "预交金" in refused.value.text("zh")
    assert await _balance(db, deposit) == (1000, 0)


@pytest.mark.parametrize(("kind", "below"), [("deposit", -1), ("personal_account", -1), ("credit_line", -200_001)])
async def test_r_pay_01_the_database_refuses_a_forbidden_balance(db: AsyncSession, kind: str, below: int) -> None:
    """Even a statement that bypasses the service (no floor column set) cannot store it."""
    (account,) = await _accounts(db, _spec(kind))
    async with db.begin_nested():
        await db.execute(update(LedgerAccount).where(LedgerAccount.id == account).values(balance_fen=below + 1))
    with pytest.raises(IntegrityError):
        async with db.begin_nested():
            await db.execute(update(LedgerAccount).where(LedgerAccount.id == account).values(balance_fen=below))


async def test_r_pay_01_a_credit_line_stops_at_its_limit(db: AsyncSession) -> None:
    hospital, credit = await _accounts(db, _spec("hospital_receivable"), _spec("credit_line", -200_000))
    await ledger.post(db, kind="payment", legs=[Leg(credit, -150_000, "credit_line"), Leg(hospital, 150_000, "h")])
    with pytest.raises(InsufficientFunds):
        await ledger.post(db, kind="payment", legs=[Leg(credit, -50_001, "credit_line"), Leg(hospital, 50_001, "h")])
    await ledger.post(db, kind="payment", legs=[Leg(credit, -50_000, "credit_line"), Leg(hospital, 50_000, "h")])
    assert await _balance(db, credit) == (-200_000, 0)


async def test_r_pay_04_a_hold_reserves_and_resolves_exactly_once(db: AsyncSession) -> None:
    world, deposit, hospital = await _accounts(db, _spec("world"), _spec("deposit", 0), _spec("hospital_receivable"))
    await ledger.post(db, kind="top_up", legs=[Leg(world, -3000, "world"), Leg(deposit, 3000, "deposit")])
    held = await ledger.hold(db, kind="payment", legs=[Leg(deposit, -2000, "deposit"), Leg(hospital, 2000, "h")])
    assert await _balance(db, deposit) == (3000, 2000)
    with pytest.raises(InsufficientFunds):  # only 1000 left available
        await ledger.hold(db, kind="payment", legs=[Leg(deposit, -1001, "deposit"), Leg(hospital, 1001, "h")])
    assert await ledger.resolve(db, held, post_it=True)
    assert not await ledger.resolve(db, held, post_it=False)
    assert not await ledger.resolve(db, held, post_it=True)
    assert await _balance(db, deposit) == (1000, 0)
    assert await _balance(db, hospital) == (2000, 0)
    await _books_are_right(db)


async def test_r_pay_04_a_voided_hold_releases_the_money(db: AsyncSession) -> None:
    world, deposit, hospital = await _accounts(db, _spec("world"), _spec("deposit", 0), _spec("hospital_receivable"))
    await ledger.post(db, kind="top_up", legs=[Leg(world, -3000, "world"), Leg(deposit, 3000, "deposit")])
    held = await ledger.hold(db, kind="payment", legs=[Leg(deposit, -3000, "deposit"), Leg(hospital, 3000, "h")])
    assert await ledger.resolve(db, held, post_it=False)
    assert await _balance(db, deposit) == (3000, 0)
    assert await _balance(db, hospital) == (0, 0)
    await _books_are_right(db)


async def test_r_pay_01_a_reversal_is_a_new_entry_and_the_original_stays(db: AsyncSession) -> None:
    world, deposit = await _accounts(db, _spec("world"), _spec("deposit", 0))
    original = await ledger.post(db, kind="top_up", legs=[Leg(world, -800, "world"), Leg(deposit, 800, "deposit")])
    reversal = await ledger.reverse(db, original)
    assert reversal != original
    stored = await ledger.entry(db, original)
    assert stored is not None and stored.state == "posted"
    legs = await LedgerRepository(db).legs([original, reversal])
    assert [leg.amount_fen for leg in legs[reversal]] == [-leg.amount_fen for leg in legs[original]]
    assert await _balance(db, deposit) == (0, 0)
    await _books_are_right(db)
