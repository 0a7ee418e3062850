"""The work of one payment, counted in SQL statements (conventions habit 12: hot paths have a
fixed number of statements per request, proven by counting, never by timing). The payment
benchmark (``bench/payments.py``, ADR 0012) measures what these statements cost; this test
pins their number so a change that adds a round trip to the payment path is seen here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from medcard.adapters import Adapters
from tests.settlement.conftest import MakePayer, add_bill, books_balance, key
from tests.support import statements

ORDERS = "/api/v1/settlement/orders"
BUDGET = 16
"""Statements of one online payment of an uninsured patient on the credit line, login and
idempotency key included, savepoints not counted (34 before ADR 0012's cuts, 30 before its second
round, 26 before its fourth, 22 before its fifth: a lone payment is now a payment-gateway batch of
one, its key claimed with the order, its accounts read with their balances, its hold's legs not
read back, its own accounts locked by the statement that reads them; 15 before the eighth round,
whose check that the key is new before the batch writes it costs SQLite one more; 7 on
PostgreSQL, where
the logins, cards and bills taken are one statement, and the writes nobody reads back of each
transaction are one more (``db.together``) — in the posting, the paid orders and their holds'
transition itself (8 before ADR 0012's eighth round). Lower it when a change cuts more)."""
PG_BUDGET = 7
FIRST_PAYMENT_EXTRA = 2
"""A patient's first payment also creates his ledger accounts at the hospital (deposit, credit
line): one INSERT and one SELECT of the new keys, once."""


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[list[str]]:
    """The statements sent inside the block, those sent straight to asyncpg on PostgreSQL too
    (``tests.support.statements``), savepoints left out: the same count on both databases."""
    with statements(engine) as sent:
        yield sent


async def test_r_pay_02_one_payment_costs_a_fixed_number_of_statements(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, engine: AsyncEngine, make_payer: MakePayer
) -> None:
    """Payments of the same shape (all on the credit line) cost the same statements, within the
    budget: the count does not grow with the patient's history (the first creates his accounts)."""
    payer = await make_payer(bind=False)
    counts = []
    for name in ("first", "second", "third"):
        bill = add_bill(adapters, payer, ("C", 40_000))
        with counting(engine) as seen:
            paid = await client.post(ORDERS, json={"card_id": payer.card_id, "bill_number": bill.bill_no},
                                     headers={**payer.headers, **key(name)})  # fmt: skip
        assert paid.status_code == 200, paid.text
        assert paid.json()["funding"]["credit_line_fen"] == 40_000
        counts.append(len([s for s in seen if not s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO"))]))
    assert counts[0] == counts[1] + FIRST_PAYMENT_EXTRA
    assert counts[1] == counts[2]
    assert counts[2] <= (BUDGET if engine.dialect.name == "sqlite" else PG_BUDGET)
    await books_balance(db)
