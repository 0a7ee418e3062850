"""The code gateway under real concurrency, on PostgreSQL (R-SEC-02): its transactions commit
side by side on separate connections, and a code scanned by two POS at once pays exactly once."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from medcard.codes.gateway import CodeGateway, RedeemCall
from medcard.config import Settings
from medcard.db import unit_of_work
from medcard.errors import MedCardError
from medcard.kit.clock import clock
from medcard.kit.crypto import sm3_hex
from medcard.models import AuthSession
from tests.codes.pg import committed_world, postgres_only, skip_unless_postgres
from tests.codes.test_concurrency_pg import HOLDERS, _consumed, _live_codes

pytestmark = postgres_only


async def test_r_sec_02_codes_scanned_twice_through_the_gateway_pay_exactly_once(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    """500 codes, each scanned by two POS requests submitted in random order through a gateway
    running up to 8 transactions at once: exactly 500 are paid, the other 500 told "used"."""
    skip_unless_postgres(settings)
    world = await committed_world(isolated_engine, settings, holders=HOLDERS)
    codes = await _live_codes(world, settings, 500)
    token = f"gateway-pg-{uuid.uuid4().hex}"
    async with unit_of_work(world.sessions) as session:
        session.add(
            AuthSession(
                token_hash=sm3_hex(token), staff_id=world.cashier.id, expires_at=clock.now() + timedelta(hours=1)
            )
        )
    gateway = CodeGateway(lambda: unit_of_work(world.sessions), settings, max_in_flight=8, overlap_from=4)
    scans = random.sample(codes + codes, 2 * len(codes))
    gate = asyncio.Semaphore(48)  # POS lanes in flight at once

    async def scan(code: str) -> str:
        async with gate:
            try:
                await gateway.redeem(RedeemCall(token=token, text=code, amount_fen=1))
            except MedCardError as error:
                return error.code
            return "paid"

    outcomes = await asyncio.gather(*(scan(code) for code in scans))
    assert outcomes.count("PAYMENT_CODE_USED") == 500
    assert len(outcomes) - outcomes.count("PAYMENT_CODE_USED") == 500
    assert await _consumed(world) == 500
