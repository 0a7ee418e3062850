"""Kiosk pages: the same rules as the API, shown in big type with bilingual refusals."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import PhysicalCard
from tests.factories import Demo, bearer, staff_token
from tests.kiosk.conftest import IssuedCard, make_staff


@pytest.fixture
async def county_kiosk(client: httpx.AsyncClient, db: AsyncSession, demo: Demo) -> dict[str, str]:
    await make_staff(db, username="kiosk-county-page", role="kiosk", hospital=demo.county_hospital)
    return bearer(await staff_token(client, "kiosk-county-page"))


async def test_r_card_09_r_card_10_kiosk_page_shows_the_hospital_card_settings(
    client: httpx.AsyncClient, kiosk: dict[str, str]
) -> None:
    response = await client.get("/kiosk", headers=kiosk)
    assert response.status_code == 200
    html = response.text
    assert 'id="scan-code"' in html and "请扫描电子健康卡二维码" in html
    assert re.search(r'id="policy-fee">10\.00 元', html)
    assert "无需预存" in html
    assert re.search(r'id="policy-credit">已开通，信用额度最高 2000\.00 元', html)


async def test_r_card_09_county_kiosk_page_shows_the_deposit_minimum(
    client: httpx.AsyncClient, county_kiosk: dict[str, str]
) -> None:
    html = (await client.get("/kiosk", headers=county_kiosk)).text
    assert re.search(r'id="policy-deposit">激活需预存，至少 10\.00 元', html)
    assert "新卡须持身份证原件在自助机激活" in html and re.search(r'id="policy-fee">5\.00 元', html)


async def test_r_card_08_scan_then_issue_shows_serial_and_fee(
    client: httpx.AsyncClient, db: AsyncSession, kiosk: dict[str, str], issued: IssuedCard
) -> None:
    scan = await client.post("/kiosk/scan", data={"code": issued.code}, headers=kiosk)
    assert scan.status_code == 200
    assert 'id="holder-name">*小明' in scan.text and "王小明" not in scan.text
    assert issued.document_number not in scan.text
    assert 'id="issue-submit"' in scan.text and "制卡" in scan.text
    issued_page = await client.post(
        "/kiosk/physical-cards",
        data={"code": issued.code, "fee_payment": "window"},
        headers=kiosk,
        follow_redirects=True,
    )
    assert [r.status_code for r in issued_page.history] == [303]  # Post/Redirect/Get (issue 9)
    serial = await db.scalar(select(PhysicalCard.serial).where(PhysicalCard.card_id == issued.card_id))
    assert serial and f'id="issued-serial">{serial}' in issued_page.text
    assert "10.00 元 · 请到收费窗口缴纳" in issued_page.text and "制卡成功" in issued_page.text


async def test_r_card_08_replacement_on_the_page_needs_a_reason(
    client: httpx.AsyncClient, kiosk: dict[str, str], issued: IssuedCard
) -> None:
    await client.post("/kiosk/physical-cards", data={"code": issued.code, "fee_payment": "window"}, headers=kiosk)
    scan = await client.post("/kiosk/scan", data={"code": issued.code, "fee_payment": "window"}, headers=kiosk)
    assert 'id="reissue-reason"' in scan.text and "补办实体卡" in scan.text
    refused = await client.post(
        "/kiosk/physical-cards", data={"code": issued.code, "fee_payment": "window"}, headers=kiosk
    )
    assert refused.status_code == 409 and "补办须选择原因" in refused.text
    replaced = await client.post(
        "/kiosk/physical-cards",
        data={"code": issued.code, "reason": "damaged", "fee_payment": "window"},
        headers=kiosk,
        follow_redirects=True,
    )
    assert replaced.status_code == 200 and 'id="replaced-serial"' in replaced.text


async def test_r_card_08_stale_code_is_refused_on_the_page(
    client: httpx.AsyncClient, db: AsyncSession, kiosk: dict[str, str], issued: IssuedCard
) -> None:
    issued.card.qr_version += 1
    await db.commit()
    response = await client.post(
        "/kiosk/physical-cards", data={"code": issued.code, "fee_payment": "window"}, headers=kiosk
    )
    assert response.status_code == 410
    assert "二维码已失效" in response.text and "CARD_QR_STALE" in response.text
    assert 'id="card-panel"' not in response.text


@pytest.mark.parametrize("code", ["", "not-a-code", "MCQR1.e30.AAAA"])
async def test_r_card_08_unreadable_code_is_refused_on_the_page(
    client: httpx.AsyncClient, kiosk: dict[str, str], code: str
) -> None:
    response = await client.post("/kiosk/scan", data={"code": code}, headers=kiosk)
    assert response.status_code == 400
    assert "无效的电子健康卡二维码" in response.text and 'aria-invalid="true"' in response.text


async def test_kiosk_page_refuses_an_oversized_code(client: httpx.AsyncClient, kiosk: dict[str, str]) -> None:
    response = await client.post("/kiosk/scan", data={"code": "x" * 600}, headers=kiosk)
    assert response.status_code == 422 and "MALFORMED_REQUEST" in response.text


async def test_r_id_06_pending_card_page_offers_activation_then_issuance(
    client: httpx.AsyncClient, county_kiosk: dict[str, str], pending: IssuedCard
) -> None:
    scan = await client.post("/kiosk/scan", data={"code": pending.code}, headers=county_kiosk)
    assert 'id="activate-form"' in scan.text and 'id="issue-form"' not in scan.text
    wrong = await client.post(
        "/kiosk/activate", data={"code": pending.code, "document_number": "110105194912310021"}, headers=county_kiosk
    )
    assert wrong.status_code == 403 and "身份证与电子健康卡登记的证件号码不一致" in wrong.text
    assert 'id="activate-form"' in wrong.text
    done = await client.post(
        "/kiosk/activate", data={"code": pending.code, "document_number": pending.document_number}, headers=county_kiosk
    )
    assert done.status_code == 200 and "激活成功" in done.text and 'id="issue-form"' in done.text


async def test_r_card_11_page_refuses_printing_without_a_physical_card_then_accepts(
    client: httpx.AsyncClient, kiosk: dict[str, str], issued: IssuedCard
) -> None:
    refused = await client.post("/kiosk/services/print_records", data={"code": issued.code}, headers=kiosk)
    assert refused.status_code == 409 and "需要实体就诊卡" in refused.text and "制卡" in refused.text
    await client.post("/kiosk/physical-cards", data={"code": issued.code, "fee_payment": "window"}, headers=kiosk)
    accepted = await client.post(
        "/kiosk/services/print_insurance_fee_list", data={"code": issued.code, "fee_payment": "window"}, headers=kiosk
    )
    assert accepted.status_code == 200 and 'id="kiosk-notice"' in accepted.text and "打印医保费用清单" in accepted.text


async def test_r_card_11_unknown_service_page_is_404(
    client: httpx.AsyncClient, kiosk: dict[str, str], issued: IssuedCard
) -> None:
    response = await client.post("/kiosk/services/shred", data={"code": issued.code}, headers=kiosk)
    assert response.status_code == 404 and "自助机没有该项业务" in response.text


async def test_kiosk_page_needs_the_kiosk_role(client: httpx.AsyncClient, demo: Demo) -> None:
    cashier = bearer(await staff_token(client, "cashier1"))
    assert (await client.get("/kiosk", headers=cashier)).status_code == 403


async def test_kiosk_page_sends_visitors_to_the_staff_login(client: httpx.AsyncClient) -> None:
    response = await client.get("/kiosk")
    assert response.status_code == 303 and response.headers["location"] == "/console/login"


async def test_kiosk_page_in_english(client: httpx.AsyncClient, kiosk: dict[str, str], issued: IssuedCard) -> None:
    client.cookies.set("medcard_lang", "en")
    scan = await client.post("/kiosk/scan", data={"code": issued.code}, headers=kiosk)
    assert "Issue physical card" in scan.text and "Physical card fee" in scan.text
