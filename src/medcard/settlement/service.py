"""Paying a bill (R-PAY-02…05, R-PAY-09): quote the split, open an order with its holds,
settle with the insurance platform and charge the channel, post or keep pending.

Phases and recovery points (docs/architecture.md, Ledger and settlement): :func:`pay` opens
the order and places every hold, then **commits** (the recovery point: an order and its holds
exist before any outside system is called, and no account row stays locked during those
calls); then it runs the insurance and channel steps and posts the hold when both are done.
A step that fails leaves the order ``pending`` with its ``failure_code``: the client retries
the same request (same idempotency key) or :func:`retry`; after 15 minutes the expiry job
releases every hold (R-PAY-04). The request's unit of work commits the last phase.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from medcard.adapters import Adapters
from medcard.adapters.his import HisBill
from medcard.audit.service import Actor, record
from medcard.auth.service import actor_for_staff
from medcard.card.repository import CardRepository
from medcard.codes.errors import AuthorisationAmountExceeded
from medcard.codes.service import check_verification_code
from medcard.config import Settings
from medcard.errors import NotFound, present
from medcard.family import mutual_aid
from medcard.family import rules as family_rules
from medcard.family.errors import FamilyConfirmationNotAwaited
from medcard.jobs.service import enqueue
from medcard.kit.clock import CHINA, clock
from medcard.kit.ids import new_id
from medcard.ledger import service as ledger
from medcard.ledger.rules import AccountState, Leg
from medcard.models import Account, Card, ChannelPayment, MutualAidGrant, PaymentOrder, StaffUser
from medcard.policy import rules as policy_rules
from medcard.policy import service as policy
from medcard.settlement import facts, jobs, rules, steps
from medcard.settlement.errors import (
    BillAlreadyPaid,
    BillNotFound,
    InsuranceRefusedPayment,
    KeyReused,
    PaymentPending,
)
from medcard.settlement.facts import Payer
from medcard.settlement.repository import SettlementRepository

Checkpoint = Callable[[str], Awaitable[None]]
PENDING_FOR = timedelta(minutes=15)
"""R-PAY-04: a pending order keeps its holds this long."""
LEG_SOURCES = (
    ("fund_fen", "fund"),
    ("personal_account_fen", "personal_account"),
    ("family_mutual_aid_fen", "family_mutual_aid"),
    ("deposit_fen", "deposit"),
    ("credit_line_fen", "credit_line"),
    ("self_pay_fen", "channel"),
)


@dataclass(frozen=True)
class Quote:
    """What the patient sees before confirming: the split, each source, the channel payments."""

    bill: HisBill
    split: rules.Split
    funding: rules.Funding
    payments: list[int]
    accounts: facts.PayerAccounts | None = None
    """The payer's ledger accounts under the coverage (None for an inpatient deposit bill)."""
    mutual_aid: mutual_aid.Offer | None = None
    """A relative's personal account that may pay after the payer's own (R-FAM-08)."""
    locked: dict[uuid.UUID, AccountState] | None = None
    """The payer's own accounts as read under ``FOR UPDATE`` (a quote made to pay, not to show):
    the funding holds until this transaction ends, and the hold does not lock them again."""


def rules_bill(his: HisBill, payer: Payer, *, scenario: str) -> rules.Bill:
    """The HIS bill as the pure rules read it (an inpatient deposit is an inpatient bill)."""
    items = tuple(
        rules.BillItem(item.code, item.name, item.category, item.amount, item.self_pay_share_bp) for item in his.items
    )
    return rules.Bill(
        items=items,
        visit_type="inpatient" if his.kind == "inpatient_deposit" else "outpatient",
        hospital_level=payer.hospital.level,
        hospital_is_county=payer.hospital.is_county,
        care_region_code=payer.hospital.region.code,
        channel="online" if scenario == "online" else "counter",
    )


async def his_bill(payer: Payer, bill_number: str, adapters: Adapters) -> HisBill:
    """One of the card holder's bills at the card's hospital, from the HIS (amounts never come
    from the client)."""
    found = await adapters.his.bill(hospital_code=payer.hospital.code, patient_id=payer.card.his_patient_id,
                                    bill_no=bill_number)  # fmt: skip
    if found is None:
        raise BillNotFound(field="bill_number")
    if found.status != "unpaid":  # paid (or paid and refunded: the HIS bills anew)
        raise BillAlreadyPaid(field="bill_number")
    return found


async def quote(session: AsyncSession, *, card: Card, bill_number: str, scenario: str, adapters: Adapters) -> Quote:
    """The split of one HIS bill for the card's holder, as it would be paid now."""
    payer = await facts.payer_of(session, card)
    his = await his_bill(payer, bill_number, adapters)
    return await _quote(session, payer, his, scenario=scenario, adapters=adapters)


async def _quote(
    session: AsyncSession, payer: Payer, his: HisBill, *, scenario: str, adapters: Adapters, mirror: bool = True
) -> Quote:
    """``mirror``: bring the personal account's mirror up to date first (a payment does it
    under its locks instead, :func:`_locked`)."""
    now = clock.now()
    bill = rules_bill(his, payer, scenario=scenario)
    deposit_bill = his.kind == "inpatient_deposit"  # prepaid money, never sent to the insurance
    coverage = None if deposit_bill else await facts.coverage_of(session, payer, bill, on=now.astimezone(CHINA).date())
    # This year's fund totals matter only to a fund share: an uninsured bill is not read for them.
    year = rules.YearToDate() if coverage is None else await facts.year_to_date(
        session, payer, visit_type=bill.visit_type, now=now)  # fmt: skip
    split = rules.settle(bill, coverage, year)
    accounts = await facts.accounts_of(session, payer, coverage)
    # R-FAM-08: read only for a patient insured where the region's policy has mutual aid (the
    # grant row is locked before any mirror entry locks an account: the fixed lock order).
    offer = None
    if coverage is not None and coverage.region.family_mutual_aid:
        offer = await mutual_aid.offer_for(session, payer.person.id, world_id=accounts.ids["world"],
                                           platform=adapters.insurance)  # fmt: skip
        if offer is not None:
            accounts = facts.PayerAccounts({**accounts.ids, "family_mutual_aid": offer.account_id})
    if mirror:
        await facts.sync_personal_account(session, payer, accounts, adapters.insurance)
    balances = rules.Balances() if deposit_bill else await facts.balances(session, accounts)
    if offer is not None:
        balances = mutual_aid.within_limits(balances, await session.get(MutualAidGrant, offer.grant_id))
    funding = rules.fund_order(split, balances)
    payments = rules.channel_payments(funding.self_pay_fen)
    return Quote(his, split, funding, payments, None if deposit_bill else accounts, offer)


async def _locked(session: AsyncSession, payer: Payer, quoted: Quote, adapters: Adapters) -> Quote:
    """The quote again with its balances read under the row locks the hold will keep (the
    personal account's mirror brought up to date under them): what a concurrent payment of
    the same patient took since the quote goes to the next source. The hold uses the locked
    states (it does not lock again)."""
    if quoted.accounts is None:
        return quoted
    offer = quoted.mutual_aid  # R-FAM-08: the grant row is locked before any account (fixed order)
    grant = await mutual_aid.lock_grant(session, offer.grant_id) if offer is not None else None
    balances, locked = await facts.locked_balances(session, quoted.accounts)
    if await facts.sync_personal_account(session, payer, quoted.accounts, adapters.insurance, locked=locked):
        balances, locked = await facts.locked_balances(session, quoted.accounts)
    if offer is not None:
        balances = mutual_aid.within_limits(balances, grant)
    funding = rules.fund_order(quoted.split, balances)
    payments = quoted.payments if funding == quoted.funding else rules.channel_payments(funding.self_pay_fen)
    return Quote(quoted.bill, quoted.split, funding, payments, quoted.accounts, offer, locked)


def digest(**body: object) -> str:
    """The fingerprint of a request body, compared when a key comes back (R-PAY-05)."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


async def pay(
    session: AsyncSession,
    *,
    card: Card,
    bill_number: str,
    scenario: str,
    key: str,
    actor: Actor,
    adapters: Adapters,
    staff_id: uuid.UUID | None = None,
    checkpoint: Checkpoint | None = None,
) -> PaymentOrder:
    """Pay one HIS bill. The same key and body return the same order (resuming a pending one);
    the same key with another body is refused (422). ``checkpoint`` commits the opened order
    as a recovery point (the idempotency key's, when the request holds one)."""
    repository = SettlementRepository(session)
    fingerprint = digest(card=card.id, bill=bill_number, scenario=scenario)
    existing, bill_taken = await repository.order_or_open_bill(card.account_id, key, card.hospital_id, bill_number)
    if existing is not None:
        if existing.request_digest != fingerprint:
            raise KeyReused(field="idempotency_key")
        return await retry(session, order=existing, adapters=adapters) if existing.state == "pending" else existing
    payer = await facts.payer_of(session, card)
    his = await his_bill(payer, bill_number, adapters)
    if bill_taken:
        raise BillAlreadyPaid(field="bill_number")
    quoted = await _quote(session, payer, his, scenario=scenario, adapters=adapters, mirror=False)
    order = await _open(session, payer, quoted, adapters, key=key, fingerprint=fingerprint, scenario=scenario,
                        staff_id=staff_id)  # fmt: skip
    await record(
        session,
        actor=actor,
        action="settlement.order_open",
        subject=order,
        hospital_id=payer.hospital.id,
        details={"total_fen": order.total_fen, "funding": order.funding, "policy": order.policy_version},
    )
    if family_rules.needs_guardian_confirmation(order.bill_kind, proxied=payer.person.id != payer.account.person_id):
        order.guardian_confirmation = "awaiting"  # R-FAM-04: nothing moves before the second confirmation
        await session.flush()
        await record(session, actor=actor, action="family.confirmation_requested", subject=order,
                     hospital_id=payer.hospital.id, details={"total_fen": order.total_fen})  # fmt: skip
    # Recovery point: the order and its holds exist before any outside system is called.
    await (checkpoint("order_open") if checkpoint else session.commit())
    if order.guardian_confirmation == "awaiting":
        return order
    return await _collect(session, order, payer, adapters)


async def _open(
    session: AsyncSession,
    payer: Payer,
    quoted: Quote,
    adapters: Adapters,
    *,
    key: str,
    fingerprint: str,
    scenario: str,
    staff_id: uuid.UUID | None,
) -> PaymentOrder:
    """The order row, its ≤ 300-yuan channel payments and one hold over every source.

    The order row comes first: its unique index makes a racing payment of the same bill wait
    (or fail) before it locks any account. Then the payer's own accounts are locked in id order
    and the funding decided again from them; the hold, whose id the order already names (a
    foreign key checked at commit), does not lock them again."""
    funding = quoted.funding
    order = new_order(payer, quoted, key=key, fingerprint=fingerprint, scenario=scenario, staff_id=staff_id)
    if not await SettlementRepository(session).insert_order(order):  # another order of this bill won the race
        raise BillAlreadyPaid(field="bill_number")
    quoted = await _locked(session, payer, quoted, adapters)
    if quoted.funding != funding:  # (an UPDATE only then)
        funding = quoted.funding
        order.funding, order.deferred_fund_fen = funding.as_dict(), funding.deferred_fund_fen
    for seq, amount in enumerate(quoted.payments):
        out = steps.out_trade_no(order.id, seq, 0)
        session.add(ChannelPayment(order_id=order.id, account_id=payer.account.id, purpose="bill",
                                   out_trade_no=out, amount_fen=amount))  # fmt: skip
    # The quote's accounts (found or created a moment ago) serve the hold; a deposit bill had none.
    accounts = quoted.accounts or await facts.accounts_of(session, payer, None)
    offer = quoted.mutual_aid if funding.family_mutual_aid_fen else None
    await ledger.hold(session, kind="payment", legs=payment_legs(funding, accounts, bill_kind=quoted.bill.kind),
                      reference=("payment_order", order.id), entry_id=order.hold_entry_id, locked=quoted.locked,
                      memo=mutual_aid.hold_memo(offer) if offer is not None else None)  # fmt: skip
    if offer is not None:  # R-FAM-08: counted in the grant's use while its row is still locked
        order.mutual_aid_grant_id = offer.grant_id
        grant = present(await session.get(MutualAidGrant, offer.grant_id), "grant")
        await mutual_aid.record_use(session, grant, funding.family_mutual_aid_fen)
    # R-PAY-04: the order row itself, pending with its expires_at, is the durable record the
    # worker's expiry sweep claims (FOR UPDATE SKIP LOCKED) once the 15 minutes are over.
    return order


def new_order(
    payer: Payer, quoted: Quote, *, key: str, fingerprint: str, scenario: str, staff_id: uuid.UUID | None
) -> PaymentOrder:
    """The order row of a quoted bill, pending for 15 minutes (R-PAY-04), not yet written."""
    return PaymentOrder(**order_values(payer, quoted, key=key, fingerprint=fingerprint, scenario=scenario,
                                       staff_id=staff_id))  # fmt: skip


def order_values(
    payer: Payer, quoted: Quote, *, key: str, fingerprint: str, scenario: str, staff_id: uuid.UUID | None
) -> dict[str, Any]:
    """:func:`new_order`'s values by attribute, created now (the payment gateway writes a batch
    of them as rows: an ORM object per order cost more than the rules)."""
    now = clock.now()
    split, funding = quoted.split, quoted.funding
    return dict(  # noqa: C408 - the keyword form reads as the row
        id=new_id(), hold_entry_id=new_id(), created_at=now,
        account_id=payer.account.id, card_id=payer.card.id, person_id=payer.person.id, hospital_id=payer.hospital.id,
        binding_id=payer.binding.id if payer.binding else None, staff_id=staff_id, request_key=key,
        request_digest=fingerprint, scenario=scenario, bill_number=quoted.bill.bill_no, bill_kind=quoted.bill.kind,
        visit_type="inpatient" if quoted.bill.kind == "inpatient_deposit" else "outpatient",
        items=[{"code": i.code, "name": i.name, "category": i.category, "unit_price": i.unit_price,
                "quantity": i.quantity, "amount_fen": i.amount} for i in quoted.bill.items],
        total_fen=split.total_fen, fund_fen=split.fund_fen, deductible_fen=split.deductible_fen,
        split=split.as_dict(), funding=funding.as_dict(), policy_version=split.policy_version or "none",
        state="pending", expires_at=now + PENDING_FOR, deferred_fund_fen=funding.deferred_fund_fen, refunded={},
    )  # fmt: skip


def receiver(bill_kind: str) -> str:
    """Who receives a bill's money: the hospital, or the patient's deposit for an inpatient
    deposit bill (prepaid money that later bills draw on, R-CARD-09)."""
    return "deposit" if bill_kind == "inpatient_deposit" else "hospital"


def payment_legs(funding: rules.Funding, accounts: facts.PayerAccounts, *, bill_kind: str) -> list[Leg]:
    """Every source gives its share; the receiver gets the whole bill."""
    parts = funding.as_dict()
    legs = [Leg(accounts.ids[source], -parts[name], source) for name, source in LEG_SOURCES if parts[name]]
    to = receiver(bill_kind)
    legs.append(Leg(accounts.ids[to], funding.total_fen, to))
    return legs


async def retry(session: AsyncSession, *, order: PaymentOrder, adapters: Adapters) -> PaymentOrder:
    """Run the missing outside steps of a pending order again (R-PAY-07: "insufficient
    balance" while there is money is a channel delay; retrying never charges twice)."""
    if order.state != "pending":
        return order
    if order.expires_at <= clock.now():  # overdue: expire it now rather than wait for the job
        await jobs.expire_order(session, order_id=order.id, adapters=adapters, now=clock.now())
        await session.refresh(order)
        return order
    if order.guardian_confirmation == "awaiting":
        return order  # R-FAM-04: waits for the guardian (or its 15 minutes)
    card = present(await session.get(Card, order.card_id), "card")
    return await _collect(session, order, await facts.payer_of(session, card), adapters)


async def confirm_for_relative(
    session: AsyncSession, *, account: Account, order_id: uuid.UUID, actor: Actor, adapters: Adapters
) -> PaymentOrder:
    """The guardian's second confirmation of a prescription-drug payment for a patient he acts
    for (R-FAM-04): the outside steps run now; an order past its 15 minutes is expired instead."""
    order = await order_of_account(session, account=account, order_id=order_id)
    if order.guardian_confirmation != "awaiting":
        raise FamilyConfirmationNotAwaited()
    if order.state == "pending" and order.expires_at > clock.now():
        order.guardian_confirmation = "confirmed"
        await session.flush()
        await record(session, actor=actor, action="family.confirmation_given", subject=order,
                     hospital_id=order.hospital_id, details={"total_fen": order.total_fen})  # fmt: skip
    return await retry(session, order=order, adapters=adapters)


async def awaiting_confirmation(session: AsyncSession, *, account: Account) -> list[PaymentOrder]:
    """The guardian's inbox: payments for relatives still waiting for his confirmation."""
    now = clock.now()
    return [
        order
        for order in await SettlementRepository(session).orders_of(account)
        if order.guardian_confirmation == "awaiting" and order.state == "pending" and order.expires_at > now
    ]


async def _collect(session: AsyncSession, order: PaymentOrder, payer: Payer, adapters: Adapters) -> PaymentOrder:
    relative = None  # R-FAM-08: whose personal account pays the mutual-aid share (6202 acctMulaidPsnNo)
    if order.mutual_aid_grant_id is not None and order.insurance_state != "settled":
        binding = await mutual_aid.principal_binding(session, order.mutual_aid_grant_id)
        relative = binding.platform_person_number if binding is not None else None
    failure = await steps.insurance_step(order, payer, adapters, mutual_aid_person=relative)
    if failure is None:
        failure = await steps.channel_step(session, order, payer, adapters)
    if order.failure_code != failure:  # an unchanged column is not written again
        order.failure_code = failure
        await session.flush()
    if failure is None:
        await complete(session, order, payer, adapters)
    elif failure.startswith("INSURANCE_") and failure != "INSURANCE_UNKNOWN":
        # Refused for good (e.g. the personal account is shorter than its mirror said): waiting
        # 15 minutes would change nothing, so every hold is released now.
        await jobs.expire_order(session, order_id=order.id, adapters=adapters, now=order.expires_at)
        await session.refresh(order)
    return order


async def reimbursement_day(session: AsyncSession, today: date, delay: int) -> date:
    """N Chinese working days after ``today`` (R-INS-04). When the calendar does not know the
    year yet (an admin adds it each December), count Monday–Friday rather than refuse a payment
    that has already been charged; the estimate errs by the year's holidays only."""
    try:
        return policy_rules.add_working_days(today, delay, await policy.calendar(session, on=today))
    except policy_rules.CalendarUnknown:
        day, left = today, delay
        while left:
            day += timedelta(days=1)
            left -= 1 if day.weekday() < 5 else 0
        return day


async def complete(session: AsyncSession, order: PaymentOrder, payer: Payer, adapters: Adapters) -> None:
    """Mark the order paid (once), the bill paid in the HIS, schedule a deferred scheme's
    reimbursement N Chinese working days later (R-INS-04), and post the hold."""
    now = clock.now()
    today = now.astimezone(CHINA).date()
    reimburse_on = None
    if order.deferred_fund_fen:
        delay = int(order.split.get("deferred_days", 0))
        reimburse_on = await reimbursement_day(session, today, delay)
    if not await SettlementRepository(session).set_state(
        order.id, before="pending", after="paid", paid_at=now, reimburse_on=reimburse_on, failure_code=None
    ):
        return
    if reimburse_on is not None:
        run_at = datetime.combine(reimburse_on, time(9, 0), tzinfo=CHINA)
        await enqueue(session, "settlement.reimburse_order", {"order_id": str(order.id)}, run_at=run_at,
                      unique_key=f"reimburse:{order.id}")  # fmt: skip
    # What the conditional UPDATE wrote, without reading the row back.
    for name, value in {"state": "paid", "paid_at": now, "reimburse_on": reimburse_on, "failure_code": None}.items():
        set_committed_value(order, name, value)
    await adapters.his.mark_paid(hospital_code=payer.hospital.code, bill_no=order.bill_number,
                                 payment_reference=str(order.id))  # fmt: skip
    await record(session, actor=Actor.system("settlement"), action="settlement.order_paid", subject=order,
                 hospital_id=order.hospital_id, details={"total_fen": order.total_fen})  # fmt: skip
    # Last: posting the hold locks the hospital's and the channel's accounts, which every payment
    # of the hospital needs; taken here they are held for the fewest statements (not across the
    # HIS call) until the request commits.
    await ledger.resolve(session, present(order.hold_entry_id, "order.hold_entry_id"), post_it=True)


async def bills(session: AsyncSession, *, card: Card, adapters: Adapters) -> list[HisBill]:
    """The card holder's bills at the card's hospital (待缴费 and paid)."""
    payer = await facts.payer_of(session, card)
    return await adapters.his.bills(hospital_code=payer.hospital.code, patient_id=card.his_patient_id)


async def order_of_account(session: AsyncSession, *, account: Account, order_id: uuid.UUID) -> PaymentOrder:
    """One of the account's orders; anyone else's is 404."""
    order = await SettlementRepository(session).order(order_id)
    if order is None or order.account_id != account.id:
        raise NotFound()
    return order


async def orders_of(session: AsyncSession, *, account: Account) -> list[PaymentOrder]:
    return list(await SettlementRepository(session).orders_of(account))


async def order_for_staff(session: AsyncSession, *, staff: StaffUser, order_id: uuid.UUID) -> PaymentOrder:
    """An order at the staff member's hospital (platform staff: any); otherwise 404."""
    order = await SettlementRepository(session).order(order_id)
    if order is None or (staff.hospital_id is not None and staff.hospital_id != order.hospital_id):
        raise NotFound()
    return order


async def pos_charge(
    session: AsyncSession,
    *,
    staff: StaffUser,
    verification_code: str,
    bill_number: str,
    key: str,
    settings: Settings,
    adapters: Adapters,
    checkpoint: Checkpoint | None = None,
) -> PaymentOrder:
    """A cashier or pharmacy POS charges a HIS bill after redeeming the patient's payment code
    (R-PAY-09): the signed verification code names the card and caps the amount."""
    claims = check_verification_code(staff=staff, token=verification_code, amount_fen=1, settings=settings)
    card = await CardRepository(session).by_number(claims.card_number)
    if card is None:
        raise NotFound()
    payer = await facts.payer_of(session, card)
    existing = await SettlementRepository(session).order_by_key(card.account_id, key)
    if existing is None and (await his_bill(payer, bill_number, adapters)).total > claims.ceiling_fen:
        raise AuthorisationAmountExceeded(field="bill_number")
    scenario = "pharmacy" if staff.role == "pharmacy" else "counter"
    return await pay(session, card=card, bill_number=bill_number, scenario=scenario, key=key,
                     actor=actor_for_staff(staff), adapters=adapters, staff_id=staff.id,
                     checkpoint=checkpoint)  # fmt: skip


def settled(order: PaymentOrder) -> PaymentOrder:
    """The order when it is paid (or expired); a pending one is refused with its failure so
    the request's key is released and the client's retry resumes it (R-PAY-04/07). An order
    waiting for the guardian's second confirmation (R-FAM-04) is an answer, not a failure."""
    if order.state == "pending" and order.guardian_confirmation != "awaiting":
        raise PaymentPending(failure_code=order.failure_code or "UNKNOWN")
    if order.state == "expired" and (order.failure_code or "").startswith("INSURANCE_"):
        raise InsuranceRefusedPayment(failure_code=order.failure_code)
    return order


async def pos_bills(
    session: AsyncSession, *, staff: StaffUser, verification_code: str, settings: Settings, adapters: Adapters
) -> list[HisBill]:
    """The unpaid HIS bills of the card a verification code names, within its ceiling (the POS
    offers them to charge next)."""
    claims = check_verification_code(staff=staff, token=verification_code, amount_fen=1, settings=settings)
    card = await CardRepository(session).by_number(claims.card_number)
    if card is None:
        return []
    unpaid = [bill for bill in await bills(session, card=card, adapters=adapters) if bill.status == "unpaid"]
    return [bill for bill in unpaid if bill.total <= claims.ceiling_fen]
