"""PostgreSQL: concurrent first requests with one key — exactly one claims it, the others are
told it is in flight (R-PAY-05). Committed through separate connections on ``isolated_engine``."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from medcard.db import make_sessionmaker, unit_of_work
from medcard.idempotency.errors import IdempotencyInFlight, IdempotentReplay
from medcard.idempotency.service import IdempotentRequest, begin

pytestmark = pytest.mark.postgres


async def test_r_pay_05_concurrent_first_requests_claim_a_key_once(isolated_engine: AsyncEngine) -> None:
    sessions = make_sessionmaker(isolated_engine)
    effects: list[int] = []

    async def request(index: int) -> str:
        try:
            async with unit_of_work(sessions) as session:
                held: IdempotentRequest = await begin(
                    session, actor="account:x", key="same", method="POST", path="/p", body=b"{}", lock_seconds=60
                )

                async def charge() -> dict[str, int]:
                    await asyncio.sleep(0.05)  # widen the race: others arrive while this one runs
                    effects.append(index)
                    return {"charged": index}

                await held.run(charge)
        except IdempotencyInFlight:
            return "in_flight"
        except IdempotentReplay:
            return "replayed"  # arrived after the first had finished
        return "ran"

    outcomes = await asyncio.gather(*(request(index) for index in range(12)))
    assert outcomes.count("ran") == 1
    assert outcomes.count("in_flight") + outcomes.count("replayed") == 11
    assert outcomes.count("in_flight") > 0
    assert len(effects) == 1
