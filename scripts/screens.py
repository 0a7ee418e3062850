"""Regenerate the screenshots under docs/screens/ (`make screens`).

Starts the app on the sandboxes with a fresh SQLite database (the same way the browser tests
do), walks the public flow in Chromium as a patient would (login, the agreements, a face
verification, the card application), then photographs the home, card, payment-code, elder-mode
and console pages. Needs /usr/bin/chromium.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Page, expect, sync_playwright  # noqa: E402

from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, serve, server_settings, staff_login  # noqa: E402
from tests.e2e.test_card_flows import CHOICES, fill_details, verify_identity  # noqa: E402
from tests.e2e.test_dead_ends import confirm_phone  # noqa: E402
from tests.e2e.test_insurance_binding import bind  # noqa: E402
from tests.e2e.test_special_disease import PDF, PNG  # noqa: E402
from tests.factories import resident_id  # noqa: E402

OUT = ROOT / "docs" / "screens"
PHONE = {"width": 390, "height": 844}


def shot(page: Page, name: str, *, full: bool = True) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full)
    print(f"docs/screens/{name}.png")


def apply_for_card(page: Page, name: str) -> None:
    verify_identity(page, name=name, number=resident_id(birth=date(1958, 3, 8), sequence=61))
    page.click("#apply-card")
    page.click("#hospital-H110001")
    page.fill("#f-address", "北京市东城区示范路1号3单元502")
    page.select_option("#f-ethnicity", "01")
    fill_details(page)
    for field, value in CHOICES.items():
        page.select_option(f"#f-{field}", value)
    page.click("#submit-card")
    expect(page.locator("#card-qr svg")).to_be_visible()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory() as tmp,
        serve(server_settings(Path(tmp), "screens"), Path(tmp)) as base,
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        phone = browser.new_context(base_url=base, locale="zh-CN", viewport=PHONE)
        page = phone.new_page()
        page.goto("/login")
        shot(page, "01-login")
        page.click("#wechat-login")
        page.fill("#nickname", "张秀英")
        page.click("#consent")
        page.wait_for_url("**/consent**")
        shot(page, "02-consent")
        page.check("#agree")
        page.click("#consent-accept")
        page.wait_for_url("**/me")
        apply_for_card(page, "张秀英")
        shot(page, "04-card")
        page.goto("/me")
        shot(page, "03-home")
        page.click("#show-card summary")
        shot(page, "03b-home-show-card")
        page.goto("/codes")
        expect(page.locator("#code-digits")).to_be_visible()
        shot(page, "05-payment-code")
        page.goto("/me/phone")
        confirm_phone(page, "13512346161")
        page.goto("/me")
        bind(page, region_code="110000", scheme="resident")
        page.goto("/me")
        page.click("#go-insurance")
        expect(page.locator("#voucher-qr svg")).to_be_visible()
        shot(page, "05b-insurance-code")
        page.goto("/insurance/special-diseases")
        page.select_option("#disease_code", "MT004")
        page.set_input_files(
            "#materials",
            [
                {"name": "诊断证明.pdf", "mimeType": "application/pdf", "buffer": PDF},
                {"name": "门诊病历.png", "mimeType": "image/png", "buffer": PNG},
            ],
        )
        page.click("#disease-submit")
        page.goto("/me")
        page.click("#elder-toggle")
        shot(page, "06-elder-home")
        page.click("#go-codes")
        shot(page, "07-elder-pay-step1")
        page.click("#elder-next")
        expect(page.locator("#code-digits")).to_be_visible()
        shot(page, "08-elder-pay-step2")
        page.goto("/insurance")
        shot(page, "08b-elder-insurance")
        page.click("#insurance-more")
        shot(page, "08c-elder-insurance-more")
        page.goto("/me")
        page.goto("/me/account")
        shot(page, "09-account-privacy")

        desk = browser.new_context(base_url=base, locale="zh-CN", viewport={"width": 1280, "height": 800})
        console = desk.new_page()
        staff_login(console, "admin1")
        shot(console, "10-console-admin")
        cashier = browser.new_context(base_url=base, locale="zh-CN", viewport={"width": 1280, "height": 800})
        window = cashier.new_page()
        staff_login(window, "cashier1")
        window.goto("/console/pos")
        shot(window, "11-console-cashier-pos")
        review = desk.new_page()
        staff_login(review, "reviewer1")
        review.goto("/console/insurance/review")
        shot(review, "12-console-special-disease-review")
        browser.close()


if __name__ == "__main__":
    main()
