"""The dynamic payment code and the POS verification code over the API (R-SEC-01, R-SEC-02, R-SEC-06)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.card import service as card_service
from medcard.config import Settings
from medcard.kit.clock import clock
from tests.codes.conftest import Holder, make_holder, new_code, redeem
from tests.factories import Demo, bearer, staff_token

T0 = datetime(2026, 11, 23, 2, 0, 0, tzinfo=UTC)


async def test_r_sec_02_code_is_18_digits_and_pays_once(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str]
) -> None:
    code = await new_code(client, holder)
    assert len(code) == 18 and code.isdigit()
    first = await redeem(client, cashier, code)
    assert first.status_code == 200, first.text
    assert first.json()["card_number"] == holder.card_number and first.json()["amount_fen"] == 5_000
    again = await redeem(client, cashier, code)
    assert again.status_code == 409
    assert again.json()["code"] == "PAYMENT_CODE_USED" and again.json()["field"] == "code"


async def test_r_sec_02_code_accepted_at_59_999_seconds(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str]
) -> None:
    clock.freeze(T0)
    code = await new_code(client, holder)
    clock.advance(timedelta(seconds=59, milliseconds=999))
    response = await redeem(client, cashier, code)
    assert response.status_code == 200, response.text


async def test_r_sec_02_code_refused_at_60_001_seconds(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str]
) -> None:
    clock.freeze(T0)
    code = await new_code(client, holder)
    clock.advance(timedelta(seconds=60, milliseconds=1))
    response = await redeem(client, cashier, code)
    assert response.status_code == 410
    assert response.json()["code"] == "PAYMENT_CODE_EXPIRED" and response.json()["title_zh"]


async def test_r_sec_02_code_single_use_even_when_payment_fails(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str]
) -> None:
    code = await new_code(client, holder)
    over_limit = await redeem(client, cashier, code, amount_fen=600_000, pin="135790")
    assert over_limit.status_code == 403
    assert over_limit.json()["code"] == "PAYMENT_LIMIT_EXCEEDED"
    retry = await redeem(client, cashier, code, amount_fen=1_000)
    assert retry.status_code == 409 and retry.json()["code"] == "PAYMENT_CODE_USED"


async def test_r_sec_02_unknown_or_malformed_code_is_refused(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str]
) -> None:
    code = await new_code(client, holder)
    wrong = code[:-1] + ("0" if code[-1] != "0" else "1")
    for text in (wrong, "12345", "abcdefghijklmnopqr"):
        response = await redeem(client, cashier, text)
        assert response.status_code == 400 and response.json()["code"] == "PAYMENT_CODE_INVALID", text


async def test_r_sec_01_display_code_presented_as_payment_is_refused(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str], settings: Settings
) -> None:
    display = card_service.display_code(holder.card, settings=settings).text
    response = await redeem(client, cashier, display)
    assert response.status_code == 400
    assert response.json()["code"] == "DISPLAY_CODE_NOT_PAYMENT" and "展示码" in response.json()["title_zh"]


async def test_r_sec_01_only_pos_roles_redeem(
    client: httpx.AsyncClient, holder: Holder, pharmacy: dict[str, str], demo: Demo
) -> None:
    code = await new_code(client, holder)
    kiosk = bearer(await staff_token(client, "kiosk1"))
    assert (await redeem(client, kiosk, code)).status_code == 403
    assert (await redeem(client, holder.headers, code)).status_code == 401
    assert (await redeem(client, pharmacy, code)).status_code == 200


async def test_r_sec_01_verification_code_checks_out_unaltered(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str]
) -> None:
    token = (await redeem(client, cashier, await new_code(client, holder), amount_fen=8_000)).json()[
        "verification_code"
    ]
    check = await client.post(
        "/api/v1/codes/verification/check", json={"verification_code": token, "amount_fen": 8_000}, headers=cashier
    )
    assert check.status_code == 200, check.text
    assert check.json()["card_number"] == holder.card_number and check.json()["ceiling_fen"] == 8_000


async def test_r_sec_01_pos_cannot_alter_verification_code(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str]
) -> None:
    from medcard.kit.crypto import b64url, b64url_decode

    token = (await redeem(client, cashier, await new_code(client, holder), amount_fen=8_000)).json()[
        "verification_code"
    ]
    prefix, body, mac = token.split(".")
    raised = b64url(b64url_decode(body).replace(b'"x":8000', b'"x":900000'))
    for forged in (f"{prefix}.{raised}.{mac}", f"{prefix}.{body}.{mac[::-1]}", "MCVA1.e30.AAAA"):
        response = await client.post(
            "/api/v1/codes/verification/check", json={"verification_code": forged, "amount_fen": 8_000}, headers=cashier
        )
        assert response.status_code == 400 and response.json()["code"] == "VERIFICATION_CODE_INVALID", forged
    over = await client.post(
        "/api/v1/codes/verification/check", json={"verification_code": token, "amount_fen": 8_001}, headers=cashier
    )
    assert over.status_code == 403 and over.json()["code"] == "VERIFICATION_CODE_AMOUNT_EXCEEDED"


async def test_r_sec_01_verification_code_bound_to_merchant_and_short_lived(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str], db: AsyncSession, demo: Demo
) -> None:
    from tests.kiosk.conftest import make_staff

    clock.freeze(T0)
    token = (await redeem(client, cashier, await new_code(client, holder))).json()["verification_code"]
    await make_staff(db, username="county-cashier", role="cashier", hospital=demo.county_hospital)
    other = bearer(await staff_token(client, "county-cashier"))
    body = {"verification_code": token, "amount_fen": 5_000}
    elsewhere = await client.post("/api/v1/codes/verification/check", json=body, headers=other)
    assert elsewhere.status_code == 403 and elsewhere.json()["code"] == "VERIFICATION_CODE_OTHER_MERCHANT"
    clock.advance(timedelta(minutes=2, seconds=1))
    late = await client.post("/api/v1/codes/verification/check", json=body, headers=cashier)
    assert late.status_code == 410 and late.json()["code"] == "VERIFICATION_CODE_EXPIRED"


async def test_r_sec_02_another_patients_card_is_404(
    client: httpx.AsyncClient,
    holder: Holder,
    db: AsyncSession,
    adapters,
    demo: Demo,  # type: ignore[no-untyped-def]
) -> None:
    other = await make_holder(db, client, adapters, demo, name="钱他人")
    response = await client.post("/api/v1/codes/payment", json={"card_id": str(holder.card_id)}, headers=other.headers)
    assert response.status_code == 404


async def test_r_sec_06_code_issue_is_limited_to_10_a_minute_per_card(
    client: httpx.AsyncClient, holder: Holder
) -> None:
    clock.freeze(T0)
    for _ in range(10):
        await new_code(client, holder)
    eleventh = await client.post("/api/v1/codes/payment", json={"card_id": str(holder.card_id)}, headers=holder.headers)
    assert eleventh.status_code == 429 and eleventh.json()["code"] == "RATE_LIMITED"
    clock.advance(timedelta(seconds=61))
    await new_code(client, holder)


async def test_r_sec_06_daily_limit_counts_todays_payments(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str]
) -> None:
    set_limit = await client.put(
        "/api/v1/security/settings",
        json={"daily_limit_fen": 15_000, "per_transaction_limit_fen": 10_000},
        headers=holder.headers,
    )
    assert set_limit.status_code == 200, set_limit.text
    assert (await redeem(client, cashier, await new_code(client, holder), amount_fen=10_000)).status_code == 200
    over_txn = await redeem(client, cashier, await new_code(client, holder), amount_fen=10_001)
    assert over_txn.status_code == 403 and "单笔限额" in over_txn.json()["title_zh"]
    over_day = await redeem(client, cashier, await new_code(client, holder), amount_fen=6_000)
    assert over_day.status_code == 403 and "单日限额" in over_day.json()["title_zh"]
    assert (await redeem(client, cashier, await new_code(client, holder), amount_fen=5_000)).status_code == 200


async def test_r_sec_06_velocity_rule_pauses_the_sixth_payment_in_a_minute(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str]
) -> None:
    clock.freeze(T0)
    for _ in range(5):
        assert (await redeem(client, cashier, await new_code(client, holder), amount_fen=100)).status_code == 200
    sixth = await redeem(client, cashier, await new_code(client, holder), amount_fen=100)
    assert sixth.status_code == 429 and sixth.json()["code"] == "PAYMENT_VELOCITY_EXCEEDED"
    clock.advance(timedelta(seconds=61))
    assert (await redeem(client, cashier, await new_code(client, holder), amount_fen=100)).status_code == 200


async def test_r_sec_03_large_payment_needs_the_pin(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str]
) -> None:
    assert (await client.put("/api/v1/security/pin", json={"pin": "135790"}, headers=holder.headers)).status_code == 200
    code = await new_code(client, holder)
    missing = await redeem(client, cashier, code, amount_fen=30_000)
    assert missing.status_code == 403 and missing.json()["code"] == "PIN_REQUIRED"
    wrong = await redeem(client, cashier, code, amount_fen=30_000, pin="246802")
    assert wrong.status_code == 403 and wrong.json()["code"] == "PIN_WRONG"
    ok = await redeem(client, cashier, await new_code(client, holder), amount_fen=30_000, pin="135790")
    assert ok.status_code == 200, ok.text
