"""Family mutual aid in the real payment flow (R-FAM-08, R-PAY-02): a relative's payment takes,
after his own personal account, from the employee's personal account within the limits he set;
the ledger posts it from that account with the beneficiary; the insurance 6202 carries it as
``acctMulaidPay`` (setlinfo ``acct_mulaid_pay``); refunds and expiry give it back; revoking
while a payment is pending completes or releases it whole. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.insurance import SandboxInsurancePlatform
from medcard.config import Settings
from medcard.kit.clock import clock
from medcard.ledger import service as ledger
from medcard.ledger.repository import LedgerRepository
from medcard.models import Card, FamilyMember, InsuranceBinding, JournalEntry, MutualAidGrant, PaymentOrder, Posting
from medcard.settlement import documents, jobs
from tests.family.helpers import add, card_for, person
from tests.insurance.conftest import LIVE_FACE, MakePatient, make_patient, policy
from tests.settlement.conftest import Payer, add_bill, books_balance, cashier, channel, key
from tests.settlement.test_documents import text_of as pdf_text

__all__ = ["cashier", "make_patient", "policy"]

ORDERS = "/api/v1/settlement/orders"
PRINCIPAL_FEN = 50_000
"""The employee's personal account on the platform at the start (500 yuan)."""


@dataclass
class Family:
    principal: dict[str, str]
    principal_person_number: str
    principal_account: uuid.UUID
    grant_id: str
    member: Payer
    member_person_number: str


def sandbox(adapters: Adapters) -> SandboxInsurancePlatform:
    platform = adapters.insurance
    assert isinstance(platform, SandboxInsurancePlatform)
    return platform


async def family(
    client: httpx.AsyncClient,
    db: AsyncSession,
    adapters: Adapters,
    settings: Settings,
    make_patient: MakePatient,
    *,
    sequence: int = 5,
    per_payment_fen: int | None = None,
    per_year_fen: int | None = None,
) -> Family:
    """An employee insured in Guangzhou adds his father (a resident of Guangzhou), issues him a
    card, binds the father's insurance and turns mutual aid on for him — all through the API
    (the staff review of the proof, R-FAM-02, is accepted as a unit step)."""
    patient = await make_patient(region="440106", sequence=sequence, name="陈共济")
    bound = await client.post("/api/v1/insurance/bindings", json=patient.form(), headers=patient.headers)
    assert bound.status_code == 201 and bound.json()["scheme_code"] == "310", bound.text
    number = person(settings, "陈父", date(1952, 3, 4), region="440106")
    added = await add(client, patient.headers, name="陈父", number=number, relation="parent")
    assert added.status_code == 201, added.text
    member_id = added.json()["id"]
    await db.execute(update(FamilyMember).where(FamilyMember.id == uuid.UUID(member_id)).values(status="active"))
    await db.commit()
    subject = added.json()["patient"]["id"]
    card_id = await card_for(client, patient.headers, subject)
    platform = sandbox(adapters)
    truth = platform.person(number, "陈父")
    form = {"card_id": card_id, "card_number": truth.card_number, "scheme": "resident" if truth.scheme_code == "390"
            else "employee", "region_code": "440100", "client_version": "7.1.0", "face_image": LIVE_FACE}  # fmt: skip
    member_binding = await client.post("/api/v1/insurance/bindings", json=form, headers=patient.headers)
    assert member_binding.status_code == 201, member_binding.text
    body = {"member_id": member_id, "per_payment_limit_fen": per_payment_fen, "per_year_limit_fen": per_year_fen}
    grant = await client.post("/api/v1/family/mutual-aid", json=body, headers=patient.headers)
    assert grant.status_code == 201, grant.text
    principal_binding = (
        await db.scalars(select(InsuranceBinding).where(InsuranceBinding.card_id == patient.card.id))
    ).one()
    member = (await db.scalars(select(InsuranceBinding).where(InsuranceBinding.card_id == uuid.UUID(card_id)))).one()
    platform.balances[principal_binding.platform_person_number] = PRINCIPAL_FEN
    platform.balances[member.platform_person_number] = 0  # the father's own account is empty (a resident)
    card = await db.get(Card, uuid.UUID(card_id))
    assert card is not None
    payer = Payer(card_id, card.his_patient_id, patient.account.openid, patient.headers, True, card.phone)
    return Family(patient.headers, principal_binding.platform_person_number, patient.account.id,
                  grant.json()["id"], payer, member.platform_person_number)  # fmt: skip


async def principal_account(db: AsyncSession, fam: Family) -> tuple[uuid.UUID, int, int]:
    """(ledger account, balance, held) of the employee's personal account."""
    grant = await db.get(MutualAidGrant, uuid.UUID(fam.grant_id), populate_existing=True)
    assert grant is not None
    ids = await ledger.ensure(db, [ledger.personal_account(grant.principal_person_id)])
    account = next(iter(ids.values()))
    state = (await LedgerRepository(db).balances([account]))[account]
    return account, state.balance_fen, state.held_fen


async def used(db: AsyncSession, fam: Family) -> int:
    grant = await db.get(MutualAidGrant, uuid.UUID(fam.grant_id), populate_existing=True)
    assert grant is not None
    return grant.used_fen


async def pay(
    client: httpx.AsyncClient, adapters: Adapters, fam: Family, amount: int, name: str, kind: str = "outpatient"
) -> httpx.Response:
    bill = add_bill(adapters, fam.member, ("C", amount), kind=kind)
    channel(adapters).set_wallet(fam.member.openid, 10_000_000)
    body = {"card_id": fam.member.card_id, "bill_number": bill.bill_no}
    return await client.post(ORDERS, json=body, headers={**fam.principal, **key(name)})


async def test_r_fam_08_r_pay_02_a_relative_pays_from_the_employee_personal_account(
    client: httpx.AsyncClient, db: AsyncSession, adapters: Adapters, settings: Settings, make_patient: MakePatient
) -> None:
    """Grant → the father pays a 300-yuan bill → his own personal account (empty) gives
    nothing, the son's gives 200 (the per-payment limit), the next sources the rest; the son's personal
    account drops by 200 in the ledger and on the platform; the posting is from the son's
    account, source family_mutual_aid, the entry names the beneficiary; the quote shown before
    confirming already has the leg; the grant counts the use."""
    fam = await family(client, db, adapters, settings, make_patient, per_payment_fen=20_000, per_year_fen=25_000)
    account, before, _ = await principal_account(db, fam)
    assert before == 0  # not mirrored yet: the payment brings it to the platform's balance first

    bill = add_bill(adapters, fam.member, ("C", 30_000))
    body = {"card_id": fam.member.card_id, "bill_number": bill.bill_no}
    quoted = await client.post("/api/v1/settlement/quote", json=body, headers=fam.principal)
    assert quoted.status_code == 200, quoted.text
    assert quoted.json()["funding"]["family_mutual_aid_fen"] == 20_000
    split = await client.get(f"/bills/{bill.bill_no}?card_id={fam.member.card_id}", headers=fam.principal)
    assert split.status_code == 200 and "家庭共济" in split.text and "200.00" in split.text  # before confirming

    channel(adapters).set_wallet(fam.member.openid, 10_000_000)
    body = {"card_id": fam.member.card_id, "bill_number": bill.bill_no}
    paid = await client.post(ORDERS, json=body, headers={**fam.principal, **key("aid-1")})
    assert paid.status_code == 200, paid.text
    order = paid.json()
    assert order["state"] == "paid"
    funding = order["funding"]
    assert (funding["personal_account_fen"], funding["family_mutual_aid_fen"]) == (0, 20_000)
    assert funding["credit_line_fen"] + funding["self_pay_fen"] == 10_000  # the rest: the next sources

    _, after, held = await principal_account(db, fam)
    assert (after, held) == (PRINCIPAL_FEN - 20_000, 0)
    assert sandbox(adapters).balance(fam.principal_person_number) == PRINCIPAL_FEN - 20_000
    settled = sandbox(adapters).orders[(await db.get(PaymentOrder, uuid.UUID(order["id"]))).insurance_order_id]  # type: ignore[union-attr,index]
    assert (settled.mutual_aid, settled.mutual_aid_person) == (20_000, fam.principal_person_number)
    answer = sandbox(adapters)._settlement(settled)["output"]["setlinfo"]
    assert answer["acct_mulaid_pay"] == "200.00"

    row = await db.get(PaymentOrder, uuid.UUID(order["id"]), populate_existing=True)
    assert row is not None and row.mutual_aid_grant_id == uuid.UUID(fam.grant_id)
    entry = await db.get(JournalEntry, row.hold_entry_id)
    assert entry is not None and entry.state == "posted"
    assert entry.memo["beneficiary_person_id"] == str(row.person_id)
    postings = (await db.scalars(select(Posting).where(Posting.entry_id == entry.id))).all()
    assert [(p.amount_fen, p.source) for p in postings if p.account_id == account] == [(-20_000, "family_mutual_aid")]
    assert await used(db, fam) == 20_000
    receipt = pdf_text(documents.receipt_pdf(row, await documents.facts_of(db, row)))  # R-PAY-08's receipt
    assert "家庭共济支付" in receipt and "200.00" in receipt

    second = await pay(client, adapters, fam, 30_000, "aid-2")  # 50 left of the 250 a year
    assert second.status_code == 200, second.text
    assert second.json()["funding"]["family_mutual_aid_fen"] == 5_000
    assert await used(db, fam) == 25_000

    page = await client.get("/family/bill?month=2026-11", headers=fam.principal)  # R-FAM-07: by source
    assert page.status_code == 200 and "家庭共济" in page.text and "250.00" in page.text
    await books_balance(db)


async def test_r_fam_08_r_pay_06_a_refund_gives_the_share_back_to_the_employee_and_the_limit(
    client: httpx.AsyncClient,
    db: AsyncSession,
    adapters: Adapters,
    settings: Settings,
    make_patient: MakePatient,
    cashier: dict[str, str],
) -> None:
    """A full refund returns the mutual-aid share to the employee's personal account (ledger and
    platform) and to the grant's use; a payment that expires releases its hold and its use."""
    fam = await family(client, db, adapters, settings, make_patient, sequence=6)
    paid = await pay(client, adapters, fam, 8_000, "aid-r")
    assert paid.status_code == 200, paid.text
    assert paid.json()["funding"]["family_mutual_aid_fen"] == 8_000
    assert await used(db, fam) == 8_000
    order_id = paid.json()["id"]
    refunded = await client.post(f"/api/v1/settlement/orders/{order_id}/refunds", json={"reason": "退药"},
                                 headers={**cashier, **key("rf-1")})  # fmt: skip
    assert refunded.status_code == 200, refunded.text
    assert refunded.json()["amounts"] == {"family_mutual_aid": 8_000}
    _, balance, held = await principal_account(db, fam)
    assert (balance, held) == (PRINCIPAL_FEN, 0)
    assert sandbox(adapters).balance(fam.principal_person_number) == PRINCIPAL_FEN
    assert await used(db, fam) == 0

    # A payment whose channel part cannot be paid stays pending, then expires: all released.
    bill = add_bill(adapters, fam.member, ("C", 400_000))  # beyond the credit line too
    channel(adapters).set_wallet(fam.member.openid, 0)
    body = {"card_id": fam.member.card_id, "bill_number": bill.bill_no}
    pending = await client.post(ORDERS, json=body, headers={**fam.principal, **key("aid-p")})
    assert pending.status_code == 402, pending.text
    assert await used(db, fam) == PRINCIPAL_FEN
    _, balance, held = await principal_account(db, fam)
    assert held == PRINCIPAL_FEN
    assert await jobs.expire_due(db, adapters=adapters, now=clock.now() + timedelta(minutes=16)) == 1
    await db.commit()
    _, balance, held = await principal_account(db, fam)
    assert (balance, held) == (PRINCIPAL_FEN, 0)
    assert sandbox(adapters).balance(fam.principal_person_number) == PRINCIPAL_FEN
    assert await used(db, fam) == 0
    await books_balance(db)


async def test_r_fam_08_r_fam_04_revoking_while_a_payment_is_pending_completes_or_releases_it_whole(
    client: httpx.AsyncClient, db: AsyncSession, adapters: Adapters, settings: Settings, make_patient: MakePatient
) -> None:
    """The son pays his father's prescription drugs; the payment waits for his second
    confirmation (R-FAM-04) holding 30 yuan of mutual aid. He revokes the grant, then confirms:
    the payment completes whole (the share posted from his account). Bound again, a second
    one waits, he revokes, it expires: released whole, the use given back; the next payment
    after the revocation has no mutual aid at all."""
    fam = await family(client, db, adapters, settings, make_patient, sequence=7)
    first = await pay(client, adapters, fam, 3_000, "drug-1", kind="drug")
    assert first.status_code == 200 and first.json()["guardian_confirmation"] == "awaiting", first.text
    assert first.json()["funding"]["family_mutual_aid_fen"] == 3_000
    revoked = await client.delete(f"/api/v1/family/mutual-aid/{fam.grant_id}", headers=fam.principal)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    confirmed = await client.post(f"/api/v1/family/confirmations/{first.json()['id']}", headers=fam.principal)
    assert confirmed.status_code == 200 and confirmed.json()["state"] == "paid", confirmed.text
    _, balance, held = await principal_account(db, fam)
    assert (balance, held) == (PRINCIPAL_FEN - 3_000, 0)
    assert await used(db, fam) == 3_000

    none = await pay(client, adapters, fam, 1_000, "after-revoke")
    assert none.status_code == 200 and none.json()["funding"]["family_mutual_aid_fen"] == 0

    body = {"member_id": str((await db.get(MutualAidGrant, uuid.UUID(fam.grant_id))).member_id)}  # type: ignore[union-attr]
    assert (await client.post("/api/v1/family/mutual-aid", json=body, headers=fam.principal)).status_code == 201
    second = await pay(client, adapters, fam, 2_000, "drug-2", kind="drug")
    assert second.json()["funding"]["family_mutual_aid_fen"] == 2_000
    assert await used(db, fam) == 5_000
    await client.delete(f"/api/v1/family/mutual-aid/{fam.grant_id}", headers=fam.principal)
    assert await jobs.expire_due(db, adapters=adapters, now=clock.now() + timedelta(minutes=16)) == 1
    await db.commit()
    order = await db.get(PaymentOrder, uuid.UUID(second.json()["id"]), populate_existing=True)
    assert order is not None and order.state == "expired"
    entry = await db.get(JournalEntry, order.hold_entry_id, populate_existing=True)
    assert entry is not None and entry.state == "voided"
    _, balance, held = await principal_account(db, fam)
    assert (balance, held) == (PRINCIPAL_FEN - 3_000, 0)
    assert await used(db, fam) == 3_000
    await books_balance(db)


async def test_r_fam_08_r_pay_04_the_platform_refusing_the_mutual_aid_share_releases_everything_at_once(
    client: httpx.AsyncClient,
    db: AsyncSession,
    adapters: Adapters,
    settings: Settings,
    make_patient: MakePatient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The employee spends his personal account elsewhere between the 1101 query that mirrored it
    and this payment's 6202: the platform refuses the mutual-aid share (MULAID_ACCT_INSUFFICIENT).
    A refusal is final, so the payment does not wait 15 minutes: the order expires at once, every
    hold is released (the employee's account in the ledger, the grant's use), the channel is never
    charged, the HIS bill stays unpaid and a new payment is split afresh from the new balance."""
    fam = await family(client, db, adapters, settings, make_patient, sequence=7)
    platform = sandbox(adapters)
    settle = platform.settle

    async def spent_elsewhere(message: dict[str, Any]) -> dict[str, Any]:
        platform.balances[fam.principal_person_number] = 3_000  # 30 yuan left after another hospital
        return await settle(message)

    monkeypatch.setattr(platform, "settle", spent_elsewhere)
    refused = await pay(client, adapters, fam, 8_000, "aid-x")
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "INSURANCE_REFUSED_PAYMENT"
    assert "MULAID_ACCT_INSUFFICIENT" in refused.text  # the platform's code, named in the message

    order = (await db.scalars(select(PaymentOrder).where(PaymentOrder.card_id == uuid.UUID(fam.member.card_id)))).one()
    await db.refresh(order)
    assert (order.state, order.failure_code) == ("expired", "INSURANCE_MULAID_ACCT_INSUFFICIENT")
    assert order.funding["family_mutual_aid_fen"] == 8_000  # what was asked of the platform
    hold = await db.get(JournalEntry, order.hold_entry_id, populate_existing=True)
    assert hold is not None and hold.state == "voided"
    _, balance, held = await principal_account(db, fam)
    assert (balance, held) == (PRINCIPAL_FEN, 0)  # the mirror of before; nothing held, nothing posted
    assert await used(db, fam) == 0
    assert platform.balance(fam.principal_person_number) == 3_000  # nothing settled on the platform
    assert not [o for o in channel(adapters).orders.values() if o.out_trade_no.startswith(f"MC{order.id.hex[:24]}")]
    bills = await adapters.his.bills(hospital_code="H110001", patient_id=fam.member.his_patient_id)
    assert next(b for b in bills if b.bill_no == order.bill_number).status == "unpaid"

    monkeypatch.setattr(platform, "settle", settle)
    body = {"card_id": fam.member.card_id, "bill_number": order.bill_number}
    again = await client.post(ORDERS, json=body, headers={**fam.principal, **key("aid-y")})
    assert again.status_code == 200, again.text
    assert again.json()["funding"]["family_mutual_aid_fen"] == 3_000  # the new balance, mirrored again
    assert platform.balance(fam.principal_person_number) == 0
    await books_balance(db)
