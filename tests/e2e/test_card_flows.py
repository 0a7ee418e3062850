"""Browser: apply for a health card with autosave and resume (R-CARD-04), ID-photo prefill
(R-CARD-01), the card with its QR (R-CARD-07); "card number occupied" → existing-patient
binding (R-CARD-05); staff change of the phone with a reason (R-CARD-03).

The account is verified through the identity pages (a sandbox selfie that the authority treats
as live); the numbers used pass the sandbox's name-and-number check under the default seed.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from medcard.adapters.identity import sample_document_photo, sample_face_photo
from tests.e2e.conftest import csrf_headers, patient_login, screenshot, staff_login
from tests.factories import resident_id

pytestmark = pytest.mark.e2e

# An existing patient of H110001 in data/sandbox_his.json.
WANG_NAME, WANG_NUMBER = "王建国", "110105198001011238"
DETAILS = {
    "phone": "13912345678",
    "region_code": "110101",
    "postal_code": "100010",
    "employer": "京华软件有限公司",
    "emergency_name": "李四",
    "emergency_phone": "13700001111",
}
CHOICES = {
    "occupation": "professional",
    "marital_status": "married",
    "education": "bachelor",
    "emergency_relation": "spouse",
}


def pick_region(page: Page, code: str) -> None:
    """The region picker (issue 9): province, then district; the code is never typed."""
    page.select_option("#f-region_code-level0", code[:2] + "0000")
    page.select_option("#f-region_code-level2", code)
    expect(page.locator("#f-region_code")).to_have_value(code)


def fill_details(page: Page, skip: tuple[str, ...] = ()) -> None:
    """Type the DETAILS into the application form; the region through its picker."""
    for field, value in DETAILS.items():
        if field == "region_code" and field not in skip:
            pick_region(page, value)
        elif field not in skip:
            page.fill(f"#f-{field}", value)


def verify_identity(page: Page, *, name: str, number: str) -> None:
    """Real-name verification by face through the identity pages (a selfie the sandbox treats as live)."""
    page.goto("/verify")
    page.check("#method-face")
    page.fill("#document_number", number)
    page.fill("#name", name)
    page.click("#start")
    page.wait_for_url("**/verify/*")
    page.set_input_files("#face-file", {"name": "selfie.png", "mimeType": "image/png", "buffer": sample_face_photo()})
    page.click("#face-submit")
    page.wait_for_url("**/me")
    expect(page.locator("main")).to_contain_text("已实名认证")


def fill_and_wait_saved(page: Page, field: str, value: str) -> None:
    """Type a value, leave the field, and wait for the autosave indicator to confirm it."""
    revision = page.locator("#autosave").get_attribute("data-revision") or "0"
    page.fill(f"#f-{field}", value)
    page.press(f"#f-{field}", "Tab")
    expect(page.locator("#autosave")).not_to_have_attribute("data-revision", revision)
    expect(page.locator("#autosave")).to_contain_text("已自动保存")


def choose_and_wait_saved(page: Page, field: str, value: str) -> None:
    revision = page.locator("#autosave").get_attribute("data-revision") or "0"
    page.select_option(f"#f-{field}", value)
    expect(page.locator("#autosave")).not_to_have_attribute("data-revision", revision)


def test_r_card_04_apply_with_autosave_resume_after_reload_then_card_with_qr(page: Page) -> None:
    number = resident_id(birth=date(1991, 4, 12), sequence=37)
    patient_login(page, "张三")
    verify_identity(page, name="张三", number=number)
    page.goto("/me")
    page.click("#apply-card")
    screenshot(page, "card-01-choose-hospital")
    page.click("#hospital-H110001")
    expect(page.locator("#identity-name")).to_have_text("张三")
    screenshot(page, "card-02-apply-empty")

    photo = sample_document_photo(
        {"name": "张三", "document_number": number, "ethnicity": "汉族", "address": "北京市东城区示范路1号3单元502"}
    )
    page.set_input_files("#photo", files=[{"name": "id.png", "mimeType": "image/png", "buffer": photo}])
    page.click("#upload-photo")
    expect(page.locator("#prefill-notice")).to_contain_text("民族")
    expect(page.locator("#f-address")).to_have_value("北京市东城区示范路1号3单元502")
    expect(page.locator("#f-ethnicity")).to_have_value("01")
    screenshot(page, "card-03-apply-prefilled-from-photo")

    fill_and_wait_saved(page, "phone", DETAILS["phone"])
    choose_and_wait_saved(page, "occupation", CHOICES["occupation"])
    fill_and_wait_saved(page, "emergency_name", DETAILS["emergency_name"])
    screenshot(page, "card-04-apply-autosaved")

    # The connection drops mid-form: after a reload everything typed is still there,
    # and the cursor is back on the last saved field.
    page.reload()
    expect(page.locator("#f-phone")).to_have_value(DETAILS["phone"])
    expect(page.locator("#f-occupation")).to_have_value("professional")
    expect(page.locator("#f-emergency_name")).to_have_value("李四")
    expect(page.locator("#f-emergency_name")).to_be_focused()
    screenshot(page, "card-05-apply-resumed-after-reload")

    page.fill("#f-emergency_phone", "12345")  # a wrong number is named next to its field
    page.press("#f-emergency_phone", "Tab")
    expect(page.locator("#err-emergency_phone")).to_contain_text("手机号")
    expect(page.locator("#autosave")).to_contain_text("未保存")
    screenshot(page, "card-06-apply-field-error")

    fill_details(page, skip=("phone", "emergency_name"))
    for field, value in CHOICES.items():
        page.select_option(f"#f-{field}", value)
    page.click("#submit-card")
    expect(page.locator("#issued-notice")).to_be_visible()
    expect(page.locator("#card-qr svg")).to_be_visible()
    expect(page.locator("#card-status")).to_have_text("正常")
    card_number = page.locator("#card-number").inner_text().replace(" ", "")
    assert re.fullmatch(r"110000\d{10}", card_number)
    expect(page.locator("#physical-fee")).to_contain_text("¥10.00")
    screenshot(page, "card-07-my-card-with-qr")

    page.click("#edit-card")
    screenshot(page, "card-08-edit-personal-info")
    page.fill("#f-address", "北京市西城区新街口外大街19号")
    page.click("#save-card")
    expect(page.locator("#updated-notice")).to_contain_text("旧二维码已失效")
    expect(page.locator("#card-qr")).to_have_attribute("data-version", "2")
    expect(page.locator("#card-address")).to_have_text("北京市西城区新街口外大街19号")
    screenshot(page, "card-09-card-after-edit-new-qr")

    page.click("text=English")
    expect(page.locator("#hospital-settings")).to_have_text("This hospital's card settings")
    screenshot(page, "card-10-my-card-english")
    page.click("text=中文")


def test_r_card_05_card_number_occupied_routes_to_existing_patient_binding(page: Page) -> None:
    patient_login(page, "王建国")
    verify_identity(page, name=WANG_NAME, number=WANG_NUMBER)
    # Picking the hospital already finds the record; "fill in the form instead" reaches the form.
    page.goto("/cards/apply?hospital=H110001&subject=self")
    expect(page.locator("#record-found")).to_be_visible()
    screenshot(page, "card-19-record-found-at-pick")
    page.click("#fill-form")
    page.fill("#f-address", "北京市朝阳区建国路88号")
    page.select_option("#f-ethnicity", "01")
    fill_details(page)
    for field, value in CHOICES.items():
        page.select_option(f"#f-{field}", value)
    page.click("#submit-card")
    expect(page.locator(".alert")).to_contain_text("卡号已被占用")
    expect(page.locator(".alert")).to_contain_text("老用户绑定")
    screenshot(page, "card-20-card-number-occupied")

    page.click("#go-existing")
    screenshot(page, "card-21-existing-binding-start")
    page.click("#send-code")
    expect(page.locator("#code-sent")).to_contain_text("138****0001")
    screenshot(page, "card-22-existing-binding-code-sent")

    inbox = page.context.new_page()
    inbox.goto("/sandbox/sms")
    message = inbox.locator(".sms-list li", has_text="138 0000 0001").first.inner_text()
    screenshot(inbox, "card-23-sandbox-sms-inbox")
    inbox.close()
    code = re.search(r"验证码 (\d{6})", message)
    assert code is not None, message

    page.fill("#code", "000000" if code.group(1) != "000000" else "111111")
    page.click("#confirm-binding")
    expect(page.locator(".alert")).to_contain_text("验证码不正确")
    screenshot(page, "card-24-existing-binding-wrong-code")
    page.fill("#code", code.group(1))
    page.click("#confirm-binding")
    expect(page.locator("#linked-notice")).to_be_visible()
    expect(page.locator("#card-qr svg")).to_be_visible()
    screenshot(page, "card-25-existing-record-linked")


def test_r_card_03_cashier_changes_phone_with_reason_in_console(page: Page) -> None:
    number = resident_id(birth=date(1988, 9, 9), sequence=58, male=False)
    patient_login(page, "刘芳")
    verify_identity(page, name="刘芳", number=number)
    fields = {**DETAILS, **CHOICES, "ethnicity": "满族", "address": "北京市海淀区中关村大街27号"}
    created = page.request.post(
        "/api/v1/cards", data={"hospital": "H110001", "fields": fields}, headers=csrf_headers(page)
    )
    assert created.status == 201, created.text()
    card_number = created.json()["card_number"]

    staff_login(page, "cashier1")
    page.goto("/console/cards")
    page.fill("#card_number", card_number[:-1] + str((int(card_number[-1]) + 1) % 10))
    page.click("#find-card")
    expect(page.locator(".alert")).to_contain_text("校验位")
    screenshot(page, "card-30-console-mistyped-number")
    page.fill("#card_number", card_number)
    page.click("#find-card")
    expect(page.locator("#found-phone")).to_have_text("139****5678")
    page.select_option("#field", "phone")
    page.fill("#new_value", "13655556666")
    page.fill("#reason", "患者更换手机号，已核验身份证原件")
    screenshot(page, "card-31-console-change-form")
    page.click("#change-submit")
    expect(page.locator("#change-notice")).to_be_visible()
    expect(page.locator("#found-phone")).to_have_text("136****6666")
    expect(page.locator("#found-qr-version")).to_have_text("2")
    screenshot(page, "card-32-console-phone-changed")
