"""Browser: the kiosk scans an e-card QR and issues the physical card (R-CARD-08); a stale code is
refused (R-CARD-07/08); a card pending activation is activated with the ID card first (R-ID-06);
an administrator edits the hospital's card settings (R-CARD-10)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.pool import NullPool

from medcard.adapters import sandbox_adapters
from medcard.card import service as card_service
from medcard.config import Settings
from medcard.db import make_engine, make_sessionmaker, unit_of_work
from medcard.models import Hospital
from tests.card.conftest import issue_card
from tests.e2e.conftest import screenshot, staff_login
from tests.factories import verified_account
from tests.support import run_async

pytestmark = pytest.mark.e2e
KIOSK_SCREEN = {"width": 1080, "height": 1400}


@dataclass(frozen=True)
class Seeded:
    code: str
    document_number: str


def seed_card(settings: Settings, *, hospital_code: str, name: str, stale: bool = False) -> Seeded:
    """An e-card issued through the card service in the live server's database (the patient's
    phone is not part of these tests); ``stale`` changes the address afterwards, retiring the code."""

    async def seed() -> Seeded:
        engine = make_engine(settings, poolclass=NullPool)
        async with unit_of_work(make_sessionmaker(engine)) as session:
            hospital = await session.scalar(select(Hospital).where(Hospital.code == hospital_code))
            assert hospital is not None
            account = await verified_account(session, name=name)
            card = await issue_card(session, sandbox_adapters(settings), account, hospital)
            seeded = Seeded(card_service.display_code(card, settings=settings).text, card.document_number)
            if stale:
                await card_service.update_personal_info(
                    session, account=account, card=card, changes={"address": "北京市西城区新街口5号"}
                )
        await engine.dispose()
        return seeded

    return run_async(seed())


def scan(page: Page, code: str) -> None:
    """Kiosk scanners type the QR text and press Enter."""
    page.fill("#scan-code", code)
    page.press("#scan-code", "Enter")
    page.wait_for_load_state()


def test_r_card_08_kiosk_scans_and_issues_a_physical_card(page: Page, live_settings: Settings) -> None:
    seeded = seed_card(live_settings, hospital_code="H110001", name="陈美丽")
    page.set_viewport_size(KIOSK_SCREEN)
    staff_login(page, "kiosk1")
    expect(page).to_have_url(re.compile(r"/kiosk$"))
    expect(page.locator("#policy-fee")).to_contain_text("10.00 元")
    screenshot(page, "kiosk-01-home")
    scan(page, seeded.code)
    expect(page.locator("#holder-name")).to_have_text("*美丽")
    expect(page.locator("#card-status")).to_have_text("正常")
    expect(page.locator("#physical-card")).to_have_text("尚未办理")
    screenshot(page, "kiosk-02-scanned")
    page.check("#fee-window")  # R-CARD-08: the fee is settled (here deferred) before the card leaves
    page.click("#issue-submit")
    expect(page.locator("#issued-serial")).to_have_text(re.compile(r"^PC\d{15}$"))
    expect(page.locator("#issued-fee")).to_contain_text("10.00 元 · 请到收费窗口缴纳")
    screenshot(page, "kiosk-03-issued")
    page.click("#next-patient")
    scan(page, seeded.code)
    expect(page.locator("#physical-card")).to_have_text(re.compile(r"^PC\d{15}$"))
    expect(page.locator("#reissue-reason")).to_be_visible()


def test_r_card_08_stale_code_is_refused_at_the_kiosk(page: Page, live_settings: Settings) -> None:
    seeded = seed_card(live_settings, hospital_code="H110001", name="周杰", stale=True)
    page.set_viewport_size(KIOSK_SCREEN)
    staff_login(page, "kiosk1")
    scan(page, seeded.code)
    alert = page.locator(".alert")
    expect(alert).to_contain_text("二维码已失效")
    expect(alert).to_contain_text("刷新电子健康卡页面")
    expect(page.locator("#card-panel")).to_have_count(0)
    screenshot(page, "kiosk-04-stale-code")


def test_r_id_06_kiosk_activates_with_the_id_card_then_issues(page: Page, live_settings: Settings) -> None:
    seeded = seed_card(live_settings, hospital_code="H110002", name="吴芳")
    page.set_viewport_size(KIOSK_SCREEN)
    staff_login(page, "admin1")
    page.goto("/kiosk")
    scan(page, seeded.code)
    expect(page.locator("#card-status")).to_have_text("待激活")
    expect(page.locator("#policy-deposit")).to_contain_text("至少 10.00 元")
    page.fill("#document-number", "110105194912310021")
    page.click("#activate-submit")
    expect(page.locator(".alert")).to_contain_text("身份证与电子健康卡登记的证件号码不一致")
    screenshot(page, "kiosk-05-activation-refused")
    page.fill("#document-number", seeded.document_number)
    page.click("#activate-submit")
    expect(page.locator("#kiosk-notice")).to_contain_text("激活成功")
    expect(page.locator("#card-status")).to_have_text("正常")
    screenshot(page, "kiosk-06-activated")
    page.click("#service-print_records")
    expect(page.locator(".alert")).to_contain_text("需要实体就诊卡")
    page.check("#fee-window")  # R-CARD-08: the fee is settled (here deferred) before the card leaves
    page.click("#issue-submit")
    expect(page.locator("#issued-fee")).to_contain_text("5.00 元")


def test_r_card_10_admin_edits_the_credit_setting(page: Page) -> None:
    page.set_viewport_size({"width": 1280, "height": 800})
    staff_login(page, "admin1")
    page.click("#menu-hospitals")
    screenshot(page, "kiosk-07-hospitals")
    page.click("#edit-H110002")
    page.check("#credit_enabled")
    page.fill("#credit_limit", "3000")
    page.click("#save-hospital")
    expect(page.locator(".alert")).to_contain_text("先诊疗后付费额度须在 0–2000 元之间")
    expect(page.locator("#credit_limit")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "kiosk-08-hospital-refused")
    page.fill("#credit_limit", "500")
    page.click("#save-hospital")
    expect(page.locator("#saved-notice")).to_be_visible()
    expect(page.locator("#credit_limit")).to_have_value("500.00")
