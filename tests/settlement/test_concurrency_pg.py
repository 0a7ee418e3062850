"""Concurrent payments on PostgreSQL (R-PAY-05): the same bill paid from two devices at once."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from medcard.adapters import sandbox_adapters
from medcard.audit.service import Actor
from medcard.config import Settings
from medcard.db import unit_of_work
from medcard.models import Card, PaymentOrder
from medcard.settlement import service
from medcard.settlement.errors import BillAlreadyPaid
from tests.codes.pg import committed_world, postgres_only, skip_unless_postgres

pytestmark = postgres_only


async def test_r_pay_05_eight_devices_paying_one_bill_at_once_make_one_order(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    """Eight requests with eight different keys pay the same HIS bill at the same moment: the
    partial unique index lets one order hold money, the seven others are told it is paid."""
    skip_unless_postgres(settings)
    world = await committed_world(isolated_engine, settings, holders=1)
    adapters = sandbox_adapters(settings)
    card_id = world.cards[0].id
    bills = await adapters.his.bills(hospital_code="H110001", patient_id=world.cards[0].his_patient_id)
    bill_number = bills[0].bill_no
    start = asyncio.Event()

    async def pay(key: str) -> str:
        await start.wait()
        try:
            async with unit_of_work(world.sessions) as session:
                card = await session.get(Card, card_id)
                assert card is not None
                order = await service.pay(session, card=card, bill_number=bill_number, scenario="online", key=key,
                                          actor=Actor.system("test"), adapters=adapters)  # fmt: skip
                return order.state
        except BillAlreadyPaid:
            return "refused"

    tasks = [asyncio.create_task(pay(f"device-{i}")) for i in range(8)]
    start.set()
    results = await asyncio.gather(*tasks)
    assert (results.count("paid"), results.count("refused")) == (1, 7)
    async with world.sessions() as session:
        orders = await session.scalar(select(func.count()).where(PaymentOrder.bill_number == bill_number))
    assert orders == 1
