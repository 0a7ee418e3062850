"""Browser: a patient applies for special-disease treatment (门诊慢特病) with a PDF and a photo,
the reviewer of the card's hospital sees applicant and hospital, opens the materials and approves;
the patient's page shows the approval (R-INS-07, issue 9)."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import patient_login, screenshot, staff_login
from tests.e2e.test_accessibility import patient_with_card_after_login
from tests.e2e.test_dead_ends import confirm_phone
from tests.e2e.test_insurance_binding import bind

pytestmark = pytest.mark.e2e

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24


def test_r_ins_07_patient_uploads_reviewer_opens_and_approves(page: Page, browser: Browser, live_server: str) -> None:
    patient_login(page, "慢特病")
    patient_with_card_after_login(page, "慢特病", 24)
    page.goto("/me/phone")
    confirm_phone(page, "13512345566")
    page.goto("/me")
    bind(page, region_code="110000")
    expect(page.locator("#binding-1")).to_have_attribute("data-status", "active")
    page.goto("/insurance/special-diseases")
    page.select_option("#disease_code", "MT004")
    page.set_input_files("#materials", {"name": "scan.gif", "mimeType": "image/gif", "buffer": b"GIF89a...."})
    page.click("#disease-submit")
    expect(page.locator("#page-error")).to_contain_text("仅支持 PDF、JPEG、PNG")
    page.set_input_files(
        "#materials",
        [
            {"name": "慢特病诊断证明.pdf", "mimeType": "application/pdf", "buffer": PDF},
            {"name": "门诊病历.png", "mimeType": "image/png", "buffer": PNG},
        ],
    )
    page.click("#disease-submit")
    expect(page.locator("#application-1")).to_have_attribute("data-status", "submitted")
    page.goto("/me")
    card_number = (page.text_content("#card-face-number") or "").strip()

    staff = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900})
    try:
        console = staff.new_page()
        staff_login(console, "reviewer1")
        console.click("#menu-special-review")
        row = console.locator("#review-table tbody tr", has_text="慢特病诊断证明.pdf")
        expect(row.locator(".applicant")).to_contain_text("*特病")
        expect(row.locator(".applicant")).to_contain_text(card_number)
        expect(row.locator(".hospital")).to_contain_text("京华大学第一医院")
        links = row.locator(".materials a")
        expect(links).to_have_count(2)
        with console.expect_popup() as popup_info:
            links.nth(0).click()
        popup = popup_info.value
        response = popup.request.get(links.nth(0).get_attribute("href") or "")
        assert response.headers["content-type"] == "application/pdf" and response.body() == PDF
        assert response.headers["cache-control"] == "no-store"
        popup.close()
        image = console.request.get(links.nth(1).get_attribute("href") or "")
        assert (image.headers["content-type"], image.body()) == ("image/png", PNG)
        screenshot(console, "console_special_disease_review")
        row.locator("input[name=note]").fill("诊断证明与病历齐全")
        row.locator("button[value=approve]").click()
        expect(console.locator("#review-table tbody tr", has_text="慢特病诊断证明.pdf")).to_have_count(0)
    finally:
        staff.close()

    page.goto("/insurance/special-diseases")
    expect(page.locator("#application-1")).to_have_attribute("data-status", "approved")
    expect(page.locator("#application-1")).to_contain_text("诊断证明与病历齐全")
