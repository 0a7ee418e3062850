"""The patient's open payment page learns what became of its code (R-SEC-02: a used code is
retired at once, the result is shown), and a wrong payment password at the POS does not burn
the payment: the cashier retries the password within the code's authorisation (R-SEC-03: every
wrong try still counts toward the lock; after the lock the code is refused)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.codes.rules import AUTHORISATION_TTL
from medcard.kit.clock import clock
from medcard.models import AuditEvent, PaymentCode
from tests.codes.conftest import Holder, make_holder, redeem
from tests.factories import Demo

CODES = "/api/v1/codes/payment"
RETRY = "/api/v1/codes/redeem/pin"
PIN = "135790"


async def _issue(client: httpx.AsyncClient, holder: Holder) -> dict[str, str]:
    response = await client.post(CODES, json={"card_id": str(holder.card_id)}, headers=holder.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _status(client: httpx.AsyncClient, holder: Holder, code_id: str) -> dict[str, object]:
    response = await client.get(f"{CODES}/{code_id}", headers=holder.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def _set_pin(client: httpx.AsyncClient, holder: Holder) -> None:
    assert (await client.put("/api/v1/security/pin", json={"pin": PIN}, headers=holder.headers)).status_code == 200


async def test_r_sec_02_status_says_paid_with_amount_where_and_when(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str]
) -> None:
    issued = await _issue(client, holder)
    assert (await _status(client, holder, issued["id"]))["state"] == "live"
    assert (await redeem(client, cashier, issued["code"], amount_fen=1_250)).status_code == 200
    status = await _status(client, holder, issued["id"])
    assert status["state"] == "paid" and status["amount_fen"] == 1_250
    assert str(status["merchant_zh"]).startswith("京华大学第一医院") and status["used_at"] is not None


async def test_r_sec_02_status_of_an_expired_code_and_another_accounts_code(
    client: httpx.AsyncClient, holder: Holder, db: AsyncSession, adapters: object, demo: Demo
) -> None:
    issued = await _issue(client, holder)
    clock.freeze(clock.now() + timedelta(seconds=60))
    assert (await _status(client, holder, issued["id"]))["state"] == "expired"
    other = await make_holder(db, client, adapters, demo, name="钱别人")  # type: ignore[arg-type]
    response = await client.get(f"{CODES}/{issued['id']}", headers=other.headers)
    assert response.status_code == 404


async def test_r_sec_02_page_poll_answers_nothing_until_the_code_is_used_then_the_result(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str]
) -> None:
    """The open page polls every 2 s: 204 while the code is live, then the 支付成功 fragment."""
    issued = await _issue(client, holder)
    poll = f"/codes/{issued['id']}/status?shown=live"
    assert (await client.get(poll, headers=holder.headers)).status_code == 204
    await redeem(client, cashier, issued["code"], amount_fen=1_250)
    result = await client.get(poll, headers=holder.headers)
    assert result.status_code == 200
    assert 'data-state="paid"' in result.text and "支付成功" in result.text and "¥12.50" in result.text
    assert "京华大学第一医院" in result.text and "code-digits" not in result.text


async def test_r_sec_03_wrong_pin_at_the_pos_can_be_retried_without_a_new_scan(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str], db: AsyncSession
) -> None:
    await _set_pin(client, holder)
    issued = await _issue(client, holder)
    wrong = await redeem(client, cashier, issued["code"], amount_fen=30_000, pin="246802")
    assert (wrong.status_code, wrong.json()["code"]) == (403, "PIN_WRONG")
    token = wrong.json()["retry_token"]
    assert token.startswith("MCPR1.") and "无需重新扫码" in wrong.json()["hint_zh"]
    assert (await _status(client, holder, issued["id"]))["state"] == "pending"
    rescanned = await redeem(client, cashier, issued["code"], amount_fen=30_000, pin=PIN)
    assert rescanned.json()["code"] == "PAYMENT_CODE_USED"  # single use: the code itself is not scanned twice

    again = await client.post(RETRY, json={"retry_token": token, "pin": "246802"}, headers=cashier)
    assert again.json()["code"] == "PIN_WRONG" and "还可尝试 3 次" in again.json()["title_zh"]
    paid = await client.post(RETRY, json={"retry_token": token, "pin": PIN}, headers=cashier)
    assert paid.status_code == 200, paid.text
    assert paid.json()["amount_fen"] == 30_000 and paid.json()["verification_code"].startswith("MCVA1.")
    assert (await _status(client, holder, issued["id"]))["state"] == "paid"
    twice = await client.post(RETRY, json={"retry_token": token, "pin": PIN}, headers=cashier)
    assert twice.json()["code"] == "PAYMENT_CODE_USED"  # one payment per code
    row = await db.scalar(select(PaymentCode).where(PaymentCode.code_hash.is_not(None)).limit(1))
    assert row is not None and row.amount_fen == 30_000


async def test_r_sec_03_retries_count_toward_the_lock_and_the_locked_code_is_refused(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str], db: AsyncSession
) -> None:
    await _set_pin(client, holder)
    issued = await _issue(client, holder)
    token = (await redeem(client, cashier, issued["code"], amount_fen=30_000, pin="246802")).json()["retry_token"]
    for left in (3, 2, 1):
        wrong = await client.post(RETRY, json={"retry_token": token, "pin": "246802"}, headers=cashier)
        assert f"还可尝试 {left} 次" in wrong.json()["title_zh"]
    locked = await client.post(RETRY, json={"retry_token": token, "pin": "246802"}, headers=cashier)
    assert (locked.status_code, locked.json()["code"]) == (423, "PIN_LOCKED")
    assert "retry_token" not in locked.json()
    right_but_locked = await client.post(RETRY, json={"retry_token": token, "pin": PIN}, headers=cashier)
    assert right_but_locked.json()["code"] == "PIN_LOCKED"
    wrongs = await db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "security.pin_wrong")
    )
    assert wrongs == 5  # the scan's wrong PIN and four retries, each counted once


async def test_r_sec_03_retry_window_merchant_and_forgery(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str], pharmacy: dict[str, str]
) -> None:
    await _set_pin(client, holder)
    issued = await _issue(client, holder)
    token = (await redeem(client, cashier, issued["code"], amount_fen=30_000, pin="246802")).json()["retry_token"]
    prefix, body, mac = token.split(".")
    forged = f"{prefix}.{body}.{'A' * len(mac)}"
    bad = await client.post(RETRY, json={"retry_token": forged, "pin": PIN}, headers=cashier)
    assert bad.json()["code"] == "VERIFICATION_CODE_INVALID"
    clock.freeze(clock.now() + AUTHORISATION_TTL)
    late = await client.post(RETRY, json={"retry_token": token, "pin": PIN}, headers=cashier)
    assert (late.status_code, late.json()["code"]) == (410, "PIN_RETRY_EXPIRED")
    assert (await _status(client, holder, issued["id"]))["state"] == "unpaid"
