"""Atomic consume under concurrency, on PostgreSQL (R-SEC-02)."""

from __future__ import annotations

import asyncio
import random
import secrets
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from medcard.codes import service
from medcard.codes.errors import PaymentCodeUsed
from medcard.codes.service import IssueRequest, RedeemRequest
from medcard.config import Settings
from medcard.db import unit_of_work
from medcard.errors import MedCardError
from medcard.kit.clock import clock
from medcard.models import PaymentCode
from medcard.security import service as security
from medcard.security.errors import LimitExceeded
from tests.codes.pg import World, committed_world, postgres_only, skip_unless_postgres

pytestmark = postgres_only

HOLDERS = 20


async def _live_codes(world: World, settings: Settings, count: int) -> list[str]:
    now = clock.now()
    codes = [f"29{secrets.randbelow(10**16):016d}" for _ in range(count)]
    async with unit_of_work(world.sessions) as session:
        session.add_all(
            PaymentCode(
                code_hash=service.code_hash(settings, code),
                card_id=world.cards[i % HOLDERS].id,
                account_id=world.accounts[i % HOLDERS].id,
                issued_at=now,
                expires_at=now + timedelta(hours=1),  # atomicity, not expiry, is under test here
            )
            for i, code in enumerate(codes)
        )
    return codes


async def _consumed(world: World) -> int:
    async with world.sessions() as session:
        count = await session.scalar(
            select(func.count()).where(
                PaymentCode.account_id.in_([a.id for a in world.accounts]), PaymentCode.status == "consumed"
            )
        )
    return int(count or 0)


def _outcome(result: object) -> str:
    if isinstance(result, PaymentCodeUsed):
        return "used"
    if isinstance(result, MedCardError):
        return f"won-then-refused:{result.code}"  # consumed, then e.g. the velocity rule said no
    return "won"


async def test_r_sec_02_ten_thousand_codes_each_redeemed_twice_concurrently_pay_exactly_once(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    """10,000 codes, each scanned by two POS requests that reach the database in different,
    concurrently committing transactions (batches of 25 as a code gateway groups them, in two
    independent random orders): exactly 10,000 consume, the other 10,000 are told "used"."""
    skip_unless_postgres(settings)
    world = await committed_world(isolated_engine, settings, holders=HOLDERS)
    codes = await _live_codes(world, settings, 10_000)
    sides = [random.sample(codes, len(codes)) for _ in range(2)]
    batches = [side[i : i + 25] for side in sides for i in range(0, len(side), 25)]
    random.shuffle(batches)
    gate = asyncio.Semaphore(16)

    async def redeem(batch: list[str]) -> list[str]:
        async with gate, unit_of_work(world.sessions) as session:
            cashier = await session.get(type(world.cashier), world.cashier.id)
            assert cashier is not None
            requests = [RedeemRequest(staff=cashier, text=code, amount_fen=1) for code in batch]
            return [_outcome(r) for r in await service.redeem_many(session, requests, settings=settings)]

    outcomes = [o for batch in await asyncio.gather(*(redeem(b) for b in batches)) for o in batch]
    assert outcomes.count("used") == 10_000
    assert len(outcomes) - outcomes.count("used") == 10_000
    assert await _consumed(world) == 10_000


async def test_r_sec_02_single_requests_racing_for_each_code_pay_exactly_once(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    """The API path: one transaction per scan, two scans of each of 500 codes racing."""
    skip_unless_postgres(settings)
    world = await committed_world(isolated_engine, settings, holders=HOLDERS)
    codes = await _live_codes(world, settings, 500)
    gate = asyncio.Semaphore(24)

    async def attempt(code: str) -> str:
        async with gate:
            try:
                async with unit_of_work(world.sessions) as session:
                    cashier = await session.get(type(world.cashier), world.cashier.id)
                    assert cashier is not None
                    await service.redeem(session, staff=cashier, text=code, amount_fen=1, pin=None, settings=settings)
            except MedCardError as error:
                return _outcome(error)
            return "won"

    outcomes = await asyncio.gather(*(attempt(code) for code in codes for _ in range(2)))
    assert outcomes.count("used") == 500
    assert len(outcomes) - outcomes.count("used") == 500
    assert await _consumed(world) == 500


async def test_r_sec_06_concurrent_payments_of_one_holder_respect_the_daily_limit(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    """Four 10-yuan codes of one holder whose daily limit is 25 yuan, paid at four POS at the
    same instant: the holder's security profile (created at the first code issue) serialises
    them, so exactly two pay and two are refused by the limit."""
    skip_unless_postgres(settings)
    world = await committed_world(isolated_engine, settings, holders=1)
    async with unit_of_work(world.sessions) as session:
        account = await session.get(type(world.accounts[0]), world.accounts[0].id)
        card = await session.get(type(world.cards[0]), world.cards[0].id)
        assert account is not None and card is not None
        issued = await service.issue_many(session, [IssueRequest(account, card)] * 4, settings=settings)
        codes = [code.code for code in issued if isinstance(code, service.IssuedCode)]
        profile = await security.profile_of(session, account)
        profile.daily_limit_fen = 2_500
    assert len(codes) == 4

    async def pay(code: str) -> str:
        try:
            async with unit_of_work(world.sessions) as session:
                cashier = await session.get(type(world.cashier), world.cashier.id)
                assert cashier is not None
                await service.redeem(session, staff=cashier, text=code, amount_fen=1_000, pin=None, settings=settings)
        except MedCardError as error:
            return error.code
        return "paid"

    outcomes = await asyncio.gather(*(pay(code) for code in codes))
    assert sorted(outcomes) == sorted(["paid", "paid", LimitExceeded.code, LimitExceeded.code])
