"""Errors and feedback in the browser (issue 9): a submit button disables itself with a spinner
while its request runs and a second tap sends nothing (R-CARD-01), Post/Redirect/Get so a reload
never re-submits, a <dialog> before 冻结, and an expired session that keeps what was typed and
returns to the form after login (R-A11Y-02)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update
from sqlalchemy.pool import NullPool

from medcard.config import Settings
from medcard.db import make_engine, make_sessionmaker, unit_of_work
from medcard.kit.clock import clock
from medcard.kit.crypto import sm3_hex
from medcard.models import AuthSession
from tests.e2e.conftest import patient_login, screenshot
from tests.e2e.test_card_flows import CHOICES, fill_details, verify_identity
from tests.e2e.test_insurance_binding import login_as, seed_patient
from tests.factories import resident_id
from tests.support import run_async

pytestmark = pytest.mark.e2e
WATCH = """(() => {
  const button = document.getElementById("submit-card");
  new MutationObserver(() => {
    if (!button.disabled || sessionStorage.getItem("busy-state")) return;
    const state = [button.disabled, button.className, button.getAttribute("aria-busy")];
    sessionStorage.setItem("busy-state", JSON.stringify(state));
    document.getElementById("apply-form").requestSubmit();
    button.click();
  }).observe(button, { attributes: true });
})()"""


def _expire_session(page: Page, settings: Settings) -> None:
    """Let this browser's login run out (the server's clock cannot be moved from here)."""
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "medcard_session")

    async def expire() -> None:
        engine = make_engine(settings, poolclass=NullPool)
        async with unit_of_work(make_sessionmaker(engine)) as session:
            past = clock.now() - timedelta(minutes=1)
            await session.execute(
                update(AuthSession).where(AuthSession.token_hash == sm3_hex(token)).values(expires_at=past)
            )
        await engine.dispose()

    run_async(expire())


def test_r_card_01_the_submit_button_is_busy_and_a_second_tap_sends_nothing(page: Page) -> None:
    number = resident_id(birth=date(1988, 6, 1), sequence=61)
    patient_login(page, "双击用户")
    verify_identity(page, name="双击用户", number=number)
    page.goto("/me")
    page.click("#apply-card")
    page.click("#hospital-H110001")
    page.select_option("#f-ethnicity", "01")
    page.fill("#f-address", "北京市东城区示范街9号")
    fill_details(page)
    # The place is picked by name (province → district), never typed as a code (issue 9).
    expect(page.locator("#f-region_code")).to_be_hidden()
    expect(page.locator("#f-region_code-level0 option:checked")).to_have_text("北京市")
    expect(page.locator("#f-region_code-level2 option:checked")).to_have_text("东城区")
    screenshot(page, "feedback-region-picker")
    for field, value in CHOICES.items():
        page.select_option(f"#f-{field}", value)

    # Watch the button from inside the page: when it turns busy, record its state in this tab's
    # sessionStorage (it survives the navigation) and tap again, twice; count what leaves.
    page.evaluate(WATCH)
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url) if request.method == "POST" else None)
    page.click("#submit-card")
    submits = lambda: [url for url in posts if "/cards/apply?" in url]  # noqa: E731 (not the autosaves)
    expect(page.locator("#card-qr svg")).to_be_visible()
    assert "issued=1" in page.url  # Post/Redirect/Get: the card page is a GET
    assert page.evaluate("sessionStorage.getItem('busy-state')") == '[true,"button primary is-busy","true"]'
    assert len(submits()) == 1, posts  # the second and third tap sent nothing

    posts.clear()
    page.reload()
    expect(page.locator("#card-qr svg")).to_be_visible()
    assert posts == []  # a reload never re-submits


def test_r_a11y_02_an_expired_session_keeps_what_was_typed_and_returns_to_the_form(
    page: Page, live_settings: Settings
) -> None:
    patient_login(page, "过期用户")
    page.goto("/verify")
    page.check("#method-face")
    page.fill("#document_number", "110105199003071234")
    page.fill("#name", "过期用户")
    _expire_session(page, live_settings)
    page.click("#start")
    page.wait_for_url("**/login?next=%2Fverify&expired=1")
    expect(page.locator("#session-expired")).to_contain_text("登录已过期")
    screenshot(page, "feedback-session-expired")
    page.click("#wechat-login")
    page.click("#consent")
    page.wait_for_url("**/verify")
    expect(page.locator("#draft-restored")).to_contain_text("已恢复")
    expect(page.locator("#name")).to_have_value("过期用户")
    expect(page.locator("#document_number")).to_have_value("110105199003071234")
    expect(page.locator("#method-face")).to_be_checked()
    screenshot(page, "feedback-draft-restored")
    page.reload()  # restored once: a later visit starts clean
    expect(page.locator("#draft-restored")).to_have_count(0)


def test_r_sec_05_freezing_asks_first_and_cancel_changes_nothing(page: Page) -> None:
    patient_login(page, "冻结确认")
    page.goto("/security")
    page.click("#freeze")
    dialog = page.locator("#confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("确定冻结账户吗")
    screenshot(page, "feedback-confirm-freeze")
    page.click("#confirm-cancel")
    expect(dialog).to_be_hidden()
    page.reload()
    expect(page.locator("#frozen-state")).to_have_attribute("data-frozen", "0")
    page.click("#freeze")
    page.click("#confirm-ok")
    expect(page.locator("#frozen-state")).to_have_attribute("data-frozen", "1")


def test_r_a11y_02_an_unknown_address_is_a_branded_page(page: Page) -> None:
    page.goto("/no-such-page")
    expect(page.locator("#error-page")).to_contain_text("找不到这个页面")
    expect(page.locator("body")).not_to_contain_text("Not Found")
    screenshot(page, "feedback-404")


def test_r_a11y_02_a_browser_webauthn_refusal_is_said_in_chinese(page: Page) -> None:
    """At an address WebAuthn refuses (an IP, not the relying party's domain) Chromium throws
    "This is an invalid domain."; the page says what happened in the page language instead."""
    patient_login(page, "指纹用户")
    page.goto("/security")
    page.click("#register-authenticator")
    status = page.locator("#webauthn-status")
    expect(status).to_have_attribute("data-ok", "0")
    expect(status).to_contain_text("指纹/面容")
    expect(status).not_to_contain_text("invalid")
    expect(status).not_to_contain_text("Error")


def test_r_id_05_the_sms_button_counts_down_before_a_new_code(page: Page) -> None:
    """After a code was sent the button waits 60 s, saying so, before it offers a new code."""
    patient_login(page, "短信用户")
    page.goto("/verify")
    page.check("#method-sms")
    page.fill("#document_number", resident_id(birth=date(1992, 2, 2), sequence=71))
    page.fill("#name", "短信用户")
    page.fill("#phone", "13700007777")
    page.click("#start")
    page.wait_for_url("**/verify/*")
    page.fill("#code", "123456")
    page.click("#confirm")
    expect(page.locator("#code-error")).to_have_text("请先获取验证码")
    page.click("#send-code")
    page.wait_for_url("**?sent=1")
    button = page.locator("#send-code")
    expect(button).to_be_disabled()
    expect(button).to_contain_text("重新获取（")
    expect(button).to_contain_text("秒）")
    screenshot(page, "feedback-sms-countdown")


def test_r_ins_01_the_bind_form_flags_every_missing_field_at_once(page: Page, live_settings: Settings) -> None:
    """Submitting the bind form empty names every missing field next to itself, in Chinese."""
    seed_patient(
        live_settings, openid="o-feedback-0001", region="110105", sequence=7, birth=date(1986, 5, 5), name="周全"
    )
    login_as(page, "o-feedback-0001")
    page.goto("/insurance/bind")
    expect(page.locator("#bind-form")).not_to_contain_text("客户端版本")
    page.click("#bind-submit")
    expect(page.locator("#card_number-error")).to_have_text("必填，请填写")
    expect(page.locator("#face_image-error")).to_have_text("请拍摄一张本人自拍")
    expect(page.locator("#card_number")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#page-error")).to_contain_text("错误码")
    expect(page.locator("body")).not_to_contain_text("Field required")
    screenshot(page, "feedback-bind-missing-fields")
