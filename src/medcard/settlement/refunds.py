"""Refunds, full and partial, back to each source (R-PAY-06): never more than a source gave.
The HIS is told of every refund (its bill becomes partially refunded or refunded).

The order row is locked while a refund is worked out, so two refunds of one order are
serialised; the key (``request_key``) makes a retried refund return the first one."""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.insurance_payment import InsuranceShares, MobilePayment
from medcard.audit.service import Actor, record
from medcard.errors import present
from medcard.family import mutual_aid
from medcard.kit.money import format_yuan
from medcard.ledger import service as ledger
from medcard.ledger.rules import Leg
from medcard.models import Card, Hospital, PaymentOrder, PaymentRefund
from medcard.settlement import facts, rules
from medcard.settlement.errors import (
    KeyReused,
    OrderNotPaid,
    RefundTooLarge,
    RefundWaitsForReimbursement,
)
from medcard.settlement.repository import SettlementRepository
from medcard.settlement.service import receiver


def refundable(order: PaymentOrder) -> dict[str, int]:
    """What each source may still get back."""
    reimbursed = order.deferred_fund_fen if order.reimbursed_at is not None else 0
    gave = rules.effective_captured(order.funding, reimbursed_fen=reimbursed)
    return {source: gave[source] - int(order.refunded.get(source, 0)) for source in rules.SOURCES}


async def refund(
    session: AsyncSession,
    *,
    order: PaymentOrder,
    amount_fen: int | None,
    key: str,
    reason: str,
    actor: Actor,
    adapters: Adapters,
) -> PaymentRefund:
    """Refund ``amount_fen`` (None: everything left) of a paid order to its sources."""
    repository = SettlementRepository(session)
    existing = await repository.refund_by_key(order.id, key)
    if existing is not None:
        if amount_fen is not None and existing.total_fen != amount_fen:
            raise KeyReused(field="idempotency_key")
        return existing
    locked = present(await repository.order(order.id, lock=True), "order")
    if locked.state != "paid":
        raise OrderNotPaid()
    room = refundable(locked)
    amount = sum(room.values()) if amount_fen is None else amount_fen
    if locked.deferred_fund_fen and locked.reimbursed_at is None:
        if amount != sum(room.values()):
            raise RefundWaitsForReimbursement(field="amount_fen")
        dropped = locked.deferred_fund_fen
        if not await repository.cancel_reimbursement(locked.id):
            raise RefundWaitsForReimbursement(field="amount_fen")
        await session.refresh(locked)
        locked.fund_refunded_fen += dropped  # the fund will never pay it
    try:
        shares = rules.refund_split(room, {}, amount)
    except ValueError as error:
        raise RefundTooLarge(field="amount_fen", refundable_yuan=format_yuan(max(0, sum(room.values())))) from error
    # R-FAM-08: a refunded mutual-aid share comes back to the grant's use (its row before the accounts).
    await mutual_aid.give_back(session, locked, shares.get("family_mutual_aid", 0))
    entry_id = await _post(session, locked, shares)
    await _outside(session, locked, shares, key, adapters)
    hospital = present(await session.get(Hospital, locked.hospital_id), "hospital")
    await adapters.his.mark_refunded(hospital_code=hospital.code, bill_no=locked.bill_number,
                                     refund_reference=_reference(locked.id, key), amount_fen=amount)  # fmt: skip
    locked.refunded = {s: int(locked.refunded.get(s, 0)) + shares.get(s, 0) for s in rules.SOURCES}
    locked.refunded_fen += amount
    locked.fund_refunded_fen += shares.get("fund", 0)  # this year's fund totals subtract it
    made = PaymentRefund(order_id=locked.id, request_key=key, total_fen=amount, amounts=shares,
                         entry_id=entry_id, reason=reason[:200])  # fmt: skip
    session.add(made)
    await session.flush()
    await record(session, actor=actor, action="settlement.refund", subject=made, hospital_id=locked.hospital_id,
                 details={"order": str(locked.id), "amounts": shares})  # fmt: skip
    return made


async def _post(session: AsyncSession, order: PaymentOrder, shares: dict[str, int]) -> uuid.UUID:
    card = present(await session.get(Card, order.card_id), "card")
    accounts = await facts.accounts_of(session, await facts.payer_of(session, card), None)
    ids = {**accounts.ids, **await mutual_aid.order_account(session, order)}  # a mutual-aid share: the principal's
    legs = [Leg(ids[source], amount, source) for source, amount in shares.items()]
    to = receiver(order.bill_kind)  # a refunded inpatient deposit leaves the deposit (never below 0)
    legs.append(Leg(ids[to], -sum(shares.values()), to))
    return await ledger.post(session, kind="refund", legs=legs, reference=("payment_order", order.id))


async def _outside(
    session: AsyncSession, order: PaymentOrder, shares: dict[str, int], key: str, adapters: Adapters
) -> None:
    """Give the channel's and the insurance's parts back through them."""
    left = shares.get("channel", 0)
    for payment in await SettlementRepository(session).payments(order.id):
        part = min(left, payment.amount_fen - payment.refunded_fen) if payment.state == "paid" else 0
        if part:
            reference = "RF" + hashlib.sha256(f"{payment.out_trade_no}|{key}".encode()).hexdigest()[:30]
            await adapters.channel.refund(payment.out_trade_no, out_refund_no=reference, amount=part, reason="退费")
            payment.refunded_fen += part
            left -= part
    insured = InsuranceShares(fund=shares.get("fund", 0), personal_account=shares.get("personal_account", 0),
                              mutual_aid=shares.get("family_mutual_aid", 0))  # fmt: skip
    if (
        order.insurance_order_id
        and order.insurance_state == "settled"
        and (insured.fund or insured.personal_account or insured.mutual_aid)
    ):
        hospital = present(await session.get(Hospital, order.hospital_id), "hospital")
        mobile = MobilePayment(adapters.insurance, org_code=hospital.code)
        await mobile.refund(order.insurance_order_id, reference=_reference(order.id, key), amounts=insured)


def _reference(order_id: uuid.UUID, key: str) -> str:
    """The refund's reference at the insurance platform and the HIS (the same key, the same one)."""
    return "RF" + hashlib.sha256(f"{order_id}|{key}".encode()).hexdigest()[:30]


async def refund_of(session: AsyncSession, *, order: PaymentOrder, key: str) -> PaymentRefund | None:
    """The refund of ``order`` made with request ``key`` (the page after the refund shows it)."""
    return await SettlementRepository(session).refund_by_key(order.id, key)
