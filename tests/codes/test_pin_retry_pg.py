"""PIN retry at the POS under concurrency, on PostgreSQL (R-SEC-02/03): ten cashiers' retries
with the right password for one scanned code pay exactly once."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from medcard.codes import service
from medcard.codes.errors import PaymentCodeUsed, PosPinWrong
from medcard.config import Settings
from medcard.db import unit_of_work
from medcard.errors import MedCardError
from medcard.models import PaymentCode
from medcard.security import service as security
from tests.codes.pg import committed_world, postgres_only, skip_unless_postgres

pytestmark = postgres_only
PIN = "135790"


async def test_r_sec_03_concurrent_pin_retries_pay_once(isolated_engine: AsyncEngine, settings: Settings) -> None:
    skip_unless_postgres(settings)
    world = await committed_world(isolated_engine, settings, holders=1)
    account, card = world.accounts[0], world.cards[0]
    async with unit_of_work(world.sessions) as session:
        await security.set_pin(session, account=account, pin=PIN, settings=settings, verification_id=None)
    async with unit_of_work(world.sessions) as session:
        issued = await service.issue(session, account=account, card=card, settings=settings)
    token = ""
    try:
        async with unit_of_work(world.sessions) as session:
            await service.redeem(
                session, staff=world.cashier, text=issued.code, amount_fen=30_000, pin="246802", settings=settings
            )
    except PosPinWrong as wrong:
        token = wrong.retry_token
    assert token

    async def retry() -> object:
        try:
            async with unit_of_work(world.sessions) as session:
                return await service.retry_pin(session, staff=world.cashier, token=token, pin=PIN, settings=settings)
        except MedCardError as error:
            return error

    outcomes = await asyncio.gather(*(retry() for _ in range(10)))
    assert sum(isinstance(o, service.Redemption) for o in outcomes) == 1
    assert sum(isinstance(o, PaymentCodeUsed) for o in outcomes) == 9
    async with world.sessions() as session:
        code = await session.scalar(select(PaymentCode).where(PaymentCode.id == issued.id))
    assert code is not None and code.amount_fen == 30_000
