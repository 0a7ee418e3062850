"""Browser: a pharmacy purchase end to end (R-PAY-09, R-PAY-02, R-PAY-08). The patient sets a
payment password and shows the payment code; pharmacy1 scans it for more than the password-free
limit (200 yuan) with the patient's password, reviews the split of the drug bill before
confirming, charges it, and downloads the receipt PDF, whose text is checked."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfReader

from medcard.config import Settings
from medcard.kit.clock import CHINA, clock
from medcard.settlement import documents
from tests.e2e.conftest import patient_login, screenshot, staff_login
from tests.e2e.test_codes_payment import current_code, give_card

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(documents.font_path() is None, reason="no Chinese font (apt-get install fonts-wqy-zenhei)"),
]


def test_r_pay_08_pharmacy_purchase_with_code_and_password_then_receipt_pdf(
    page: Page, live_settings: Settings
) -> None:
    patient_login(page, "药房购药")
    give_card(live_settings, "药房购药")
    page.goto("/security")
    page.fill("#pin", "246813")
    page.click("#pin-submit")
    expect(page.locator("#security-notice")).to_contain_text("支付密码已保存")
    page.goto("/codes")
    code = current_code(page)

    staff_login(page, "pharmacy1")
    page.goto("/console/pos")
    page.fill("#pos-code", code)
    page.fill("#pos-amount", "300")  # above the 200-yuan password-free limit
    page.fill("#pos-pin", "246813")  # typed by the patient on the POS keypad
    page.click("#pos-submit")
    expect(page.locator("#pos-result")).to_contain_text("付款码核验通过")
    expect(page.locator("#charge-form")).to_be_visible()
    if page.locator("select#charge-bill option").count() == 0:
        pytest.skip("no bill of this sandbox patient fits the 300-yuan code")
    drugs = page.locator("select#charge-bill option", has_text="门诊药房")
    if drugs.count():  # the pharmacy's own drug bill when the sandbox patient has one in reach
        page.select_option("#charge-bill", str(drugs.first.get_attribute("value")))
    page.click("#charge-submit")

    expect(page.locator("#split")).to_be_visible()  # the split before confirming
    expect(page.locator("#confirm-charge")).to_contain_text("确认收费")
    total = page.locator("#total").inner_text().strip().lstrip("¥")
    split = {
        str(row.get_attribute("data-source")): row.locator("td").nth(1).inner_text().strip().lstrip("¥")
        for row in page.locator("#split tr").all()
    }
    assert split, "the split names at least one source"
    screenshot(page, "pharmacy-01-split-before-confirming")
    page.click("#confirm-charge")
    expect(page.locator("#pos-receipt")).to_contain_text("收款成功")
    expect(page.locator("#payer")).to_contain_text("*付款")  # 周付款, masked
    screenshot(page, "pharmacy-02-receipt")

    with page.expect_download() as download:
        page.click("#receipt-pdf")
    path = download.value.path()
    pdf = path.read_bytes()
    assert pdf.startswith(b"%PDF-")
    text = "\n".join(sheet.extract_text() for sheet in PdfReader(io.BytesIO(pdf)).pages)
    assert "医疗电子票据" in text
    assert "京华大学第一医院" in text
    assert "*付款" in text and "周付款" not in text
    assert "药房" in text  # the scenario
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", text)  # the time (China)
    assert "医保政策版本" in text
    assert "合计 Total" in text and total in text
    for amount in split.values():
        assert amount in text, (amount, split)

    # The finance office reconciles the day (R-PAY-08): the charge went on the demo hospital's
    # credit line (先诊疗后付费), no outside money moved, and the day balances.
    staff_login(page, "finance1")
    page.goto("/console")
    page.click("#menu-finance")
    expect(page.locator("#reconcile-form")).to_be_visible()
    page.fill("#day", clock.now().astimezone(CHINA).date().isoformat())
    page.click("#reconcile-submit")
    expect(page.locator("#report-summary")).to_contain_text("账平")
    screenshot(page, "pharmacy-03-reconciliation")
    page.goto("/console/finance")
    screenshot(page, "pharmacy-04-finance-console")
