"""Daily reconciliation (对账, R-PAY-08): the ledger of one China day against the payment
channel's statement (交易账单) and the insurance platform's 3202 detail statement.

Our side is the ledger: posted entries of the day (by posting time) with their channel
postings (charges of payments, top-ups and repayments; refunds and reimbursements) and their
fund + personal-account postings (6202 settlements of payments; 6203 refunds). Their side is
each statement's lines, mapped to the same references (an order, or a top-up's channel
payment) through ``channel_payment.out_trade_no`` and ``payment_order.insurance_order_id``.
Each reference and movement (charge / settle / refund) whose sums differ is one difference row
with its cause:

- ``missing_ours``: the outside system has a movement MedCard knows nothing of;
- ``lost_answer``: MedCard asked for it but never learnt the outcome (the order is still
  pending or expired without posting; the expiry refunds what it finds, the report shows it);
- ``other_day``: the order is paid but posted on another day (a payment across midnight);
- ``missing_theirs``: the ledger posted money the statement does not show;
- ``amount_mismatch``: both have it, with different amounts.

Each run writes a report row and its differences (history kept); the daily job runs for the
previous China day, ``medcard settlement reconcile --day`` and the finance console for any day.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.insurance_payment import MobilePayment
from medcard.audit.service import Actor, record
from medcard.jobs.registry import JobContext, handles
from medcard.kit.clock import CHINA, clock
from medcard.models import (
    ChannelPayment,
    JournalEntry,
    PaymentOrder,
    Posting,
    ReconciliationDifference,
    ReconciliationReport,
)

Ref = tuple[str, str]
"""(reference kind, id): ``("payment_order", <uuid>)``, ``("channel_payment", <uuid>)``, or
``("unknown", <their reference>)``."""
CHANNEL_CHARGE_KINDS = ("payment", "top_up", "repayment", "card_fee")
INSURANCE_KINDS = ("payment", "refund")


@dataclass
class Side:
    """Sums per reference and movement (fen)."""

    sums: dict[tuple[Ref, str], int]
    labels: dict[Ref, str]

    def add(self, ref: Ref, movement: str, amount: int, label: str = "") -> None:
        self.sums[(ref, movement)] = self.sums.get((ref, movement), 0) + amount
        if label:
            self.labels.setdefault(ref, label)


def _side() -> Side:
    return Side({}, {})


def window(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=CHINA)
    return start, start + timedelta(days=1)


async def _ledger(session: AsyncSession, day: date) -> tuple[Side, Side, int]:
    """(channel, insurance, entries) from the entries posted on ``day``."""
    start, end = window(day)
    rows = (
        await session.execute(
            select(
                JournalEntry.id,
                JournalEntry.kind,
                JournalEntry.reference_kind,
                JournalEntry.reference_id,
                Posting.source,
                Posting.amount_fen,
            )
            .join(Posting, Posting.entry_id == JournalEntry.id)
            .where(
                JournalEntry.state == "posted",
                JournalEntry.resolved_at >= start,
                JournalEntry.resolved_at < end,
                Posting.source.in_(("channel", "fund", "personal_account", "family_mutual_aid")),
            )
        )
    ).all()
    per_entry: dict[uuid.UUID, tuple[str, Ref, dict[str, int]]] = {}
    for entry_id, kind, ref_kind, ref_id, source, amount in rows:
        ref: Ref = (str(ref_kind), str(ref_id))
        _, _, sums = per_entry.setdefault(entry_id, (str(kind), ref, defaultdict(int)))
        sums[str(source)] += int(amount)
    channel, insurance = _side(), _side()
    for kind, ref, sums in per_entry.values():
        cash = sums.get("channel", 0)
        if cash:
            channel.add(ref, "charge" if cash < 0 and kind in CHANNEL_CHARGE_KINDS else "refund", abs(cash))
        insured = sums.get("fund", 0) + sums.get("personal_account", 0) + sums.get("family_mutual_aid", 0)
        if insured and kind in INSURANCE_KINDS:
            insurance.add(ref, "settle" if insured < 0 else "refund", abs(insured))
    return channel, insurance, len(per_entry)


async def _channel_statement(session: AsyncSession, day: date, adapters: Adapters) -> tuple[Side, int]:
    lines = await adapters.channel.statement(day)
    numbers = {line.out_trade_no for line in lines}
    payments = {
        payment.out_trade_no: payment
        for payment in await session.scalars(select(ChannelPayment).where(ChannelPayment.out_trade_no.in_(numbers)))
    }
    side = _side()
    for line in lines:
        payment = payments.get(line.out_trade_no)
        if payment is None:
            ref: Ref = ("unknown", line.out_trade_no)
        elif payment.order_id is not None:
            ref = ("payment_order", str(payment.order_id))
        else:
            ref = ("channel_payment", str(payment.id))
        side.add(ref, line.kind, line.amount, line.out_trade_no)
    return side, len(lines)


async def _insurance_statement(session: AsyncSession, day: date, adapters: Adapters) -> tuple[Side, int]:
    lines = await MobilePayment(adapters.insurance, org_code="").statement(day)
    numbers = {line.pay_order_id for line in lines}
    orders = {
        order.insurance_order_id: order
        for order in await session.scalars(select(PaymentOrder).where(PaymentOrder.insurance_order_id.in_(numbers)))
    }
    side = _side()
    for line in lines:
        order = orders.get(line.pay_order_id)
        ref: Ref = ("payment_order", str(order.id)) if order is not None else ("unknown", line.pay_order_id)
        side.add(ref, line.kind, line.fund + line.personal_account + line.mutual_aid, line.pay_order_id)
    return side, len(lines)


async def _labels(session: AsyncSession, refs: set[Ref]) -> tuple[dict[Ref, PaymentOrder], dict[Ref, ChannelPayment]]:
    order_ids = [uuid.UUID(ref[1]) for ref in refs if ref[0] == "payment_order"]
    payment_ids = [uuid.UUID(ref[1]) for ref in refs if ref[0] == "channel_payment"]
    found_orders = await session.scalars(select(PaymentOrder).where(PaymentOrder.id.in_(order_ids)))
    found_payments = await session.scalars(select(ChannelPayment).where(ChannelPayment.id.in_(payment_ids)))
    orders: dict[Ref, PaymentOrder] = {("payment_order", str(o.id)): o for o in found_orders}
    payments: dict[Ref, ChannelPayment] = {("channel_payment", str(p.id)): p for p in found_payments}
    return orders, payments


def classify(ours: int, theirs: int, *, known: bool, posted_elsewhere: bool, order_state: str | None) -> str | None:
    """The cause of one difference (pure): None when both sides agree."""
    if ours == theirs:
        return None
    if not known:
        return "missing_ours"
    if ours == 0:
        if order_state in ("pending", "expired"):
            return "lost_answer"
        return "other_day" if posted_elsewhere else "missing_ours"
    if theirs == 0:
        return "missing_theirs"
    return "amount_mismatch"


CAUSES: dict[str, tuple[str, str]] = {
    "missing_ours": ("对方有此交易,我方无记账", "the statement has it, our ledger does not"),
    "lost_answer": (
        "对方已处理,我方未收到应答(订单{state})",
        "applied there, the answer never reached us (order {state})",
    ),
    "other_day": ("我方已于其他日期记账", "our ledger posted it on another day"),
    "missing_theirs": ("我方已记账,对方账单无此交易", "our ledger posted it, the statement does not show it"),
    "amount_mismatch": ("双方金额不一致", "the amounts differ"),
}


def _compare(
    system: str,
    ours: Side,
    theirs: Side,
    orders: dict[Ref, PaymentOrder],
    payments: dict[Ref, ChannelPayment],
) -> list[ReconciliationDifference]:
    found = []
    for ref, movement in sorted(set(ours.sums) | set(theirs.sums)):
        mine, other = ours.sums.get((ref, movement), 0), theirs.sums.get((ref, movement), 0)
        order = orders.get(ref)
        state = order.state if order is not None else None
        if ref in payments and payments[ref].state != "paid":
            state = "pending"
        known = ref[0] != "unknown"
        kind = classify(mine, other, known=known, posted_elsewhere=state == "paid", order_state=state)
        if kind is None:
            continue
        zh, en = CAUSES[kind]
        label = theirs.labels.get(ref) or (order.bill_number if order is not None else ref[1])
        found.append(
            ReconciliationDifference(
                system=system,
                movement=movement,
                kind=kind,
                reference=label[:64],
                order_id=order.id if order is not None else None,
                ours_fen=mine,
                theirs_fen=other,
                cause_zh=zh.format(state=state or "")[:200],
                cause_en=en.format(state=state or "")[:200],
            )
        )
    return found


async def reconcile(session: AsyncSession, *, day: date, adapters: Adapters, actor: Actor) -> ReconciliationReport:
    """Compare the ledger of ``day`` (China) with both statements; store and return the report."""
    channel_ours, insurance_ours, entries = await _ledger(session, day)
    channel_theirs, channel_lines = await _channel_statement(session, day, adapters)
    insurance_theirs, insurance_lines = await _insurance_statement(session, day, adapters)
    refs = {ref for ref, _ in (*channel_ours.sums, *channel_theirs.sums, *insurance_ours.sums, *insurance_theirs.sums)}
    orders, payments = await _labels(session, refs)
    differences = _compare("channel", channel_ours, channel_theirs, orders, payments)
    differences += _compare("insurance", insurance_ours, insurance_theirs, orders, {})
    report = ReconciliationReport(
        day=day,
        state="differences" if differences else "balanced",
        ledger_entries=entries,
        channel_lines=channel_lines,
        insurance_lines=insurance_lines,
        difference_count=len(differences),
        started_by=(actor.label or actor.kind)[:64],
    )
    session.add(report)
    await session.flush()
    for difference in differences:
        difference.report_id = report.id
        session.add(difference)
    await session.flush()
    await record(session, actor=actor, action="settlement.reconciled", subject=report,
                 details={"day": day.isoformat(), "differences": len(differences)})  # fmt: skip
    return report


async def reports(session: AsyncSession, *, limit: int = 30) -> list[ReconciliationReport]:
    query = select(ReconciliationReport).order_by(ReconciliationReport.created_at.desc()).limit(limit)
    return list((await session.scalars(query)).all())


async def differences(session: AsyncSession, *, report_id: uuid.UUID) -> list[ReconciliationDifference]:
    query = (
        select(ReconciliationDifference)
        .where(ReconciliationDifference.report_id == report_id)
        .order_by(ReconciliationDifference.system, ReconciliationDifference.kind, ReconciliationDifference.reference)
    )
    return list((await session.scalars(query)).all())


def yesterday(now: datetime) -> date:
    return now.astimezone(CHINA).date() - timedelta(days=1)


@handles("settlement.reconcile_daily", every=timedelta(days=1))
async def reconcile_daily(job: JobContext) -> None:
    """Once a day (the period starts at 08:00 China time): reconcile the previous China day."""
    await reconcile(job.session, day=yesterday(clock.now()), adapters=job.adapters,
                    actor=Actor.system("reconciliation"))  # fmt: skip
