"""Browser: the three journey dead ends of issue 9, each walked to its end through the pages.

1. A verified patient re-proves his identity for a task — PIN reset (R-SEC-03), a new device's
   step-up (R-SEC-04) — from the task's page and comes back to it (R-ID-02); someone else's ID
   is refused.
2. Verified by face (no phone), the patient is refused the e-voucher bind for want of a phone,
   adds one with an SMS code from the bind page and binds (R-INS-01, R-ID-05).
3. The cashier redeems the code: a wrong payment password is retried without a new scan
   (R-SEC-03) and the patient's open page shows 支付成功 with amount, place and time while the
   used code disappears (R-SEC-02).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from medcard.adapters.identity import sample_document_photo, sample_face_photo
from medcard.config import Settings
from tests.e2e.conftest import patient_login, screenshot, staff_login
from tests.e2e.test_card_flows import CHOICES, DETAILS, fill_details, verify_identity
from tests.identity.helpers import resident_passing

pytestmark = pytest.mark.e2e

SANDBOX = Settings(_env_file=None)  # type: ignore[call-arg]
SELFIE = {"name": "selfie.png", "mimeType": "image/png", "buffer": sample_face_photo()}


@pytest.fixture
def second_browser(browser: Browser, live_server: str) -> Iterator[BrowserContext]:
    """Another phone or the cashier's desk: a fresh context, nothing shared with ``page``."""
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 390, "height": 844})
    context.set_default_timeout(10_000)
    yield context
    context.close()


def fill_identity(page: Page, *, name: str, number: str) -> None:
    page.check("#method-face")
    page.fill("#document_number", number)
    page.fill("#name", name)
    page.click("#start")
    page.wait_for_load_state()


def pass_face(page: Page) -> None:
    page.wait_for_url("**/verify/*")
    page.set_input_files("#face-file", SELFIE)
    page.click("#face-submit")


def apply_card(page: Page, *, name: str, number: str) -> None:
    """Apply at 京华大学第一医院 through the card pages (ID photo prefill, the remaining fields)."""
    page.goto("/me")
    page.click("#apply-card")
    page.click("#hospital-H110001")
    photo = sample_document_photo(
        {"name": name, "document_number": number, "ethnicity": "汉族", "address": "北京市东城区示范街9号"}
    )
    page.set_input_files("#photo", files=[{"name": "id.png", "mimeType": "image/png", "buffer": photo}])
    page.click("#upload-photo")
    expect(page.locator("#f-address")).to_have_value("北京市东城区示范街9号")
    fill_details(page)
    for field, value in CHOICES.items():
        page.select_option(f"#f-{field}", value)
    page.click("#submit-card")
    expect(page.locator("#card-qr svg")).to_be_visible()


def confirm_phone(page: Page, phone: str, *, shot: str | None = None) -> None:
    """On the phone page: send the SMS code, read it in the sandbox inbox, confirm."""
    page.fill("#phone", phone)
    page.click("#phone-send")
    expect(page.locator("#phone-sent")).to_contain_text(f"{phone[:3]}****{phone[-4:]}")
    inbox = page.context.new_page()
    inbox.goto("/sandbox/sms")
    message = inbox.locator(".sms-list li", has_text=f"{phone[:3]} {phone[3:7]} {phone[7:]}").first.inner_text()
    inbox.close()
    code = re.search(r"验证码 (\d{6})", message)
    assert code is not None, message
    page.fill("#code", code.group(1))
    if shot:
        screenshot(page, shot)
    page.click("#phone-confirm")


def test_r_sec_03_forgotten_pin_is_reset_after_a_reverification_started_from_security(page: Page) -> None:
    """R-SEC-03 / R-ID-02: 安全设置 → re-verify (someone else's ID refused, own face passes) →
    back on 安全设置 → the new PIN is accepted."""
    name, number = "吴重置", resident_passing(SANDBOX, "吴重置", birth=date(1983, 3, 13))
    patient_login(page, name)
    verify_identity(page, name=name, number=number)
    page.goto("/security")
    page.fill("#pin", "135790")
    page.click("#pin-submit")
    expect(page.locator("#security-notice")).to_contain_text("支付密码已保存")
    page.fill("#pin", "975310")
    page.click("#pin-submit")
    expect(page.locator(".alert")).to_have_attribute("data-code", "REVERIFICATION_REQUIRED")

    page.click("#reverify-link")
    expect(page.locator("#reverify-title")).to_contain_text("重置支付密码")
    expect(page.locator("#already-verified")).to_have_count(0)
    screenshot(page, "dead-ends-01-reverify-form")
    stranger = resident_passing(SANDBOX, "赵强", birth=date(1990, 1, 1))
    fill_identity(page, name="赵强", number=stranger)
    expect(page.locator(".alert")).to_have_attribute("data-code", "REVERIFICATION_IDENTITY_MISMATCH")
    expect(page.locator("#document_number-error")).to_contain_text("本账号已实名的身份")
    screenshot(page, "dead-ends-02-someone-elses-id-refused")
    fill_identity(page, name=name, number=number)
    pass_face(page)
    page.wait_for_url("**/security?reverified=pin_reset")
    expect(page.locator("#reverified-notice")).to_contain_text("重新认证已通过")
    screenshot(page, "dead-ends-03-back-on-security")
    page.fill("#pin", "975310")
    page.click("#pin-submit")
    expect(page.locator("#security-notice")).to_contain_text("支付密码已保存")


def test_r_sec_04_new_device_steps_up_with_a_reverification_started_from_the_step_up_page(
    page: Page, second_browser: BrowserContext
) -> None:
    """R-SEC-04 / R-ID-02: the same account on another phone lands on 二次验证，re-verifies from
    there and comes back to finish the step-up."""
    name, number = "郑新机", resident_passing(SANDBOX, "郑新机", birth=date(1981, 1, 21))
    patient_login(page, name)
    verify_identity(page, name=name, number=number)
    openid = next(c["value"] for c in page.context.cookies() if c["name"] == "medcard_sandbox_openid")

    phone = second_browser.new_page()
    phone.goto("/login")
    phone.click("#wechat-login")
    phone.fill("#nickname", name)
    phone.fill("#openid", openid)
    phone.click("#consent")
    phone.wait_for_url("**/security/step-up")
    phone.click("#step-up-reverify")
    expect(phone.locator("#reverify-title")).to_contain_text("新设备二次验证")
    fill_identity(phone, name=name, number=number)
    pass_face(phone)
    phone.wait_for_url("**/security/step-up?reverified=step_up")
    expect(phone.locator("#reverified-notice")).to_be_visible()
    phone.click("#step-up-verification")
    expect(phone.locator("#step-up-done")).to_have_attribute("data-stepped-up", "1")
    screenshot(phone, "dead-ends-04-step-up-done")
    phone.goto("/codes")
    expect(phone.locator("#step-up-link")).to_have_count(0)


def test_r_ins_01_face_verified_patient_adds_a_phone_from_the_bind_page_and_binds(page: Page) -> None:
    """R-INS-01 / R-ID-05: README steps 2 → 3 → 6 literally: verified by face, the bind is refused
    for want of a phone; 添加手机号 → code from the SMS inbox → back on the bind page → bound."""
    name, number = "冯绑定", resident_passing(SANDBOX, "冯绑定", birth=date(1982, 2, 12))
    patient_login(page, name)
    verify_identity(page, name=name, number=number)
    apply_card(page, name=name, number=number)
    page.goto("/me")
    page.click("#go-insurance")
    page.click("#go-bind")
    expect(page.locator("#phone-needed")).to_be_visible()
    page.fill("#card_number", page.text_content("#sandbox-card-number") or "")
    page.select_option("#region_code", "110000")
    page.set_input_files("#face_image", {"name": "selfie.jpg", "mimeType": "image/jpeg", "buffer": b"SANDBOX-LIVE"})
    page.click("#bind-submit")
    expect(page.locator(".alert")).to_have_attribute("data-code", "INS_PHONE_REQUIRED")
    screenshot(page, "dead-ends-05-bind-needs-a-phone")

    page.click("#add-phone")
    expect(page.locator("#phone")).to_have_value(DETAILS["phone"])  # the card's phone is offered
    confirm_phone(page, "13512340987", shot="dead-ends-06-phone-code")
    page.wait_for_url("**/insurance/bind")
    expect(page.locator("#phone-needed")).to_have_count(0)
    page.fill("#card_number", page.text_content("#sandbox-card-number") or "")
    page.select_option("#region_code", "110000")
    page.set_input_files("#face_image", {"name": "selfie.jpg", "mimeType": "image/jpeg", "buffer": b"SANDBOX-LIVE"})
    page.click("#bind-submit")
    expect(page.locator("#bound-notice")).to_contain_text("绑定成功")
    screenshot(page, "dead-ends-07-bound")


def test_r_sec_02_paid_code_shows_the_result_and_a_wrong_pin_is_retried_at_the_pos(
    page: Page, second_browser: BrowserContext
) -> None:
    """R-SEC-02 / R-SEC-03: patient shows the code; the cashier scans 300 yuan, the patient types a
    wrong password, the cashier retries without scanning again; the patient's page shows 支付成功."""
    name, number = "陈付款", resident_passing(SANDBOX, "陈付款", birth=date(1980, 10, 10))
    patient_login(page, name)
    verify_identity(page, name=name, number=number)
    apply_card(page, name=name, number=number)
    page.goto("/security")
    page.fill("#pin", "135790")
    page.click("#pin-submit")
    expect(page.locator("#security-notice")).to_contain_text("支付密码已保存")
    page.goto("/codes")
    digits = page.locator("#code-digits")
    expect(digits).to_have_attribute("data-code", re.compile(r"^\d{18}$"))
    code = str(digits.get_attribute("data-code"))

    pos = second_browser.new_page()
    staff_login(pos, "cashier1")
    pos.goto("/console/pos")
    pos.fill("#pos-code", code)
    pos.fill("#pos-amount", "300.00")
    pos.fill("#pos-pin", "246802")
    pos.click("#pos-submit")
    expect(pos.locator(".alert")).to_have_attribute("data-code", "PIN_WRONG")
    expect(pos.locator("#pos-retry-form")).to_contain_text("¥300.00")
    screenshot(pos, "dead-ends-08-pos-wrong-pin-retry")
    expect(page.locator("#payment-result")).to_have_attribute("data-state", "pending")
    expect(page.locator("#code-digits")).to_have_count(0)  # the scanned code is retired at once
    screenshot(page, "dead-ends-09-patient-pending")

    pos.fill("#pos-retry-pin", "135790")
    pos.click("#pos-retry-submit")
    expect(pos.locator("#pos-result")).to_contain_text("付款码核验通过")
    expect(pos.locator("#pos-result")).to_contain_text("¥300.00")

    result = page.locator("#payment-result")
    expect(result).to_have_attribute("data-state", "paid")
    expect(result).to_contain_text("支付成功")
    expect(page.locator("#payment-amount")).to_have_text("¥300.00")
    expect(page.locator("#payment-where")).to_contain_text("京华大学第一医院")
    expect(page.locator("#payment-where")).to_contain_text(re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"))
    screenshot(page, "dead-ends-10-patient-paid")
    pos.fill("#pos-code", code)
    pos.fill("#pos-amount", "1.00")
    pos.click("#pos-submit")
    expect(pos.locator(".alert")).to_have_attribute("data-code", "PAYMENT_CODE_USED")


def test_r_sec_05_patient_lifts_a_hotline_loss_report_after_a_reverification(
    page: Page, second_browser: BrowserContext
) -> None:
    """R-SEC-05 / R-ID-02: the hotline places a loss report; the patient logs in again, 安全设置
    shows the freeze, 第一步：重新实名认证 brings him back, and 解冻 lifts it."""
    name, number = "褚挂失", resident_passing(SANDBOX, "褚挂失", birth=date(1984, 4, 14))
    patient_login(page, name)
    verify_identity(page, name=name, number=number)
    apply_card(page, name=name, number=number)
    card_number = "".join(page.locator("#card-number").inner_text().split())

    hotline = second_browser.new_page()
    staff_login(hotline, "hotline1")
    hotline.goto("/console/security/loss-report")
    hotline.fill("#card_number", card_number)
    hotline.fill("#name", name)
    hotline.fill("#document_last4", number[-4:])
    hotline.fill("#phone_last4", DETAILS["phone"][-4:])
    hotline.click("#loss-submit")
    hotline.click("#confirm-ok")  # the confirmation step before 挂失 (issue 9)
    expect(hotline.locator("#loss-placed")).to_contain_text(card_number)

    page.goto("/security")  # the loss report ended every session
    page.wait_for_url("**/login**")
    page.click("#wechat-login")
    page.click("#consent")
    page.wait_for_url("**/security")  # the login returns to the page the patient was on (issue 9)
    expect(page.locator("#frozen-state")).to_have_attribute("data-frozen", "1")
    page.click("#reactivate")
    expect(page.locator(".alert")).to_have_attribute("data-code", "REVERIFICATION_REQUIRED")
    page.click("#reactivate-verify")
    expect(page.locator("#reverify-title")).to_contain_text("解冻账户")
    fill_identity(page, name=name, number=number)
    pass_face(page)
    page.wait_for_url("**/security?reverified=reactivation")
    expect(page.locator("#reverified-notice")).to_contain_text("解冻")
    page.click("#reactivate")
    expect(page.locator("#security-notice")).to_contain_text("账户已解冻")
    expect(page.locator("#frozen-state")).to_have_attribute("data-frozen", "0")
    screenshot(page, "dead-ends-11-reactivated")
