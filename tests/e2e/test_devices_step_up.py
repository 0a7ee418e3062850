"""Browser: a platform authenticator (Chromium's virtual authenticator through CDP) is
registered on the bound device, then passes the step-up after a login from another city
(R-SEC-04, R-SEC-06). WebAuthn needs a domain, so these pages are opened on localhost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import accept_agreements, screenshot

pytestmark = pytest.mark.e2e
URUMQI = "203.0.113.200"  # the sandbox IP table's Urumqi range


@pytest.fixture
def localhost_context(browser: Browser, live_server: str) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=live_server.replace("127.0.0.1", "localhost"),
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
    )
    context.set_default_timeout(10_000)
    yield context
    context.close()


def _virtual_authenticator(context: BrowserContext, page: Page) -> None:
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )


def _login(page: Page, *, openid: str = "") -> None:
    page.goto("/login")
    page.click("#wechat-login")
    page.fill("#nickname", "指纹用户")
    if openid:
        page.fill("#openid", openid)
    page.click("#consent")
    accept_agreements(page)


def test_r_sec_04_register_fingerprint_then_step_up_after_a_login_from_another_city(
    localhost_context: BrowserContext,
) -> None:
    """R-SEC-04 / R-SEC-06: register this phone's fingerprint on /security; a later login from
    Urumqi lands on the step-up page, and the fingerprint passes it."""
    page = localhost_context.new_page()
    _virtual_authenticator(localhost_context, page)
    _login(page)
    page.wait_for_url("**/me")
    page.goto("/security")
    expect(page.locator("#device-list .device")).to_have_count(1)
    expect(page.locator("#device-list")).to_contain_text("本机")
    page.click("#register-authenticator")
    expect(page.locator("#authenticator-state")).to_be_visible()
    screenshot(page, "60-security-devices")

    localhost_context.set_extra_http_headers({"X-Forwarded-For": URUMQI})
    _login(page)
    page.wait_for_url("**/security/step-up")
    expect(page.locator("#step-up-reasons")).to_contain_text("异地登录")
    expect(page.locator("#step-up-reasons")).to_contain_text("乌鲁木齐")
    screenshot(page, "61-step-up")
    page.goto("/security")
    expect(page.locator("#step-up-banner")).to_be_visible()
    page.goto("/security/step-up")
    page.click("#step-up-webauthn")
    expect(page.locator("#step-up-done")).to_have_attribute("data-stepped-up", "1")
    page.goto("/security")
    expect(page.locator("#step-up-banner")).to_have_count(0)


def test_r_sec_06_a_second_browser_is_a_new_device_without_fingerprint(
    localhost_context: BrowserContext, browser: Browser, live_server: str
) -> None:
    """R-SEC-06: the same account in a second browser is a new device: it lands on the step-up
    page, which offers the identity-verification fallback, and sensitive pages refuse it."""
    first = localhost_context.new_page()
    _login(first)
    first.wait_for_url("**/me")
    openid = localhost_context.cookies()
    remembered = next(c["value"] for c in openid if c["name"] == "medcard_sandbox_openid")
    other = browser.new_context(base_url=live_server.replace("127.0.0.1", "localhost"), locale="zh-CN")
    try:
        page = other.new_page()
        _login(page, openid=remembered)
        page.wait_for_url("**/security/step-up")
        expect(page.locator("#step-up-reasons")).to_contain_text("新设备")
        expect(page.locator("#no-authenticator")).to_be_visible()
        expect(page.locator("#step-up-reverify")).to_be_visible()
        page.goto("/codes")
        expect(page.locator("#step-up-link")).to_be_visible()
        page.goto("/security")
        expect(page.locator("#device-list .device")).to_have_count(2)
        expect(page.locator("#register-authenticator")).to_have_count(0)
        page.fill("#pin", "135790")
        page.click("#pin-submit")
        expect(page.locator(".alert")).to_contain_text("二次验证")
    finally:
        other.close()
