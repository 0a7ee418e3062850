"""R-FAM-04: a prescription-drug payment for a relative waits for the guardian's second
confirmation; nothing moves before it, and after 15 minutes the order expires and every hold is
released. Journeys through the API (family, cards, settlement)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.his import BillItem, HisBill
from medcard.config import Settings
from medcard.kit.clock import clock
from medcard.models import Card
from medcard.settlement import jobs
from tests.factories import Demo
from tests.family.helpers import add, card_for, person
from tests.settlement.conftest import books_balance, channel, his

ORDERS = "/api/v1/settlement/orders"


@pytest.fixture(autouse=True)
async def _self_pay(db: AsyncSession, demo: Demo) -> None:
    """No credit line: the uninsured child's bill is self-pay through the channel, so a charge shows."""
    demo.hospital.credit_enabled = False
    await db.flush()


async def _ward_card(client: httpx.AsyncClient, holder: dict[str, str], settings: Settings, db: AsyncSession) -> Card:
    number = person(settings, "张小明", date(2016, 5, 1), region="110101")
    member = await add(client, holder, name="张小明", number=number, relation="child",
                       proof_kind="birth_certificate", birth_certificate_number="P110123456")  # fmt: skip
    assert member.status_code == 201, member.text
    card_id = await card_for(client, holder, member.json()["patient"]["id"])
    card = await db.get(Card, uuid.UUID(card_id))
    assert card is not None
    return card


def _bill(adapters: Adapters, card: Card, kind: str) -> HisBill:
    items = [BillItem("XJ01CAA040", "阿莫西林胶囊 0.25g×24", "C", 0, 12_500, 1)]
    return his(adapters).add_bill(hospital_code="H110001", patient_id=card.his_patient_id, kind=kind, items=items)  # type: ignore[arg-type]


async def _pay(client: httpx.AsyncClient, holder: dict[str, str], card: Card, bill: HisBill) -> httpx.Response:
    body = {"card_id": str(card.id), "bill_number": bill.bill_no}
    return await client.post(ORDERS, json=body, headers={**holder, "Idempotency-Key": bill.bill_no})


async def test_r_fam_04_a_relatives_drug_payment_waits_for_the_second_confirmation(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings, adapters: Adapters, db: AsyncSession
) -> None:
    card = await _ward_card(client, holder, settings, db)
    bill = _bill(adapters, card, "drug")
    split = await client.get(f"/bills/{bill.bill_no}?card_id={card.id}", headers=holder)
    assert split.status_code == 200 and 'id="needs-confirmation"' in split.text  # said before confirming
    exam = await client.get(f"/bills/{_bill(adapters, card, 'exam').bill_no}?card_id={card.id}", headers=holder)
    assert exam.status_code == 200 and 'id="needs-confirmation"' not in exam.text  # drugs only
    charges = channel(adapters).charges
    opened = await _pay(client, holder, card, bill)
    assert opened.status_code == 200, opened.text
    order = opened.json()
    assert (order["state"], order["guardian_confirmation"]) == ("pending", "awaiting")
    assert channel(adapters).charges == charges  # nothing charged before the confirmation
    again = await _pay(client, holder, card, bill)  # a retry with the same key does not skip it
    assert again.json()["guardian_confirmation"] == "awaiting" and channel(adapters).charges == charges
    inbox = (await client.get("/api/v1/family/confirmations", headers=holder)).json()
    assert [o["id"] for o in inbox] == [order["id"]]
    confirmed = await client.post(f"/api/v1/family/confirmations/{order['id']}", headers=holder)
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["state"], confirmed.json()["guardian_confirmation"]) == ("paid", "confirmed")
    assert channel(adapters).charges == charges + 1
    assert (await client.get("/api/v1/family/confirmations", headers=holder)).json() == []
    twice = await client.post(f"/api/v1/family/confirmations/{order['id']}", headers=holder)
    assert (twice.status_code, twice.json()["code"]) == (409, "FAMILY_CONFIRMATION_NOT_AWAITED")
    await books_balance(db)


async def test_r_fam_04_unconfirmed_the_order_times_out_and_releases_its_holds(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings, adapters: Adapters, db: AsyncSession
) -> None:
    card = await _ward_card(client, holder, settings, db)
    order = (await _pay(client, holder, card, _bill(adapters, card, "drug"))).json()
    later = clock.now() + timedelta(minutes=16)
    assert await jobs.expire_due(db, adapters=adapters, now=later) == 1
    clock.freeze(later)
    shown = (await client.get(f"{ORDERS}/{order['id']}", headers=holder)).json()
    assert shown["state"] == "expired"
    late = await client.post(f"/api/v1/family/confirmations/{order['id']}", headers=holder)
    assert late.json()["state"] == "expired"  # confirming too late pays nothing
    await books_balance(db)


async def test_r_fam_04_other_bills_for_a_relative_and_own_drug_bills_pay_at_once(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings, adapters: Adapters, db: AsyncSession
) -> None:
    card = await _ward_card(client, holder, settings, db)
    exam = (await _pay(client, holder, card, _bill(adapters, card, "exam"))).json()
    assert (exam["state"], exam["guardian_confirmation"]) == ("paid", None)
    stranger = await client.post(f"/api/v1/family/confirmations/{uuid.uuid4()}", headers=holder)
    assert stranger.status_code == 404


async def test_r_fam_04_the_family_page_is_the_confirmation_inbox(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings, adapters: Adapters, db: AsyncSession
) -> None:
    card = await _ward_card(client, holder, settings, db)
    order = (await _pay(client, holder, card, _bill(adapters, card, "drug"))).json()
    inbox = await client.get("/family", headers=holder)
    assert 'id="confirmation-1"' in inbox.text and "阿莫西林" in inbox.text and "125.00" in inbox.text
    done = await client.post(f"/family/confirmations/{order['id']}", headers=holder)
    assert (done.status_code, done.headers["location"]) == (303, "/family?done=confirmed")
    assert (await client.get(f"{ORDERS}/{order['id']}", headers=holder)).json()["state"] == "paid"
    assert 'id="confirmation-1"' not in (await client.get("/family", headers=holder)).text
