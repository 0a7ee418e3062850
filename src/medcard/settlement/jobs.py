"""Scheduled settlement work: expire pending orders after 15 minutes, releasing every hold
(R-PAY-04), and reimburse deferred schemes' fund shares when due (R-INS-04).

Each function claims its rows with ``FOR UPDATE SKIP LOCKED`` (two workers never take the same
order) and changes each order with a conditional UPDATE, so a run that crashes or overlaps
another changes nothing twice. They run from the durable job runner (``medcard worker``) or
the CLI; each call is one unit of work."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.channel import ChannelError, ChannelTimeout
from medcard.adapters.insurance import InsuranceTimeout
from medcard.adapters.insurance_payment import InsuranceRefused, MobilePayment
from medcard.audit.service import Actor, record
from medcard.errors import present
from medcard.family import mutual_aid
from medcard.jobs.registry import JobContext, handles
from medcard.kit.clock import CHINA, clock
from medcard.kit.money import format_yuan
from medcard.kit.side_effects import after_commit
from medcard.ledger import service as ledger
from medcard.ledger.rules import Leg
from medcard.models import Card, Hospital, PaymentOrder
from medcard.settlement import facts
from medcard.settlement.repository import SettlementRepository

SYSTEM = Actor.system("settlement-jobs")
EXPIRY_SWEEP = timedelta(seconds=10)
"""How often the worker looks for pending orders past their 15 minutes (one indexed range
read on ``payment_order (state, expires_at)``); an order's holds are released at most this
late. A per-order job cost every payment two writes (enqueue, cancel) for the rare expiry."""


async def expire_due(session: AsyncSession, *, adapters: Adapters, now: datetime) -> int:
    """Expire every pending order past its 15 minutes: void its hold, close or refund its
    channel payments, give back an insurance settlement. Returns how many expired."""
    expired = 0
    for order_id in await SettlementRepository(session).expired_pending(now):
        expired += await expire_order(session, order_id=order_id, adapters=adapters, now=now)
    return expired


async def expire_order(session: AsyncSession, *, order_id: uuid.UUID, adapters: Adapters, now: datetime) -> int:
    """Expire one order if it is still pending past its time (1), else change nothing (0)."""
    repository = SettlementRepository(session)
    order = await repository.order(order_id)
    if order is None or order.state != "pending" or order.expires_at > now:
        return 0
    if not await repository.set_state(order_id, before="pending", after="expired"):
        return 0
    await session.refresh(order)
    # R-FAM-08: a released mutual-aid share goes back to the grant's use (its row before the accounts).
    await mutual_aid.give_back(session, order, int(order.funding.get("family_mutual_aid_fen", 0)))
    if order.hold_entry_id is not None:
        await ledger.resolve(session, order.hold_entry_id, post_it=False)
    await _undo_outside(session, order, adapters)
    await record(session, actor=SYSTEM, action="settlement.order_expired", subject=order,
                 hospital_id=order.hospital_id, details={"failure_code": order.failure_code})  # fmt: skip
    return 1


async def _undo_outside(session: AsyncSession, order: PaymentOrder, adapters: Adapters) -> None:
    """Whatever the outside systems already took for an expired order goes back."""
    for payment in await SettlementRepository(session).payments(order.id):
        if payment.state == "closed":
            continue
        try:
            # Ask the channel first: a charge whose answer was lost (or a crash before we wrote
            # it down) is paid there although our row still says created.
            known = await adapters.channel.query_order(payment.out_trade_no)
            if known.state in {"paid", "refunding"} and known.refundable_fee:
                await adapters.channel.refund(payment.out_trade_no, out_refund_no=f"EX{payment.out_trade_no}",
                                              amount=known.refundable_fee, reason="订单超时")  # fmt: skip
                payment.state, payment.refunded_fen = "paid", payment.amount_fen
            elif known.state in {"created", "failed"}:
                await adapters.channel.close_order(payment.out_trade_no)
                payment.state = "closed"
        except (ChannelError, ChannelTimeout):
            continue  # never created at the channel, or no answer: the daily reconciliation reports it
    if order.insurance_order_id is not None:
        hospital = present(await session.get(Hospital, order.hospital_id), "hospital")
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
    done = 0
    for order_id in await SettlementRepository(session).reimbursements_due(now.astimezone(CHINA).date()):
        done += await reimburse_order(session, order_id=order_id, adapters=adapters, now=now)
    return done


async def reimburse_order(session: AsyncSession, *, order_id: uuid.UUID, adapters: Adapters, now: datetime) -> int:
    """Reimburse one order if it is due and not yet reimbursed (1), else nothing (0)."""
    repository = SettlementRepository(session)
    order = await repository.order(order_id)
    today = now.astimezone(CHINA).date()
    if order is None or order.state != "paid" or order.reimburse_on is None or order.reimburse_on > today:
        return 0
    if not order.deferred_fund_fen or not await repository.claim_reimbursement(order_id, now=now):
        return 0
    await session.refresh(order)
    await _reimburse(session, order, adapters)
    return 1


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
    card = present(await session.get(Card, order.card_id), "card")
    accounts = await facts.accounts_of(session, await facts.payer_of(session, card), None)
    legs = [
        Leg(accounts.ids["fund"], -amount, "fund"),
        Leg(accounts.ids["channel"], amount - left, "channel"),
        Leg(accounts.ids["deposit"], left, "deposit"),  # paid from deposit or credit: back to the deposit
    ]
    await ledger.post(session, kind="reimbursement", legs=legs, reference=("payment_order", order.id))
    hospital = await session.get(Hospital, order.hospital_id)
    params = {
        "hospital": hospital.name_zh if hospital else "",
        "bill": order.bill_number,
        "amount": format_yuan(amount),
    }
    phone = card.phone
    after_commit(session, lambda: adapters.sms.send(phone, "reimbursed", params))  # R-INS-04: with a notification
    await record(session, actor=SYSTEM, action="settlement.reimbursed", subject=order,
                 hospital_id=order.hospital_id, details={"amount_fen": amount})  # fmt: skip


# --- durable jobs (medcard worker; R-PAY-04, R-INS-04) ----------------------------------------


@handles("settlement.expire", every=EXPIRY_SWEEP)
async def expire_job(job: JobContext) -> None:
    """Orders whose 15 minutes are over (R-PAY-04): the pending order rows are the durable
    record, claimed with ``FOR UPDATE SKIP LOCKED``; an order expires at most one sweep late."""
    await expire_due(job.session, adapters=job.adapters, now=clock.now())


@handles("settlement.reimburse_order")
async def reimburse_order_job(job: JobContext) -> None:
    """A deferred scheme's fund share is due (enqueued when the order was paid)."""
    order_id = uuid.UUID(str(job.payload["order_id"]))
    await reimburse_order(job.session, order_id=order_id, adapters=job.adapters, now=clock.now())


@handles("settlement.sweep", every=timedelta(minutes=1))
async def sweep(job: JobContext) -> None:
    """Catch-all: deferred reimbursements overdue and not handled by their own job."""
    await reimburse_due(job.session, adapters=job.adapters, now=clock.now())
