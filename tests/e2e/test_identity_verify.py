"""Browser: real-name verification (R-ID-02, R-ID-03) and children (R-ID-07), screenshots of every identity page."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from medcard.adapters.identity import sample_face_photo
from medcard.config import Settings
from tests.e2e.conftest import patient_login, screenshot
from tests.identity.helpers import resident_failing_name_check, resident_passing

pytestmark = pytest.mark.e2e

# The e2e server runs the sandbox with the default seed; numbers are computed for it.
SANDBOX = Settings(_env_file=None)  # type: ignore[call-arg]
LIVE = {"name": "selfie.png", "mimeType": "image/png", "buffer": sample_face_photo(live=True)}
SPOOF = {"name": "spoof.png", "mimeType": "image/png", "buffer": sample_face_photo(live=False)}


def _start(page: Page, *, name: str, number: str, method: str = "face", phone: str = "") -> None:
    page.goto("/verify")
    page.check(f"#method-{method}")
    page.fill("#document_number", number)
    page.fill("#name", name)
    if phone:
        page.fill("#phone", phone)
    page.click("#start")
    page.wait_for_url("**/verify/*")


def test_r_id_02_patient_verifies_with_a_live_face_and_home_shows_verified(page: Page) -> None:
    patient_login(page, "李雷")
    page.click("#start-verify")
    expect(page.locator("#method-face")).to_be_checked()
    expect(page.locator("#sandbox-hint")).to_contain_text("示例")
    screenshot(page, "identity-01-verify")
    _start(page, name="李雷", number=resident_passing(SANDBOX, "李雷", birth=date(1991, 9, 9), region="440305"))
    expect(page.locator("#attempts-left")).to_contain_text("3")
    screenshot(page, "identity-02-face-step")
    page.set_input_files("#face-file", LIVE)
    page.click("#face-submit")
    page.wait_for_url("**/me")
    expect(page.locator("main")).to_contain_text("已实名认证")
    screenshot(page, "identity-03-home-verified")

    page.goto("/wards")
    expect(page.locator("#no-wards")).to_be_visible()
    page.fill("#document_number", resident_passing(SANDBOX, "李小雷", birth=date(2019, 3, 3), region="440305"))
    page.fill("#name", "李小雷")
    page.select_option("#proof_kind", "birth_certificate")
    page.set_input_files("#proof", {**LIVE, "name": "birth-certificate.png"})
    page.click("#add-ward")  # no birth-certificate number: refused next to the field
    expect(page.locator("#birth_certificate_number-error")).to_contain_text("出生医学证明编号")
    screenshot(page, "identity-04-wards-error")
    page.fill("#birth_certificate_number", "P440123456")
    page.set_input_files("#proof", {**LIVE, "name": "birth-certificate.png"})
    page.click("#add-ward")
    expect(page.locator("#ward-added")).to_be_visible()
    expect(page.locator("#wards")).to_contain_text("李小雷")
    screenshot(page, "identity-05-wards")


def test_r_id_03_face_fails_three_times_then_offers_restart_or_another_method(page: Page) -> None:
    patient_login(page, "韩梅梅")
    _start(page, name="韩梅梅", number=resident_passing(SANDBOX, "韩梅梅", birth=date(1992, 2, 2), region="440305"))
    for left in ("2", "1"):
        page.set_input_files("#face-file", SPOOF)
        page.click("#face-submit")
        expect(page.locator("#attempts-left")).to_have_attribute("data-left", left)
        expect(page.locator(".alert")).to_contain_text("人脸核验未通过")
    screenshot(page, "identity-06-face-failed-once")
    page.set_input_files("#face-file", SPOOF)
    page.click("#face-submit")
    expect(page.locator("#session-failed")).to_contain_text("本次认证未通过")
    expect(page.locator("#face-submit")).to_have_count(0)
    expect(page.locator("#restart")).to_be_visible()
    expect(page.locator("#other-method")).to_be_visible()
    screenshot(page, "identity-07-session-failed")
    page.click("#other-method")
    page.wait_for_url("**/verify")
    expect(page.locator("#method-bank_card")).to_be_visible()


def test_r_id_01_bad_number_is_shown_next_to_the_field(page: Page) -> None:
    patient_login(page, "王五")
    page.goto("/verify")
    page.fill("#document_number", "4403051990010112345")
    page.fill("#name", "王五")
    page.click("#start")
    expect(page.locator("#document_number-error")).to_contain_text("应为 18 位")
    expect(page.locator("#document_number")).to_have_attribute("aria-invalid", "true")
    screenshot(page, "identity-08-verify-error")
    page.click("text=English")
    expect(page.locator("h1")).to_contain_text("Verify your identity")


def test_r_id_02_every_method_step_renders(page: Page) -> None:
    patient_login(page, "赵六")
    number = resident_failing_name_check(SANDBOX, "赵六", region="440306")
    _start(page, name="赵六", number=number, method="sms", phone="13700007777")
    page.click("#send-code")
    expect(page.locator("#notice")).to_contain_text("137****7777")
    screenshot(page, "identity-09-sms-step")
    _start(page, name="赵六", number=number, method="bank_card", phone="13700007777")
    expect(page.locator("#bank_card_number")).to_be_visible()
    screenshot(page, "identity-10-bank-card-step")
    _start(page, name="赵六", number=number, method="insurance")
    page.click("#confirm")  # the sandbox refuses this name and number
    expect(page.locator("#session-failed")).to_contain_text("姓名与证件号码不一致")
    screenshot(page, "identity-11-insurance-failed")
