"""Browser: the payment code page refreshes its code, a POS accepts it once and refuses it when it
is shown again (R-SEC-02); the display code is refused at the POS (R-SEC-01)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select
from sqlalchemy.pool import NullPool

from medcard.adapters import sandbox_adapters
from medcard.card import service as card_service
from medcard.config import Settings
from medcard.db import make_engine, make_sessionmaker, unit_of_work
from medcard.kit.clock import clock
from medcard.models import Account, Hospital, Person
from tests.card.conftest import issue_card
from tests.e2e.conftest import patient_login, screenshot, staff_login
from tests.factories import resident_id
from tests.support import run_async

pytestmark = pytest.mark.e2e


def give_card(settings: Settings, nickname: str) -> str:
    """Verify the account just logged in as ``nickname`` and issue it a card; returns its display code."""

    async def seed() -> str:
        engine = make_engine(settings, poolclass=NullPool)
        async with unit_of_work(make_sessionmaker(engine)) as session:
            account = await session.scalar(
                select(Account).where(Account.nickname == nickname).order_by(Account.created_at.desc()).limit(1)
            )
            hospital = await session.scalar(select(Hospital).where(Hospital.code == "H110001"))
            assert account is not None and hospital is not None
            number = resident_id(birth=date(1962, 5, 17))
            person = Person(
                document_type="resident_id",
                document_number=number,
                name="周付款",
                gender="M",
                birth_date=date(1962, 5, 17),
                phone="13900001234",
                verified_at=clock.now(),
                verification_method="face",
            )
            session.add(person)
            account.person = person
            await session.flush()
            card = await issue_card(session, sandbox_adapters(settings), account, hospital)
            text = card_service.display_code(card, settings=settings).text
        await engine.dispose()
        return text

    return run_async(seed())


def current_code(page: Page) -> str:
    digits = page.locator("#code-digits")
    expect(digits).to_have_attribute("data-code", re.compile(r"^\d{18}$"))
    return str(digits.get_attribute("data-code"))


def pos_scan(page: Page, code: str, amount: str = "12.50") -> None:
    page.fill("#pos-code", code)
    page.fill("#pos-amount", amount)
    page.click("#pos-submit")
    page.wait_for_load_state()


def test_r_sec_02_code_refreshes_and_a_used_code_is_refused_at_the_pos(page: Page, live_settings: Settings) -> None:
    patient_login(page, "付款码用户")
    display = give_card(live_settings, "付款码用户")
    page.goto("/codes")
    first = current_code(page)
    expect(page.locator("#countdown")).to_have_text(re.compile(r"^(60|59|58|57)$"))
    expect(page.locator("#code-qr svg")).to_be_visible()
    expect(page.locator("#code-barcode svg")).to_be_visible()
    screenshot(page, "codes-01-payment-code")
    page.click("#refresh-code")
    expect(page.locator("#code-digits")).not_to_have_attribute("data-code", first)
    second = current_code(page)

    staff_login(page, "cashier1")
    page.goto("/console/pos")
    pos_scan(page, second)
    expect(page.locator("#pos-result")).to_contain_text("付款码核验通过")
    # The POS keeps the verification code in the charge form instead of showing it (R-PAY-08 receipt).
    expect(page.locator("#charge-form input[name=verification_code]")).to_have_value(re.compile(r"^MCVA1\."))
    screenshot(page, "codes-02-pos-accepted")
    pos_scan(page, second)
    expect(page.locator(".alert")).to_have_attribute("data-code", "PAYMENT_CODE_USED")
    expect(page.locator(".alert")).to_contain_text("付款码已使用")
    screenshot(page, "codes-03-pos-used-again")
    pos_scan(page, display)
    expect(page.locator(".alert")).to_have_attribute("data-code", "DISPLAY_CODE_NOT_PAYMENT")
