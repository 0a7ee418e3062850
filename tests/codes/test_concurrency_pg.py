"""Atomic consume under concurrency, on PostgreSQL (R-SEC-02)."""

from __future__ import annotations

import asyncio
import secrets
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from medcard.codes import service
from medcard.codes.errors import PaymentCodeUsed
from medcard.config import Settings
from medcard.db import unit_of_work
from medcard.errors import MedCardError
from medcard.kit.clock import clock
from medcard.models import PaymentCode
from tests.codes.pg import committed_world, postgres_only, skip_unless_postgres

pytestmark = postgres_only

CODES = 10_000


async def test_r_sec_02_ten_thousand_codes_each_redeemed_twice_concurrently_pay_exactly_once(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    skip_unless_postgres(settings)
    world = await committed_world(isolated_engine, settings, holders=20)
    now = clock.now()
    codes = [f"29{secrets.randbelow(10**16):016d}" for _ in range(CODES)]
    async with unit_of_work(world.sessions) as session:
        session.add_all(
            PaymentCode(
                code_hash=service.code_hash(settings, code),
                card_id=world.cards[i % 20].id,
                account_id=world.accounts[i % 20].id,
                issued_at=now,
                expires_at=now + timedelta(hours=1),  # atomicity, not expiry, is under test here
            )
            for i, code in enumerate(codes)
        )
    gate = asyncio.Semaphore(24)

    async def attempt(code: str) -> str:
        async with gate:
            try:
                async with unit_of_work(world.sessions) as session:
                    cashier = await session.get(type(world.cashier), world.cashier.id)
                    assert cashier is not None
                    await service.redeem(session, staff=cashier, text=code, amount_fen=1, pin=None, settings=settings)
            except PaymentCodeUsed:
                return "used"
            except MedCardError as error:
                return f"won-then-refused:{error.code}"  # consumed, then e.g. the velocity rule said no
            return "won"

    outcomes = await asyncio.gather(*(attempt(code) for code in codes for _ in range(2)))
    winners = [o for o in outcomes if o != "used"]
    assert len(winners) == CODES
    assert outcomes.count("used") == CODES
    async with world.sessions() as session:
        consumed = await session.scalar(
            select(func.count()).where(
                PaymentCode.account_id.in_([a.id for a in world.accounts]), PaymentCode.status == "consumed"
            )
        )
    assert consumed == CODES
