"""Browser: a parent adds his child under 14 (R-FAM-03), applies for the child's card, the
hospital prescribes drugs, the parent pays them for the child — the payment waits for his
second confirmation as guardian (R-FAM-04) — confirms it in the inbox, and finds it in the
month's family bill, on the page and in its PDF (R-FAM-07). Every state through pages."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import overflow, patient_login, screenshot
from tests.e2e.test_card_flows import DETAILS, fill_details
from tests.e2e.test_family import _add, _verify

pytestmark = pytest.mark.e2e

CHILD = {"occupation": "child", "marital_status": "single", "education": "none", "emergency_relation": "parent"}


def test_r_fam_04_r_fam_07_parent_pays_a_prescription_for_his_child_after_confirming_and_sees_it_in_the_bill(
    page: Page,
) -> None:
    patient_login(page, "吴家长")
    _verify(page, "吴家长", date(1986, 3, 9))
    page.click("#go-family")
    _add(page, relation="child", name="吴小禾", birth=date(2018, 9, 1), proof_kind="birth_certificate",
         certificate="P320765432")  # fmt: skip
    expect(page.locator("#member-1")).to_contain_text("已生效")  # under 14: the authority confirmed it

    # The child's card, applied for by the parent through the application form.
    page.goto("/me")
    page.click("#apply-card")
    page.locator('a[href^="/cards/apply?hospital=H110001&subject="]:not([href$="=self"])').first.click()
    expect(page.locator("#identity-name")).to_contain_text("小禾")
    page.fill("#f-address", "南京市玄武区示范路2号")
    if not page.locator("#f-ethnicity").input_value():
        page.select_option("#f-ethnicity", "01")
    fill_details(page, skip=("employer",))
    page.fill("#f-phone", "13912340000")
    page.fill("#f-emergency_phone", DETAILS["phone"])
    for field, value in CHILD.items():
        page.select_option(f"#f-{field}", value)
    page.click("#submit-card")
    expect(page.locator("#issued-notice")).to_be_visible()
    card_number = page.locator("#card-number").inner_text().replace(" ", "")
    card_id = re.search(r"/cards/([0-9a-f-]{36})", page.url)
    assert card_id is not None

    # The hospital's doctor prescribes (the sandbox HIS desk): a pharmacy bill appears.
    page.goto("/sandbox/his")
    page.fill("#card_number", card_number)
    page.select_option("#drug", "XJ01CAA040")  # 阿莫西林胶囊, ¥12.50
    page.fill("#quantity", "2")
    page.click("#prescribe")
    expect(page.locator("#prescribed")).to_be_visible()

    page.goto(f"/bills?card_id={card_id.group(1)}")
    page.locator("#bill-list .row", has_text="门诊药房").filter(has_text="25.00").locator("a.button").click()
    expect(page.locator("#split")).to_be_visible()
    screenshot(page, "family-05-child-prescription-split")
    page.click("#confirm-pay")
    expect(page.locator("#awaiting-confirmation")).to_be_visible()  # R-FAM-04: nothing charged yet
    expect(page.locator("#state")).to_contain_text("待支付")
    screenshot(page, "family-06-awaiting-guardian-confirmation")

    page.click("#go-confirm")
    expect(page.locator("#confirmations")).to_contain_text("25.00")
    screenshot(page, "family-07-confirmation-inbox")
    page.click("#confirm-1")
    expect(page.locator("#payment-confirmed")).to_be_visible()
    expect(page.locator("#confirmations")).to_have_count(0)

    page.goto("/family/bill")
    expect(page.locator("#bill-total")).to_contain_text("25.00")
    expect(page.locator("#family-bill")).to_contain_text("*小禾")
    expect(page.locator("#family-bill")).to_contain_text("药品")
    expect(page.locator("#chart-source")).to_be_visible()
    screenshot(page, "family-08-monthly-bill-with-the-prescription")
    page.wait_for_load_state("networkidle")  # the chart images are in
    assert not overflow(page)  # the 480-px charts shrink to the phone's width
    with page.expect_download() as download:
        page.click("#bill-pdf")
    assert download.value.suggested_filename.startswith("family-bill-")
    pdf = page.request.get(page.locator("#bill-pdf").get_attribute("href") or "")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
