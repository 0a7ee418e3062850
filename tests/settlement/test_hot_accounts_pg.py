"""Many payers on a few hot accounts at once, on PostgreSQL (R-PAY-01, R-PAY-02, R-CARD-09/10).

32 clients pay for 10 patients concurrently: every payment of one patient draws on the same
deposit and credit line, and every payment credits the same hospital receivable and channel
clearing accounts — the rows all transactions fight for. The row locks are taken in id order,
so no payment may fail (no deadlock, no serialisation error, no 500): each one is paid, and
the books balance afterwards. A bounded count, not a duration, keeps the run short in CI.
"""

from __future__ import annotations

import asyncio
import itertools

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from medcard.adapters import sandbox_adapters
from medcard.adapters.his import BillItem, SandboxHis
from medcard.audit.service import Actor
from medcard.config import Settings
from medcard.db import unit_of_work
from medcard.ledger.repository import LedgerRepository
from medcard.models import Card, LedgerAccount, PaymentOrder
from medcard.settlement import service, wallet
from tests.codes.pg import committed_world, postgres_only, skip_unless_postgres

pytestmark = postgres_only

PATIENTS, CLIENTS, PAYMENTS_PER_CLIENT = 10, 32, 8
DEPOSIT_FEN = 30_000


async def test_r_pay_01_thirty_two_clients_on_ten_hot_accounts_no_failed_payment_books_balance(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    """256 payments from 32 concurrent clients over 10 patients (each patient's deposit runs
    dry, then the credit line takes over, then self-pay through the channel): every payment is
    paid, no deposit goes negative, no credit line passes its floor, the ledger sums to zero
    and every stored balance equals the sum of its postings."""
    skip_unless_postgres(settings)
    world = await committed_world(isolated_engine, settings, holders=PATIENTS)
    adapters = sandbox_adapters(settings)
    his = adapters.his
    assert isinstance(his, SandboxHis)
    for index, card in enumerate(world.cards):
        async with unit_of_work(world.sessions) as session:
            held = await session.get(Card, card.id)
            assert held is not None
            await wallet.top_up(session, card=held, amount_fen=DEPOSIT_FEN, key=f"top-up-{index}",
                                actor=Actor.system("test"), adapters=adapters)  # fmt: skip
    prices = itertools.cycle([4_500, 12_000, 7_800, 26_000, 3_300])
    work: list[list[tuple[int, str, int]]] = [[] for _ in range(CLIENTS)]
    for client in range(CLIENTS):
        for n in range(PAYMENTS_PER_CLIENT):
            patient = (client + n) % PATIENTS
            price = next(prices)
            item = BillItem("T001", "测试项目", "A", 0, price, 1)
            bill = his.add_bill(hospital_code="H110001", patient_id=world.cards[patient].his_patient_id,
                                kind="outpatient", items=[item])  # fmt: skip
            work[client].append((patient, bill.bill_no, price))
    start = asyncio.Event()

    async def client(index: int) -> list[str]:
        await start.wait()
        outcomes = []
        for patient, bill_number, _ in work[index]:
            async with unit_of_work(world.sessions) as session:
                card = await session.get(Card, world.cards[patient].id)
                assert card is not None
                order = await service.pay(session, card=card, bill_number=bill_number, scenario="online",
                                          key=f"c{index}-{bill_number}", actor=Actor.system("test"),
                                          adapters=adapters)  # fmt: skip
                outcomes.append(order.state)
        return outcomes

    tasks = [asyncio.create_task(client(index)) for index in range(CLIENTS)]
    start.set()
    results = [state for outcome in await asyncio.gather(*tasks) for state in outcome]
    assert results.count("paid") == CLIENTS * PAYMENTS_PER_CLIENT, results
    billed = sum(price for jobs in work for _, _, price in jobs)
    async with world.sessions() as session:
        repository = LedgerRepository(session)
        assert await repository.total() == 0
        assert await repository.drift() == []
        assert await repository.unbalanced_entries() == []
        paid = await session.scalar(select(func.sum(PaymentOrder.total_fen)).where(PaymentOrder.state == "paid"))
        assert paid == billed
        receivable = await session.scalar(
            select(LedgerAccount.balance_fen).where(LedgerAccount.kind == "hospital_receivable")
        )
        assert receivable == billed
        rows = (await session.execute(select(LedgerAccount.kind, LedgerAccount.balance_fen, LedgerAccount.held_fen,
                                                    LedgerAccount.floor_fen))).all()  # fmt: skip
        assert all(held == 0 for _, _, held, _ in rows)  # every hold resolved
        assert all(balance >= floor for _, balance, _, floor in rows if floor is not None)
        deposits = [balance for kind, balance, _, _ in rows if kind == "deposit"]
        assert deposits == [0] * PATIENTS  # each deposit was drawn dry, never below zero
