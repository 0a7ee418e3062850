"""Browser: an administrator schedules a new version of a region's policy in the console and
sees it in the version history with who/when/why (R-INS-03)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import screenshot, staff_login

pytestmark = pytest.mark.e2e


def test_r_ins_03_admin_schedules_a_policy_version(page: Page) -> None:
    staff_login(page, "admin1")
    page.click("#menu-policy")
    page.click("#open-region-440300")
    expect(page.locator("#version-1")).to_contain_text("shipped-data")
    data = page.input_value("#data").replace('"online_uplift_bp": 200', '"online_uplift_bp": 300')
    page.fill("#data", data)
    page.fill("#effective_from", (date.today() + timedelta(days=30)).isoformat())
    page.fill("#reason", "深圳市医保局通知：线上渠道报销比例上调")
    page.click("#policy-submit")
    expect(page.locator("#saved-notice")).to_be_visible()
    expect(page.locator("#version-2")).to_contain_text("admin:admin1")
    expect(page.locator("#version-2")).to_contain_text("待生效")
    expect(page.locator("#in-force")).to_contain_text("v1")
    screenshot(page, "insurance_console_policy_history")
