"""The payment gateway (docs/adr/0012): concurrent online payments share one fixed set of
statements, and every request the batch does not take is answered by the single path exactly
as before (R-PAY-02…05). Statements are counted, never timed."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from medcard.adapters import Adapters
from medcard.errors import NotAuthenticated
from medcard.idempotency.errors import IdempotencyKeyReused, IdempotentReplay
from medcard.models import AuditEvent, IdempotencyKey, PaymentOrder
from medcard.settlement import jobs, steps
from medcard.settlement.errors import BillNotFound, PaymentPending
from medcard.settlement.gateway import PaymentCall, PaymentGateway
from medcard.settlement.repository import SettlementRepository
from medcard.settlement.schemas import OrderRead
from tests.settlement.conftest import MakePayer, Payer, add_bill, books_balance, channel
from tests.settlement.test_payment_statements import counting

ORDERS = "/api/v1/settlement/orders"


def call(payer: Payer, bill_number: str, key: str, *, token: str | None = None) -> PaymentCall:
    body = json.dumps({"card_id": payer.card_id, "bill_number": bill_number}).encode()
    bearer = token or payer.headers["Authorization"].removeprefix("Bearer ")
    return PaymentCall(bearer, uuid.UUID(payer.card_id), bill_number, key, ORDERS, body)


def gateway_of(app: FastAPI) -> PaymentGateway:
    gateway: PaymentGateway = app.state.payment_gateway
    return gateway


def statements(seen: list[str]) -> int:
    return len([s for s in seen if not s.startswith(("SAVEPOINT", "RELEASE", "ROLLBACK TO"))])


async def pay_together(gateway: PaymentGateway, calls: list[PaymentCall]) -> list[Any]:
    """Submitted in one go: the first request's transaction starts after every one is queued."""
    return await asyncio.gather(*(gateway.pay(one) for one in calls), return_exceptions=True)


async def test_r_pay_02_concurrent_payments_cost_the_statements_of_one(
    app: FastAPI, adapters: Adapters, db: AsyncSession, engine: AsyncEngine, make_payer: MakePayer
) -> None:
    """Four patients paying at once cost the statements one payment costs alone: the batch
    writes each table once, and the hot accounts (hospital receivable, channel clearing) move
    once with the batch's sum."""
    gateway = gateway_of(app)
    names = {1: "钱甲", 2: "钱乙", 3: "钱丙", 4: "钱丁"}
    payers = [await make_payer(sequence=sequence, bind=False, name=name) for sequence, name in names.items()]
    for payer in payers:  # each patient's first payment creates his ledger accounts
        first = await gateway.pay(call(payer, add_bill(adapters, payer, ("C", 10_000)).bill_no, "first"))
        assert first.state == "paid"
    alone_bill = add_bill(adapters, payers[0], ("C", 20_000))
    with counting(engine) as seen:
        (alone,) = await pay_together(gateway, [call(payers[0], alone_bill.bill_no, "alone")])
    one = statements(seen)
    bills = [add_bill(adapters, payer, ("C", 40_000 + 100 * n)) for n, payer in enumerate(payers)]
    with counting(engine) as seen:
        answers = await pay_together(
            gateway, [call(p, b.bill_no, "together") for p, b in zip(payers, bills, strict=True)]
        )
    assert isinstance(alone, OrderRead) and alone.state == "paid"
    assert all(isinstance(answer, OrderRead) and answer.state == "paid" for answer in answers), answers
    assert [answer.total_fen for answer in answers] == [40_000, 40_100, 40_200, 40_300]
    assert [answer.funding["credit_line_fen"] for answer in answers] == [40_000, 40_100, 40_200, 40_300]
    assert statements(seen) == one
    # Each answer is stored for its key, and every order has its two audit rows.
    stored = (await db.scalars(select(IdempotencyKey).where(IdempotencyKey.key == "together"))).all()
    assert sorted(key.response_body["body"]["id"] for key in stored) == sorted(str(a.id) for a in answers)
    assert {key.recovery_point for key in stored} == {"finished"} and all(key.locked_at is None for key in stored)
    audited = await db.scalar(
        select(func.count()).where(AuditEvent.subject_id.in_([str(a.id) for a in answers]))
    )  # fmt: skip
    assert audited == 2 * len(answers)
    await books_balance(db)


async def test_r_pay_05_a_key_repeated_in_one_batch_is_paid_once_and_replayed(
    app: FastAPI, adapters: Adapters, db: AsyncSession, make_payer: MakePayer
) -> None:
    """The same request twice in one batch: the batch pays the first; the second is answered by
    the key store with the first's answer (R-PAY-05), and one order exists."""
    payer = await make_payer(bind=False)
    bill = add_bill(adapters, payer, ("C", 30_000))
    first, second = await pay_together(gateway_of(app), [call(payer, bill.bill_no, "twice")] * 2)
    assert isinstance(first, OrderRead) and first.state == "paid"
    assert isinstance(second, IdempotentReplay)  # the app's handler sends the stored answer again
    assert second.status_code == 200 and second.body == first.model_dump(mode="json")
    orders = await db.scalar(select(func.count()).where(PaymentOrder.bill_number == bill.bill_no))
    assert orders == 1
    await books_balance(db)


async def test_r_pay_02_the_batch_hands_what_it_does_not_take_to_the_single_path(
    app: FastAPI,
    client: httpx.AsyncClient,
    adapters: Adapters,
    db: AsyncSession,
    make_payer: MakePayer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One batch with an insured payer (fund share: the single path's 6201/6202), an unknown
    bill, a dead login, a key replayed after its answer and a key reused for another bill: each
    gets the single path's answer, and the plain payment beside them is paid by the batch (not
    by a batch failed over to the single path)."""
    insured = await make_payer(sequence=6, bind=True, name="钱保险")
    plain = await make_payer(sequence=8, bind=False, name="钱自费")
    insured_bill = add_bill(adapters, insured, ("A", 50_000))
    plain_bill = add_bill(adapters, plain, ("C", 12_000))
    replayed_bill = add_bill(adapters, plain, ("C", 7_000))
    other_bill = add_bill(adapters, plain, ("C", 8_000))
    earlier = await gateway_of(app).pay(call(plain, replayed_bill.bill_no, "earlier"))
    lane = gateway_of(app)._lane
    alone, went_alone = lane.alone, []

    async def recording(item: PaymentCall) -> Any:
        went_alone.append(item.key)
        return await alone(item)

    monkeypatch.setattr(lane, "alone", recording)
    answers = await pay_together(
        gateway_of(app),
        [
            call(insured, insured_bill.bill_no, "insured"),
            call(plain, "NO-SUCH-BILL", "unknown"),
            call(plain, plain_bill.bill_no, "dead", token="not-a-live-token"),
            call(plain, replayed_bill.bill_no, "earlier"),
            call(plain, other_bill.bill_no, "earlier"),
            call(plain, plain_bill.bill_no, "plain"),
        ],
    )
    insured_answer, unknown, dead, replay, reused, paid = answers
    assert sorted(went_alone) == ["dead", "earlier", "earlier", "insured", "unknown"]
    assert isinstance(reused, IdempotencyKeyReused)
    assert isinstance(insured_answer, OrderRead) and insured_answer.state == "paid"
    assert insured_answer.funding["fund_fen"] > 0
    assert isinstance(unknown, BillNotFound)
    assert isinstance(dead, NotAuthenticated)
    assert isinstance(replay, IdempotentReplay) and replay.body == earlier.model_dump(mode="json")
    assert isinstance(paid, OrderRead) and paid.state == "paid" and paid.total_fen == 12_000
    # Refused requests leave no key behind: the same key can be used again.
    assert await db.scalar(select(func.count()).where(IdempotencyKey.key.in_(("unknown", "dead")))) == 0
    await books_balance(db)


async def test_r_pay_04_a_failed_charge_in_a_batch_keeps_the_order_pending_and_the_retry_resumes_it(
    app: FastAPI, adapters: Adapters, db: AsyncSession, make_payer: MakePayer, no_credit: None
) -> None:
    """A channel refusal inside a batch answers 402 PAYMENT_PENDING with the order and its holds
    kept and the key released, as alone; once the money is there, the retry with the same key
    resumes the same order and charges once (R-PAY-07)."""
    payer = await make_payer(bind=False)
    other = await make_payer(sequence=9, bind=False, name="钱旁人")
    bill, beside = add_bill(adapters, payer, ("C", 50_000)), add_bill(adapters, other, ("C", 20_000))
    channel(adapters).set_wallet(payer.openid, 0)
    pending, paid = await pay_together(
        gateway_of(app), [call(payer, bill.bill_no, "retry-me"), call(other, beside.bill_no, "beside")]
    )
    assert isinstance(pending, PaymentPending) and pending.params == {"failure_code": "CHANNEL_NOTENOUGH"}
    assert isinstance(paid, OrderRead) and paid.state == "paid"
    order = await db.scalar(select(PaymentOrder).where(PaymentOrder.bill_number == bill.bill_no))
    assert order is not None and order.state == "pending" and order.failure_code == "CHANNEL_NOTENOUGH"
    key = await db.scalar(select(IdempotencyKey).where(IdempotencyKey.key == "retry-me"))
    assert key is not None and key.locked_at is None and key.recovery_point == "order_open"
    channel(adapters).set_wallet(payer.openid, 10_000_000)
    charges = channel(adapters).charges
    retried = await gateway_of(app).pay(call(payer, bill.bill_no, "retry-me"))
    assert retried.id == order.id and retried.state == "paid"
    assert channel(adapters).charges == charges + 2  # 300 + 200 yuan (R-PAY-03), each once
    await books_balance(db)


async def test_r_pay_05_a_key_taken_between_the_read_and_the_writes_fails_the_batch_and_each_is_paid_alone(
    app: FastAPI, adapters: Adapters, db: AsyncSession, make_payer: MakePayer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch writes its keys and orders without asking (its facts said they were free): a
    key another request took meanwhile (simulated: the facts miss that it was used) fails the
    key store's unique index, the batch writes nothing, and each request is paid alone — the
    reused key refused there (422), the other request paid once — the books balanced."""
    payer = await make_payer(bind=False)
    other = await make_payer(sequence=9, bind=False, name="钱旁人")
    first = await gateway_of(app).pay(call(payer, add_bill(adapters, payer, ("C", 10_000)).bill_no, "taken"))
    assert first.state == "paid"
    payment_facts = SettlementRepository.payment_facts

    async def missing_the_key(self: SettlementRepository, requests: Any, *, now: Any) -> Any:
        return {
            index: found._replace(key_seen=False)
            for index, found in (await payment_facts(self, requests, now=now)).items()
        }

    monkeypatch.setattr(SettlementRepository, "payment_facts", missing_the_key)
    reused_bill, fresh_bill = add_bill(adapters, payer, ("C", 20_000)), add_bill(adapters, other, ("C", 30_000))
    reused, fresh = await pay_together(
        gateway_of(app), [call(payer, reused_bill.bill_no, "taken"), call(other, fresh_bill.bill_no, "fresh")]
    )
    assert isinstance(reused, IdempotencyKeyReused)
    assert isinstance(fresh, OrderRead) and fresh.state == "paid" and fresh.total_fen == 30_000
    orders = (await db.scalars(select(PaymentOrder).where(
        PaymentOrder.bill_number.in_([reused_bill.bill_no, fresh_bill.bill_no])))).all()  # fmt: skip
    assert [order.id for order in orders] == [fresh.id]  # the batch wrote nothing; alone, one order
    audited = await db.scalar(select(func.count()).where(AuditEvent.subject_id == str(fresh.id)))
    assert audited == 2
    await books_balance(db)


async def test_r_pay_07_an_order_resolved_elsewhere_between_the_phases_rolls_the_posting_back(
    app: FastAPI,
    adapters: Adapters,
    db: AsyncSession,
    make_payer: MakePayer,
    monkeypatch: pytest.MonkeyPatch,
    no_credit: None,
) -> None:
    """The batch posts its paid orders and their holds in one statement, all or nothing: when
    another transaction resolved one of them while the channel was charged (here the expiry job),
    the posting rolls back — no balance moved twice, no answer stored for it — and each request
    is resumed alone from its recovery point: the other order is paid once, the expired one
    answers as expired. Self-pay only (no credit line): no floored account's CHECK would catch a
    balance moved twice, only the batch's own all-or-nothing check."""
    payer = await make_payer(bind=False)
    other = await make_payer(sequence=9, bind=False, name="钱旁人")
    raced_bill, kept_bill = add_bill(adapters, payer, ("C", 50_000)), add_bill(adapters, other, ("C", 20_000))
    charge_in_turn = steps.charge_in_turn
    expired: list[uuid.UUID] = []

    async def expiring_first(payments: Any, payer_: Any, adapters_: Adapters) -> Any:
        if payer_.card.id == uuid.UUID(payer.card_id) and not expired:  # the raced payment's charge only
            order = await db.scalar(select(PaymentOrder).where(PaymentOrder.bill_number == raced_bill.bill_no))
            assert order is not None
            expired.append(order.id)
            assert await jobs.expire_order(db, order_id=order.id, adapters=adapters_,
                                           now=order.expires_at + timedelta(seconds=1)) == 1  # fmt: skip
            await db.commit()
        return await charge_in_turn(payments, payer_, adapters_)

    monkeypatch.setattr(steps, "charge_in_turn", expiring_first)
    raced, kept = await pay_together(
        gateway_of(app), [call(payer, raced_bill.bill_no, "raced"), call(other, kept_bill.bill_no, "kept")]
    )
    assert len(expired) == 1
    assert isinstance(raced, OrderRead) and raced.id == expired[0] and raced.state == "expired"
    assert isinstance(kept, OrderRead) and kept.state == "paid"
    paid_rows = await db.scalar(
        select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "settlement.order_paid", AuditEvent.subject_id == str(kept.id)
        )
    )  # fmt: skip
    assert paid_rows == 1  # the batch's row rolled back with its posting; the resumed payment wrote one
    await books_balance(db)  # and no balance moved twice
