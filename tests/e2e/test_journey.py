"""Browser: the newcomer's journey of the README, end to end across the slices —
WeChat login → real-name verification by face (R-ID-02) → apply with the ID photo (R-CARD-01)
→ my card with its QR (R-CARD-07) → the kiosk scans that QR and issues a physical card (R-CARD-08).
"""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Browser, Page, expect

from medcard.adapters.identity import sample_document_photo
from tests.e2e.conftest import patient_login, screenshot, staff_login
from tests.e2e.test_card_flows import CHOICES, fill_details, verify_identity
from tests.factories import resident_id

pytestmark = pytest.mark.e2e


def test_r_card_01_journey_from_login_to_physical_card(page: Page, browser: Browser, live_server: str) -> None:
    number = resident_id(birth=date(1985, 9, 9), sequence=41)
    patient_login(page, "刘洋")
    verify_identity(page, name="刘洋", number=number)
    page.click("#apply-card")
    page.click("#hospital-H110001")
    photo = sample_document_photo(
        {"name": "刘洋", "document_number": number, "ethnicity": "汉族", "address": "北京市朝阳区示范街8号"}
    )
    page.set_input_files("#photo", files=[{"name": "id.png", "mimeType": "image/png", "buffer": photo}])
    page.click("#upload-photo")
    expect(page.locator("#f-address")).to_have_value("北京市朝阳区示范街8号")
    fill_details(page)
    for field, value in CHOICES.items():
        page.select_option(f"#f-{field}", value)
    page.click("#submit-card")
    expect(page.locator("#card-qr svg")).to_be_visible()
    page.click(".sandbox-code summary")  # open the sandbox reveal of the QR text
    code = page.locator("#card-qr-text").inner_text().strip()
    assert code.startswith("MCQR1.")
    screenshot(page, "journey-01-card-with-qr-text")

    kiosk_context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1080, "height": 1400})
    kiosk = kiosk_context.new_page()
    try:
        staff_login(kiosk, "kiosk1")
        kiosk.wait_for_url("**/kiosk")
        kiosk.fill("#scan-code", code)
        kiosk.press("#scan-code", "Enter")
        expect(kiosk.locator("main")).to_contain_text("*洋")
        kiosk.click("#issue-submit")
        expect(kiosk.locator("main")).to_contain_text("制卡成功")
        screenshot(kiosk, "journey-02-kiosk-issued")
    finally:
        kiosk_context.close()
