"""R-PAY-08 daily reconciliation: the ledger of one China day against the channel's statement
and the insurance 3202 statement; every difference is listed with its cause and stored."""

from __future__ import annotations

import dataclasses

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.channel import OrderRequest
from medcard.adapters.insurance import SandboxInsurancePlatform
from medcard.audit.service import Actor
from medcard.config import Settings
from medcard.kit.clock import CHINA, clock
from medcard.settlement import reconciliation
from tests.factories import Demo
from tests.settlement.conftest import MakePayer, Payer, add_bill, channel, key

ORDERS = "/api/v1/settlement/orders"
ADMIN = Actor.system("test")


@pytest.fixture
async def no_credit(db: AsyncSession, demo: Demo) -> None:
    demo.hospital.credit_enabled = False
    await db.flush()


async def _pay(client: httpx.AsyncClient, payer: Payer, bill_number: str, name: str) -> dict[str, object]:
    body = {"card_id": payer.card_id, "bill_number": bill_number}
    answer: dict[str, object] = (await client.post(ORDERS, json=body, headers={**payer.headers, **key(name)})).json()
    return answer


def test_r_pay_08_classify_names_each_cause() -> None:
    """Pure table of causes."""
    cases = [
        ((100, 100, True, False, "paid"), None),
        ((0, 100, False, False, None), "missing_ours"),
        ((0, 100, True, False, "pending"), "lost_answer"),
        ((0, 100, True, False, "expired"), "lost_answer"),
        ((0, 100, True, True, "paid"), "other_day"),
        ((100, 0, True, False, "paid"), "missing_theirs"),
        ((100, 90, True, False, "paid"), "amount_mismatch"),
    ]
    for (ours, theirs, known, elsewhere, state), expected in cases:
        got = reconciliation.classify(ours, theirs, known=known, posted_elsewhere=elsewhere, order_state=state)
        assert got == expected, (ours, theirs, known, state)


async def test_r_pay_08_a_day_of_clean_payments_and_refunds_reconciles_balanced(
    client: httpx.AsyncClient,
    adapters: Adapters,
    db: AsyncSession,
    make_payer: MakePayer,
    cashier: dict[str, str],
    no_credit: None,
) -> None:
    payer = await make_payer(sequence=5)
    order = await _pay(client, payer, add_bill(adapters, payer, ("A", 60_000), ("C", 40_000)).bill_no, "k1")
    assert order["state"] == "paid"
    refund = await client.post(f"{ORDERS}/{order['id']}/refunds", json={"amount_fen": 10_000},
                               headers={**cashier, **key("r1")})  # fmt: skip
    assert refund.status_code == 200, refund.text
    top_up = await client.post("/api/v1/settlement/deposit", json={"card_id": payer.card_id, "amount_fen": 5_000},
                               headers={**payer.headers, **key("t1")})  # fmt: skip
    assert top_up.status_code == 200, top_up.text
    today = clock.now().astimezone(CHINA).date()
    report = await reconciliation.reconcile(db, day=today, adapters=adapters, actor=ADMIN)
    assert report.channel_lines >= 1 and report.insurance_lines >= 2  # the top-up; the settle and its refund
    assert report.state == "balanced", await reconciliation.differences(db, report_id=report.id)
    assert report.difference_count == 0


async def test_r_pay_08_every_difference_is_listed_with_its_cause(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, make_payer: MakePayer, no_credit: None
) -> None:
    sandbox = channel(adapters)
    insurance = adapters.insurance
    assert isinstance(insurance, SandboxInsurancePlatform)
    payer = await make_payer(sequence=5)
    # 1. amount mismatch: the channel's line for a paid order shows one yuan less.
    cash = await make_payer(bind=False, sequence=8, name="周现金")
    first = await _pay(client, cash, add_bill(adapters, cash, ("C", 20_000)).bill_no, "k1")
    assert first["state"] == "paid"
    index = next(i for i, line in enumerate(sandbox.movements) if line.amount == 20_000)
    sandbox.movements[index] = dataclasses.replace(sandbox.movements[index], amount=19_900)
    # 2. missing on theirs: the insurance statement lost the settlement of a second order.
    second = await _pay(client, payer, add_bill(adapters, payer, ("A", 50_000)).bill_no, "k2")
    assert second["state"] == "paid"
    insurance.movements.pop()
    # 3. missing on ours: the channel charged an order MedCard never made.
    stray = OrderRequest(out_trade_no="MCSTRAY0000000000000000000", mix_pay_type="CASH_ONLY", order_type="DIAG_PAY",
                         payer_openid=payer.openid, total_fee=777, med_ins_cash_fee=777)  # fmt: skip
    await sandbox.create_order(stray)
    await sandbox.pay(stray.out_trade_no)
    # 4. lost answer: the channel charged a payment whose answer never reached MedCard.
    other = await make_payer(bind=False, sequence=7, name="李丢失")
    sandbox.set_wallet(other.openid, 0)
    bill = add_bill(adapters, other, ("C", 10_000))
    assert (await _pay(client, other, bill.bill_no, "k3"))["code"] == "PAYMENT_PENDING"
    lost = next(number for number, kept in sandbox.orders.items() if kept.request.total_fee == 10_000)
    sandbox.set_wallet(other.openid, 50_000)
    await sandbox.pay(lost)

    today = clock.now().astimezone(CHINA).date()
    report = await reconciliation.reconcile(db, day=today, adapters=adapters, actor=ADMIN)
    rows = await reconciliation.differences(db, report_id=report.id)
    found = {(row.system, row.kind, row.ours_fen, row.theirs_fen) for row in rows}
    assert found == {
        ("channel", "amount_mismatch", 20_000, 19_900),
        (
            "insurance",
            "missing_theirs",
            int(second["funding"]["fund_fen"]) + int(second["funding"]["personal_account_fen"]),
            0,
        ),  # type: ignore[index]
        ("channel", "missing_ours", 0, 777),
        ("channel", "lost_answer", 0, 10_000),
    }, rows
    assert report.state == "differences" and report.difference_count == 4
    assert all(row.cause_zh and row.cause_en for row in rows)
    assert {row.reference for row in rows if row.kind == "missing_ours"} == {stray.out_trade_no}


async def test_r_pay_08_the_daily_job_reconciles_yesterday(
    adapters: Adapters, db: AsyncSession, settings: Settings
) -> None:
    """Registered as a periodic durable job (once a day), it stores a report for the previous China day."""
    from datetime import timedelta

    from sqlalchemy import select

    from medcard.jobs.registry import JobContext, load_handlers
    from medcard.models import ReconciliationReport

    registration = load_handlers()["settlement.reconcile_daily"]
    assert registration.every == timedelta(days=1)
    context = JobContext(session=db, payload={}, adapters=adapters, settings=settings, attempt=1, job_id=None)
    await registration.handler(context)
    stored = (await db.scalars(select(ReconciliationReport))).all()
    assert [report.day for report in stored] == [clock.now().astimezone(CHINA).date() - timedelta(days=1)]
