"""Concurrency on PostgreSQL: 50 simultaneous wrong PINs, freeze racing payments (R-SEC-03, R-SEC-05)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from medcard.auth.service import actor_for_account
from medcard.codes import service as codes
from medcard.config import Settings
from medcard.db import unit_of_work
from medcard.errors import MedCardError
from medcard.kit.clock import clock
from medcard.models import Account, AuditEvent, PaymentCode, SecurityProfile, StaffUser
from medcard.security import service as security
from tests.codes.pg import committed_world, postgres_only, skip_unless_postgres

pytestmark = postgres_only


async def test_r_sec_03_fifty_concurrent_wrong_pins_evaluate_exactly_five(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    skip_unless_postgres(settings)
    world = await committed_world(isolated_engine, settings, holders=1)
    account_id = world.accounts[0].id
    async with unit_of_work(world.sessions) as session:
        account = await session.get(Account, account_id)
        assert account is not None
        await security.set_pin(session, account=account, pin="135790", settings=settings, verification_id=None)

    async def guess() -> str:
        try:
            async with unit_of_work(world.sessions) as session:
                account = await session.get(Account, account_id)
                assert account is not None
                await security.check_pin(
                    session, account=account, pin="246802", settings=settings, actor=actor_for_account(account)
                )
        except MedCardError as error:
            return error.code
        return "ok"

    outcomes = await asyncio.gather(*(guess() for _ in range(50)))
    assert outcomes.count("PIN_WRONG") == 4
    assert outcomes.count("PIN_LOCKED") == 46  # the fifth wrong one locks; 45 never evaluated
    async with world.sessions() as session:
        profile = await session.scalar(select(SecurityProfile).where(SecurityProfile.account_id == account_id))
        evaluated = await session.scalar(
            select(func.count()).where(
                AuditEvent.action == "security.pin_wrong", AuditEvent.subject_id == str(profile.id)
            )  # type: ignore[union-attr]
        )
    assert evaluated == 5
    assert profile is not None and profile.pin_failures == 5 and profile.pin_locked_until is not None


async def test_r_sec_05_no_payment_commits_after_the_freeze_commits(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    skip_unless_postgres(settings)
    world = await committed_world(isolated_engine, settings, holders=1)
    account_id = world.accounts[0].id
    now = clock.now()
    codes_text = [f"29{(account_id.int + index) % 10**16:016d}" for index in range(40)]
    async with unit_of_work(world.sessions) as session:
        session.add_all(
            PaymentCode(
                code_hash=codes.code_hash(settings, text),
                card_id=world.cards[0].id,
                account_id=account_id,
                issued_at=now,
                expires_at=now + timedelta(minutes=10),
            )
            for text in codes_text
        )
        profile = SecurityProfile(account_id=account_id, per_transaction_limit_fen=10**7, daily_limit_fen=10**9)
        session.add(profile)

    async def pay(index: int, text: str) -> str:
        await asyncio.sleep(index * 0.002)  # spread the payments around the freeze
        try:
            async with unit_of_work(world.sessions) as session:
                cashier = await session.get(StaffUser, world.cashier.id)
                assert cashier is not None
                await codes.redeem(session, staff=cashier, text=text, amount_fen=1, pin=None, settings=settings)
        except MedCardError as error:
            return error.code
        return "paid"

    async def freeze() -> str:
        await asyncio.sleep(0.02)
        async with unit_of_work(world.sessions) as session:
            account = await session.get(Account, account_id)
            assert account is not None
            await security.freeze_self(session, account=account, current_session_id=account_id)
        return "frozen"

    outcomes = await asyncio.gather(freeze(), *(pay(index, text) for index, text in enumerate(codes_text)))
    assert set(outcomes[1:]) <= {"paid", "ACCOUNT_PAYMENTS_FROZEN", "PAYMENT_CODE_REVOKED", "PAYMENT_VELOCITY_EXCEEDED"}
    assert "paid" in outcomes
    assert "ACCOUNT_PAYMENTS_FROZEN" in outcomes or "PAYMENT_CODE_REVOKED" in outcomes
    async with world.sessions() as session:
        # Both write their audit row while holding the profile's row lock, so the rows' times
        # follow the order in which the lock was held, which is the commit order.
        freeze_at = await session.scalar(
            select(AuditEvent.at).where(AuditEvent.action == "security.freeze", AuditEvent.actor_id == str(account_id))
        )
        ids = [
            str(i) for i in (await session.scalars(select(PaymentCode.id).where(PaymentCode.account_id == account_id)))
        ]
        last_payment = await session.scalar(
            select(func.max(AuditEvent.at)).where(AuditEvent.action == "code.redeem", AuditEvent.subject_id.in_(ids))
        )
    assert freeze_at is not None
    assert last_payment is None or last_payment < freeze_at
