"""Browser: automated accessibility (R-A11Y-01). axe-core (vendored, tests/e2e/vendor/) runs on
every patient, kiosk and console page; patient pages run in both modes (normal and 长辈模式).
No serious or critical violation is allowed. A keyboard-only walk reaches the payment code and the
card from the home page, and elder mode's payment takes three steps with read-aloud.

Each page is reached the way a person reaches it: login, the agreements, a face verification, the
card application, then the pages themselves.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e.conftest import overflow, patient_login, screenshot, staff_login
from tests.e2e.test_card_flows import CHOICES, fill_details, verify_identity
from tests.e2e.test_codes_payment import pos_scan
from tests.e2e.test_dead_ends import confirm_phone
from tests.e2e.test_insurance_binding import bind
from tests.factories import resident_id

pytestmark = pytest.mark.e2e

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
SERIOUS = ("serious", "critical")
AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations
    .filter((v) => ["serious", "critical"].includes(v.impact))
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help,
                   nodes: v.nodes.slice(0, 4).map((n) => n.target.join(" ")) }));
}"""

PATIENT_PAGES = (
    "/me",
    "/me/account",
    "/me/phone",
    "/legal/privacy",
    "/cards/apply",
    "/cards/apply?hospital=H110002&subject=self",
    "/codes",
    "/insurance",
    "/insurance/bind",
    "/insurance/filings",
    "/insurance/special-diseases",
    "/security",
    "/wards",
    "/verify?purpose=step_up",
)
CONSOLE_PAGES = (
    "/console",
    "/console/cards",
    "/console/audit",
    "/console/hospitals",
    "/console/policy",
    "/console/insurance/dashboard",
    "/console/insurance/review",
    "/console/pos",
    "/console/security/loss-report",
    "/console/security/monitor",
    "/console/security/audit-chain",
    "/console/login-locks",
)


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """Serious and critical axe-core violations of the page now open."""
    page.wait_for_load_state("networkidle")
    page.add_script_tag(path=str(AXE))
    return list(page.evaluate(AXE_RUN))


def note(found: dict[str, list[dict[str, Any]]], key: str, page: Page) -> None:
    violations = axe_violations(page)
    if violations:
        found[key] = violations


def check_pages(page: Page, paths: tuple[str, ...], mode: str) -> dict[str, list[dict[str, Any]]]:
    found = {}
    for path in paths:
        page.goto(path)
        violations = axe_violations(page) + (overflow(page) if mode != "console" else [])
        if violations:
            found[f"{mode} {path}"] = violations
    return found


@pytest.fixture
def axe_context(browser: Browser, live_server: str) -> Iterator[BrowserContext]:
    """A phone-sized context that lets the test inject axe-core despite the page's CSP."""
    context = browser.new_context(
        base_url=live_server, locale="zh-CN", viewport={"width": 390, "height": 844}, bypass_csp=True
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


def patient_with_card(page: Page, name: str, sequence: int) -> None:
    """Login → agreements → face verification → the card application, through the pages."""
    patient_login(page, name)
    patient_with_card_after_login(page, name, sequence)


def elder_mode_on(page: Page) -> None:
    """Turn elder mode on from the home page and wait for the page the form's POST leads to
    (reading the page before that races the navigation)."""
    page.click("#elder-toggle")
    expect(page.locator("body")).to_have_class("patient elder")


def test_r_a11y_01_the_axe_check_fails_on_an_inaccessible_page(axe_context: BrowserContext) -> None:
    """The check can fail for the right reason: an unlabelled input and an image without text."""
    page = axe_context.new_page()
    page.goto("/login")
    page.set_content('<html lang="zh-CN"><title>x</title><main><input id="q"><img src="/x.svg"></main></html>')
    ids = {v["id"] for v in axe_violations(page)}
    assert {"label", "image-alt"} <= ids


def test_r_a11y_01_axe_finds_no_serious_violation_on_patient_pages_in_both_modes(axe_context: BrowserContext) -> None:
    page = axe_context.new_page()
    found: dict[str, list[dict[str, Any]]] = {}
    page.goto("/login")
    note(found, "normal /login", page)
    page.click("#wechat-login")
    page.fill("#nickname", "无障碍")
    page.click("#consent")
    page.wait_for_url("**/consent**")
    note(found, "normal /consent", page)
    page.check("#agree")
    page.click("#consent-accept")
    page.goto("/verify")
    note(found, "normal /verify", page)
    patient_with_card_after_login(page, "无障碍", 71)
    card_path = urlparse(page.url).path
    found.update(check_pages(page, (*PATIENT_PAGES, card_path, card_path + "/edit"), "normal"))

    page.goto("/me")
    elder_mode_on(page)
    found.update(check_pages(page, (*PATIENT_PAGES, card_path, card_path + "/edit"), "elder"))
    page.goto("/codes?step=2")
    expect(page.locator("#code-digits")).to_be_visible()
    note(found, "elder /codes?step=2", page)
    assert not found, found


def patient_with_card_after_login(page: Page, name: str, sequence: int) -> None:
    """Face verification → the card application, for the patient just logged in."""
    verify_identity(page, name=name, number=resident_id(birth=date(1950, 6, 1), sequence=sequence))
    page.click("#apply-card")
    page.click("#hospital-H110001")
    page.fill("#f-address", "北京市东城区示范路9号")
    page.select_option("#f-ethnicity", "01")
    fill_details(page)
    for field, value in CHOICES.items():
        page.select_option(f"#f-{field}", value)
    page.click("#submit-card")
    expect(page.locator("#card-qr svg")).to_be_visible()


def test_r_a11y_01_axe_finds_no_serious_violation_on_console_and_kiosk_pages(
    browser: Browser, live_server: str
) -> None:
    context = browser.new_context(
        base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900}, bypass_csp=True
    )
    try:
        page = context.new_page()
        found: dict[str, list[dict[str, Any]]] = {}
        page.goto("/console/login")
        note(found, "/console/login", page)
        staff_login(page, "admin1")
        found.update(check_pages(page, CONSOLE_PAGES, "console"))
        for listing, link in (("/console/hospitals", "/console/hospitals/"), ("/console/policy", "/console/policy/")):
            page.goto(listing)
            page.locator(f'main a[href^="{link}"]').first.click()
            page.wait_for_load_state()
            note(found, f"console {page.url}", page)
        kiosk = context.new_page()
        staff_login(kiosk, "kiosk1")
        kiosk.wait_for_url("**/kiosk")
        note(found, "/kiosk", kiosk)
        assert not found, found
    finally:
        context.close()


def test_r_a11y_01_keyboard_only_reaches_the_card_and_the_payment_code(page: Page) -> None:
    """From the home page, Tab and Enter alone show the card's QR and open the payment code."""
    patient_with_card(page, "键盘", 72)
    page.goto("/me")

    def tab_to(selector: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    tab_to("#show-card summary")
    page.keyboard.press("Enter")
    expect(page.locator("#home-card-qr svg")).to_be_visible()
    tab_to("#go-codes")
    page.keyboard.press("Enter")
    page.wait_for_url("**/codes")
    expect(page.locator("#code-digits")).to_be_visible()
    tab_to("#refresh-code")
    screenshot(page, "a11y-keyboard-payment-code")

    page.goto("/me")
    tab_to("#home-cards a.list-item")
    page.keyboard.press("Enter")
    page.wait_for_url("**/cards/*")
    expect(page.locator("#card-qr svg")).to_be_visible()
    tab_to("#edit-card")
    page.keyboard.press("Enter")
    page.wait_for_url("**/edit")


def test_r_a11y_01_elder_mode_pays_in_three_steps_with_read_aloud(
    page: Page, browser: Browser, live_server: str
) -> None:
    """Elder mode: large text (≥ 20 px, the code ≥ 32 px), targets ≥ 48 px, the payment split
    into three screens, and the code read aloud by the browser's speech synthesis (zh-CN)."""
    page.add_init_script(
        "window.__spoken = []; Object.defineProperty(window, 'speechSynthesis', { configurable: true, value:"
        " { speak: (u) => window.__spoken.push([u.lang, u.text]), cancel: () => {} } });"
        " window.SpeechSynthesisUtterance = function (t) { this.text = t; };"
    )
    patient_with_card(page, "长辈", 73)
    page.goto("/me")
    elder_mode_on(page)
    base = page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert base >= 20
    page.click("#go-codes")
    expect(page.locator("#elder-steps li.current")).to_contain_text("确认就诊卡")
    target = page.evaluate("document.querySelector('#elder-next').getBoundingClientRect().height")
    assert target >= 48
    page.click("#elder-next")
    expect(page.locator("#elder-steps li.current")).to_contain_text("出示付款码")
    expect(page.locator("#code-digits")).to_be_visible()
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('#code-digits')).fontSize)") >= 32
    page.click("#speak-code")
    spoken = page.evaluate("window.__spoken")
    digits = page.locator("#code-digits").get_attribute("data-code")
    assert digits and spoken[-1][0] == "zh-CN" and " ".join(digits) in spoken[-1][1]
    screenshot(page, "a11y-elder-payment-code")

    cashier_context = browser.new_context(base_url=live_server, locale="zh-CN")
    try:
        cashier = cashier_context.new_page()
        staff_login(cashier, "cashier1")
        cashier.goto("/console/pos")
        pos_scan(cashier, digits, "36.80")
        expect(cashier.locator("#pos-result")).to_be_visible()
    finally:
        cashier_context.close()
    # Step ③: the result replaces the code and is said aloud at once (amount included).
    expect(page.locator("#payment-result")).to_contain_text("支付成功")
    expect(page.locator("#elder-steps li.current")).to_contain_text("听取结果")
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('#payment-amount')).fontSize)") >= 32
    page.wait_for_function("window.__spoken.some((s) => s[1].includes('支付成功'))")
    said = page.evaluate("window.__spoken.map((s) => s[1]).join(' ')")
    assert "36.80" in said
    screenshot(page, "a11y-elder-payment-result")


def test_r_a11y_01_read_aloud_has_a_written_fallback_without_speech(page: Page) -> None:
    page.add_init_script(
        "Object.defineProperty(window, 'speechSynthesis', { configurable: true, value: undefined });"
        " delete Window.prototype.speechSynthesis; window.SpeechSynthesisUtterance = undefined;"
    )
    patient_with_card(page, "无语音", 74)
    page.goto("/me")
    elder_mode_on(page)
    page.goto("/codes?step=2")
    expect(page.locator("#speak-missing")).to_be_visible()
    expect(page.locator("#speak-code")).to_be_hidden()


SIZES = """() => {
  const main = document.querySelector("main");
  const visible = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== "hidden" && s.display !== "none"; };
  const small = [];
  const targets = "a.button, button, input:not([type=hidden]), select, summary, .service-grid a";
  for (const el of main.querySelectorAll(targets)) {
    if (!visible(el)) continue;
    const r = el.getBoundingClientRect();
    const name = el.id || el.textContent.trim().slice(0, 20);
    if (r.height < 48 || r.width < 48) small.push(["target", name, r.width, r.height]);
  }
  const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode; const el = node.parentElement;
    if (!node.textContent.trim() || !el || !visible(el) || el.closest("svg, .visually-hidden")) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < 20) small.push(["text", node.textContent.trim().slice(0, 20), size]);
  }
  for (const el of main.querySelectorAll(".amount, .health-card-number, .code-digits")) {
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (visible(el) && size < 32) small.push(["amount", el.id, size]);
  }
  return small;
}"""


def elder_screen(page: Page, path: str, more_link: str, behind_more: str) -> dict[str, Any]:
    """One screen in 长辈模式: one primary task, large targets and text; the secondary actions are
    behind its 更多 link."""
    page.goto(path)
    page.wait_for_load_state("networkidle")
    found = {
        "primaries": page.locator("main .button.primary:visible").count(),
        "hidden": page.locator(behind_more).count(),
        "sizes": page.evaluate(SIZES),
        "axe": axe_violations(page),
    }
    page.click(more_link)
    page.wait_for_load_state()
    found["after_more"] = page.locator(behind_more).count()
    return found


def test_r_a11y_01_elder_mode_card_insurance_and_family_show_one_task_per_screen(
    axe_context: BrowserContext,
) -> None:
    """R-A11Y-01 (互联网应用适老化): in 长辈模式 the home, card, insurance and family pages each show
    one primary task (the service grid reduced to four large tiles, everything else behind 更多),
    tap targets ≥ 48 px, text ≥ 20 px, amounts and numbers ≥ 32 px, and axe finds nothing serious."""
    page = axe_context.new_page()
    patient_with_card(page, "适老化", 27)
    card_path = urlparse(page.url).path
    page.goto("/me/phone")
    confirm_phone(page, "13512347575")
    page.goto("/me")
    bind(page, region_code="110000")
    page.goto("/me")
    elder_mode_on(page)
    screens = {
        "home": elder_screen(page, "/me", "#elder-more", "#go-security"),
        "card": elder_screen(page, card_path, "#card-more", "#edit-card"),
        "insurance": elder_screen(page, "/insurance", "#insurance-more", "#go-filings"),
        "family": elder_screen(page, "/family", "#family-more", "#member-form"),
    }
    for name, found in screens.items():
        assert found["primaries"] == 1, (name, found)
        assert (found["hidden"], found["after_more"]) == (0, 1), (name, found)
        assert found["sizes"] == [], (name, found["sizes"])
        assert found["axe"] == [], (name, found["axe"])
    page.goto("/me")
    expect(page.locator("#elder-services .service-grid li")).to_have_count(4)
    screenshot(page, "a11y-elder-home-tiles")
    page.click("#go-insurance")  # the 医保码 tile opens the code itself
    expect(page.locator("#voucher-qr svg")).to_be_visible()
    sizes = page.evaluate(SIZES)
    assert sizes == [], sizes
    screenshot(page, "a11y-elder-insurance-code")
