"""Browser: patient and staff log in; Chinese renders; the language switch works."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import patient_login, screenshot, staff_login

pytestmark = pytest.mark.e2e


def test_patient_logs_in_through_sandbox_oauth(page: Page) -> None:
    page.goto("/login")
    screenshot(page, "01-login")
    patient_login(page)
    expect(page.locator("#start-verify")).to_be_visible()
    screenshot(page, "02-home-unverified")
    page.click("text=English")
    expect(page.locator("#start-verify")).to_have_text("Verify my identity")


def test_staff_console_login_and_audit(page: Page) -> None:
    staff_login(page, "admin1")
    page.click("text=审计日志")
    expect(page.locator("table")).to_contain_text("auth.staff_login")
    screenshot(page, "90-console-audit")


def test_wrong_staff_password_shows_bilingual_error(page: Page) -> None:
    page.goto("/console/login")
    page.fill("#username", "admin1")
    page.fill("#password", "wrong")
    page.click("button[type=submit]")
    expect(page.locator(".alert")).to_contain_text("用户名或密码错误")


def test_r_sec_06_refused_login_shows_on_the_risk_monitor(page: Page) -> None:
    """A wrong staff password is a risk signal: the admin's monitor counts it at once."""
    page.goto("/console/login")
    page.fill("#username", "pharmacy1")
    page.fill("#password", "not-the-password")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    staff_login(page, "admin1")
    page.click("#menu-risk-monitor")
    recent = page.locator('#risk-counts tr[data-kind="login_refused"] .count-recent')
    expect(recent).not_to_have_text("0")
    expect(page.locator('#risk-latest tr[data-kind="login_refused"]').first).to_be_visible()
    screenshot(page, "91-console-risk-monitor")
