"""Scheduled settlement work: expire pending orders after 15 minutes, releasing every hold
(R-PAY-04), and reimburse deferred schemes' fund shares when due (R-INS-04).

Each function claims its rows with ``FOR UPDATE SKIP LOCKED`` (two workers never take the same
order) and changes each order with a conditional UPDATE, so a run that crashes or overlaps
another changes nothing twice. They run from the durable job runner (``medcard worker``) or
the CLI; each call is one unit of work."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.channel import ChannelError, ChannelTimeout
from medcard.adapters.insurance import InsuranceTimeout
from medcard.adapters.insurance_payment import InsuranceRefused, MobilePayment
from medcard.audit.service import Actor, record
from medcard.kit.clock import CHINA
from medcard.ledger import service as ledger
from medcard.ledger.rules import Leg
from medcard.models import Card, Hospital, PaymentOrder
from medcard.settlement import facts
from medcard.settlement.repository import SettlementRepository

SYSTEM = Actor.system("settlement-jobs")


async def expire_due(session: AsyncSession, *, adapters: Adapters, now: datetime) -> int:
    """Expire every pending order past its 15 minutes: void its hold, close or refund its
    channel payments, give back an insurance settlement. Returns how many expired."""
    repository = SettlementRepository(session)
    expired = 0
    for order_id in await repository.expired_pending(now):
        if not await repository.set_state(order_id, before="pending", after="expired"):
            continue
        order = await repository.order(order_id)
        assert order is not None
        if order.hold_entry_id is not None:
            await ledger.resolve(session, order.hold_entry_id, post_it=False)
        await _undo_outside(session, order, adapters)
        await record(session, actor=SYSTEM, action="settlement.order_expired", subject=order,
                     hospital_id=order.hospital_id, details={"failure_code": order.failure_code})  # fmt: skip
        expired += 1
    return expired


async def _undo_outside(session: AsyncSession, order: PaymentOrder, adapters: Adapters) -> None:
    """Whatever the outside systems already took for an expired order goes back."""
    for payment in await SettlementRepository(session).payments(order.id):
        try:
            if payment.state == "paid":
                await adapters.channel.refund(payment.out_trade_no, out_refund_no=f"EX{payment.out_trade_no}",
                                              amount=payment.amount_fen, reason="订单超时")  # fmt: skip
                payment.refunded_fen = payment.amount_fen
            elif payment.state in {"created", "failed"}:
                await adapters.channel.close_order(payment.out_trade_no)
                payment.state = "closed"
        except (ChannelError, ChannelTimeout):
            continue  # left as it is for the daily reconciliation to report
    if order.insurance_order_id is not None:
        hospital = await session.get(Hospital, order.hospital_id)
        assert hospital is not None
        mobile = MobilePayment(adapters.insurance, org_code=hospital.code)
        try:
            if order.insurance_state == "settled":
                await mobile.refund(order.insurance_order_id, reference=f"EX{order.id.hex}")
            else:
                await mobile.revoke(order.insurance_order_id)
        except (InsuranceRefused, InsuranceTimeout):
            order.failure_code = "INSURANCE_UNDO_PENDING"
    await session.flush()


async def reimburse_due(session: AsyncSession, *, adapters: Adapters, now: datetime) -> int:
    """Pay deferred fund shares whose day has come (R-INS-04): the fund pays the patient back
    through the channel (a refund of the cash the patient paid for the fund's part)."""
    repository = SettlementRepository(session)
    done = 0
    for order_id in await repository.reimbursements_due(now.astimezone(CHINA).date()):
        if not await repository.claim_reimbursement(order_id, now=now):
            continue
        order = await repository.order(order_id)
        assert order is not None
        await _reimburse(session, order, adapters)
        done += 1
    return done


async def _reimburse(session: AsyncSession, order: PaymentOrder, adapters: Adapters) -> None:
    amount = order.deferred_fund_fen
    left = amount
    for payment in await SettlementRepository(session).payments(order.id):
        room = payment.amount_fen - payment.refunded_fen if payment.state == "paid" else 0
        part = min(left, room)
        if part:
            await adapters.channel.refund(payment.out_trade_no, out_refund_no=f"RB{payment.out_trade_no}",
                                          amount=part, reason="医保报销")  # fmt: skip
            payment.refunded_fen += part
            left -= part
    card = await session.get(Card, order.card_id)
    assert card is not None
    accounts = await facts.accounts_of(session, await facts.payer_of(session, card), None)
    legs = [
        Leg(accounts.ids["fund"], -amount, "fund"),
        Leg(accounts.ids["channel"], amount - left, "channel"),
        Leg(accounts.ids["deposit"], left, "deposit"),  # paid from deposit or credit: back to the deposit
    ]
    await ledger.post(session, kind="reimbursement", legs=legs, reference=("payment_order", order.id))
    await record(session, actor=SYSTEM, action="settlement.reimbursed", subject=order,
                 hospital_id=order.hospital_id, details={"amount_fen": amount})  # fmt: skip
