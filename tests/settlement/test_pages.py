"""Settlement pages: the patient sees the split before confirming, pays, reads the receipt
(R-PAY-02, R-PAY-09); the POS charges the bill of the redeemed code and shows a receipt."""

from __future__ import annotations

import re

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from tests.settlement.conftest import MakePayer, add_bill, books_balance


async def test_r_pay_02_patient_sees_the_split_then_pays_and_reads_the_receipt(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, make_payer: MakePayer
) -> None:
    payer = await make_payer(sequence=5)
    bill = add_bill(adapters, payer, ("A", 50_000))
    listing = await client.get("/bills", params={"card_id": payer.card_id}, headers=payer.headers)
    assert listing.status_code == 200
    assert bill.bill_no in listing.text
    review = await client.get(f"/bills/{bill.bill_no}", params={"card_id": payer.card_id}, headers=payer.headers)
    assert review.status_code == 200, review.text
    assert "支付构成" in review.text
    assert "¥210.00" in review.text  # the fund's share, shown before confirming
    key = re.search(r'name="key" value="([^"]+)"', review.text)
    assert key is not None
    form = {"card_id": payer.card_id, "key": key.group(1)}
    paid = await client.post(f"/bills/{bill.bill_no}/pay", data=form, headers=payer.headers)
    assert paid.status_code == 303
    again = await client.post(f"/bills/{bill.bill_no}/pay", data=form, headers=payer.headers)
    assert again.headers["location"] == paid.headers["location"]  # a double submit finds the same order
    receipt = await client.get(paid.headers["location"], headers=payer.headers)
    assert "支付成功" in receipt.text
    assert "医保统筹" in receipt.text
    await books_balance(db)


async def test_r_pay_09_pos_charges_the_redeemed_patients_bill_and_shows_a_receipt(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, make_payer: MakePayer, cashier: dict[str, str]
) -> None:
    payer = await make_payer(bind=False)
    bill = add_bill(adapters, payer, ("C", 4_000))
    code = (await client.post("/api/v1/codes/payment", json={"card_id": payer.card_id},
                              headers=payer.headers)).json()["code"]  # fmt: skip
    scanned = await client.post("/console/pos", data={"code": code, "amount": "100"}, headers=cashier)
    assert scanned.status_code == 200, scanned.text
    assert 'id="charge-form"' in scanned.text
    assert bill.bill_no in scanned.text  # offered because it is within the code's 100 yuan
    verification = re.search(r'name="verification_code" value="([^"]+)"', scanned.text)
    assert verification is not None
    form = {"verification_code": verification.group(1), "bill_number": bill.bill_no, "key": "pos-page-1"}
    charged = await client.post("/console/pos/charge", data=form, headers=cashier, follow_redirects=True)
    assert [r.status_code for r in charged.history] == [303], charged.text  # Post/Redirect/Get (issue 9)
    assert "收款成功" in charged.text
    assert "¥40.00" in charged.text
    assert "MCVA1." not in charged.text
    await books_balance(db)


async def test_r_pay_02_pos_shows_the_split_before_the_cashier_confirms(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, make_payer: MakePayer, cashier: dict[str, str]
) -> None:
    payer = await make_payer(sequence=5)
    bill = add_bill(adapters, payer, ("A", 5_000))
    code = (await client.post("/api/v1/codes/payment", json={"card_id": payer.card_id},
                              headers=payer.headers)).json()["code"]  # fmt: skip
    scanned = await client.post("/console/pos", data={"code": code, "amount": "100"}, headers=cashier)
    verification = re.search(r'name="verification_code" value="([^"]+)"', scanned.text)
    assert verification is not None
    review = await client.post("/console/pos/review", data={"verification_code": verification.group(1),
                               "bill_number": bill.bill_no}, headers=cashier)  # fmt: skip
    assert review.status_code == 200, review.text
    assert 'id="split"' in review.text and 'id="confirm-charge"' in review.text
    assert "医保个人账户" in review.text  # the split names its sources before anything is held
    assert "scheme:310@1" in review.text
    key = re.search(r'name="key" value="([^"]+)"', review.text)
    assert key is not None
    form = {"verification_code": verification.group(1), "bill_number": bill.bill_no, "key": key.group(1)}
    charged = await client.post("/console/pos/charge", data=form, headers=cashier, follow_redirects=True)
    assert "收款成功" in charged.text
    await books_balance(db)
