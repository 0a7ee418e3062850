"""Browser: a patient binds the insurance e-voucher (R-INS-01/02), and three refusals show
their code, text and self-help hint (R-INS-03 Chengdu minors, R-INS-01 Shanghai offline check,
R-INS-01 region not supported; R-INS-09)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.pool import NullPool

from medcard.adapters import sandbox_adapters
from medcard.config import Settings
from medcard.db import make_engine, make_sessionmaker, unit_of_work
from medcard.models import Hospital
from tests.card.conftest import issue_card
from tests.e2e.conftest import accept_agreements, screenshot
from tests.factories import resident_id, verified_account
from tests.support import run_async

pytestmark = pytest.mark.e2e


def seed_patient(settings: Settings, *, openid: str, region: str, sequence: int, birth: date, name: str) -> None:
    """A verified patient with an e-card in the live server's database."""

    async def seed() -> None:
        engine = make_engine(settings, poolclass=NullPool)
        async with unit_of_work(make_sessionmaker(engine)) as session:
            hospital = await session.scalar(select(Hospital).where(Hospital.code == "H110001"))
            assert hospital is not None
            number = resident_id(region=region, birth=birth, sequence=sequence)
            account = await verified_account(session, name=name, document_number=number, birth=birth)
            account.openid = openid
            await issue_card(session, sandbox_adapters(settings), account, hospital)
        await engine.dispose()

    run_async(seed())


def login_as(page: Page, openid: str) -> None:
    page.goto("/login")
    page.click("#wechat-login")
    page.fill("#nickname", "医保用户")
    page.fill("#openid", openid)
    page.click("#consent")
    accept_agreements(page)
    page.wait_for_url("**/me")


def bind(page: Page, *, region_code: str, scheme: str = "employee") -> None:
    page.click("#go-insurance")
    page.click("#go-bind")
    page.fill("#card_number", page.text_content("#sandbox-card-number") or "")
    page.select_option("#scheme", scheme)
    page.select_option("#region_code", region_code)
    page.set_input_files("#face_image", {"name": "selfie.jpg", "mimeType": "image/jpeg", "buffer": b"SANDBOX-LIVE"})
    page.click("#bind-submit")
    page.wait_for_load_state()


def test_r_ins_01_patient_binds_the_e_voucher(page: Page, live_settings: Settings) -> None:
    seed_patient(
        live_settings, openid="o-ins-ok-0001", region="110105", sequence=5, birth=date(1985, 4, 12), name="钱多多"
    )
    login_as(page, "o-ins-ok-0001")
    bind(page, region_code="110000")
    expect(page.locator("#bound-notice")).to_contain_text("绑定成功")
    expect(page.locator("#binding-1")).to_have_attribute("data-status", "active")
    expect(page.locator("#binding-1 .policy-version")).to_contain_text("北京市医保政策第 1 版")
    expect(page.locator("#binding-1")).to_contain_text("城镇职工基本医疗保险 · 北京市")  # names, not codes
    screenshot(page, "insurance_bound")


def test_r_ins_03_seventeen_year_old_in_chengdu_is_refused(page: Page, live_settings: Settings) -> None:
    birth = date.today() - timedelta(days=17 * 365 + 60)
    seed_patient(live_settings, openid="o-ins-cd-0001", region="510104", sequence=5, birth=birth, name="孙小川")
    login_as(page, "o-ins-cd-0001")
    bind(page, region_code="510100")
    expect(page.locator(".alert")).to_have_attribute("data-code", "INS_MINOR_NOT_ALLOWED")
    expect(page.locator(".alert")).to_contain_text("年满 18 周岁")
    expect(page.locator(".alert")).to_contain_text("监护人")
    screenshot(page, "insurance_refused_chengdu_minor")


def test_r_ins_01_shanghai_without_the_offline_check_is_refused(page: Page, live_settings: Settings) -> None:
    seed_patient(
        live_settings, openid="o-ins-sh-0001", region="310104", sequence=89, birth=date(1979, 8, 3), name="沈浦江"
    )
    login_as(page, "o-ins-sh-0001")
    bind(page, region_code="310000")
    expect(page.locator(".alert")).to_have_attribute("data-code", "INS_OFFLINE_CHECK_REQUIRED")
    expect(page.locator(".alert")).to_contain_text("线下完成一次身份核验")
    screenshot(page, "insurance_refused_shanghai_offline")


def test_r_ins_01_region_not_supported_is_refused(page: Page, live_settings: Settings) -> None:
    seed_patient(
        live_settings, openid="o-ins-xj-0001", region="650102", sequence=5, birth=date(1990, 6, 6), name="马天山"
    )
    login_as(page, "o-ins-xj-0001")
    bind(page, region_code="650100")
    expect(page.locator(".alert")).to_have_attribute("data-code", "INS_REGION_NOT_SUPPORTED")
    expect(page.locator(".alert")).to_contain_text("暂未开通")
    expect(page.locator(".alert")).to_contain_text("医保窗口")
    screenshot(page, "insurance_refused_region")
