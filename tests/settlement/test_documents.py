"""R-PAY-08 outputs: the electronic receipt (医疗电子票据) and the insurance settlement list
(医保结算清单) of a paid order as PDF with Chinese text; the payer's own orders only."""

from __future__ import annotations

import io
import uuid

import httpx
import pytest
from pypdf import PdfReader
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.kit.clock import CHINA
from medcard.models import PaymentOrder
from medcard.settlement import documents
from tests.factories import Demo
from tests.settlement.conftest import MakePayer, Payer, add_bill, key

pytestmark = pytest.mark.skipif(
    documents.font_path() is None, reason="no Chinese font (apt-get install fonts-wqy-zenhei)"
)
ORDERS = "/api/v1/settlement/orders"


def text_of(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


async def _paid(client: httpx.AsyncClient, adapters: Adapters, payer: Payer) -> dict[str, object]:
    bill = add_bill(adapters, payer, ("A", 50_000), ("C", 1_234))
    body = {"card_id": payer.card_id, "bill_number": bill.bill_no}
    answer = await client.post(ORDERS, json=body, headers={**payer.headers, **key("doc-1")})
    assert answer.status_code == 200, answer.text
    order: dict[str, object] = answer.json()
    assert order["state"] == "paid"
    return order


async def test_r_pay_08_receipt_pdf_shows_amounts_by_source_payer_hospital_time_and_policy(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, make_payer: MakePayer, demo: Demo
) -> None:
    demo.hospital.credit_enabled = False
    await db.flush()
    payer = await make_payer(sequence=5, name="钱结算")
    order = await _paid(client, adapters, payer)
    page = await client.get(f"/payments/{order['id']}", headers=payer.headers)
    assert f'href="/payments/{order["id"]}/receipt.pdf"' in page.text  # the link on the payment page
    answer = await client.get(f"/payments/{order['id']}/receipt.pdf", headers=payer.headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-")
    text = text_of(answer.content)
    funding = order["funding"]
    assert isinstance(funding, dict)
    row = await db.get(PaymentOrder, uuid.UUID(str(order["id"])))
    assert row is not None and row.paid_at is not None
    assert "医疗电子票据" in text
    assert demo.hospital.name_zh in text
    assert "*结算" in text and "钱结算" not in text  # the payer, masked
    assert row.paid_at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M:%S") in text
    assert str(order["policy_version"]) in text
    assert "医保统筹基金支付" in text and "210.00" in text  # (500 − 200) × 70 %
    for field in ("personal_account_fen", "self_pay_fen"):
        if funding[field]:
            assert f"{funding[field] // 100}.{funding[field] % 100:02d}" in text
    assert "512.34" in text  # the total
    assert "丙类" in text  # the class C item


async def test_r_pay_08_settlement_list_pdf_names_the_insurance_order_and_the_split(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, make_payer: MakePayer, demo: Demo
) -> None:
    payer = await make_payer(sequence=5, name="钱结算")
    order = await _paid(client, adapters, payer)
    answer = await client.get(f"/payments/{order['id']}/settlement-list.pdf", headers=payer.headers)
    assert answer.status_code == 200
    text = text_of(answer.content)
    row = await db.get(PaymentOrder, uuid.UUID(str(order["id"])))
    assert row is not None and row.insurance_order_id
    assert "医保结算清单" in text
    assert row.insurance_order_id in text
    assert "统筹基金支付" in text and "210.00" in text
    assert "200.00" in text  # the deductible
    assert "12.34" in text  # class C self-pay
    assert str(order["policy_version"]) in text
    assert "*结算" in text and "钱结算" not in text


async def test_r_pay_08_documents_are_the_payers_own_and_only_when_paid(
    client: httpx.AsyncClient, adapters: Adapters, make_payer: MakePayer, cashier: dict[str, str]
) -> None:
    payer = await make_payer(sequence=5)
    other = await make_payer(sequence=6, name="孙其他")
    order = await _paid(client, adapters, payer)
    for path in ("receipt.pdf", "settlement-list.pdf"):
        assert (await client.get(f"/payments/{order['id']}/{path}", headers=other.headers)).status_code == 404
        staff = await client.get(f"/console/orders/{order['id']}/{path}", headers=cashier)
        assert staff.status_code == 200  # the hospital's POS prints it
        assert staff.content.startswith(b"%PDF-")
    assert (await client.get(f"/payments/{order['id']}/receipt.pdf")).status_code in (303, 401, 404)
