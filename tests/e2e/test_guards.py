"""Browser: a page on a sibling origin cannot act with the patient's login (R-SEC-05, ADR 0008),
and the main pages run under the strict Content-Security-Policy without a violation (R-SEC-08)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from medcard.config import Settings
from tests.e2e.conftest import patient_login, screenshot, staff_login
from tests.e2e.test_codes_payment import current_code, give_card, pos_scan

pytestmark = pytest.mark.e2e

ATTACK_PAGE = """<!doctype html><html><body><p>赢取大奖!</p>
<form id="forged" method="post" action="{target}"><input type="hidden" name="confirm" value="1"></form>
<script>document.getElementById("forged").submit();</script></body></html>"""


class _Attacker(BaseHTTPRequestHandler):
    """``/attack?target=URL``: a page that auto-submits a form to ``URL`` as soon as it loads."""

    def do_GET(self) -> None:
        target = parse_qs(urlsplit(self.path).query).get("target", [""])[0]
        body = ATTACK_PAGE.format(target=target.replace('"', "")).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def sibling_origin() -> Iterator[str]:
    """The attacker's site: the same host as the app (so the same *site*, and SameSite=Lax
    cookies travel), another port (so another *origin*)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Attacker)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_r_sec_05_a_sibling_origin_cannot_freeze_the_patient_but_the_app_can(page: Page, live_server: str) -> None:
    patient_login(page, "跨站冻结用户")
    with sibling_origin() as evil:
        for target in (f"{live_server}/security/freeze", f"{live_server}/api/v1/security/freeze"):
            page.goto(f"{evil}/attack?target={quote(target, safe='')}")
            page.wait_for_url(target)
            expect(page.locator("body")).to_contain_text("CSRF_REFUSED")
            if "/api/" not in target:
                expect(page.locator("body")).to_contain_text("请求来源无法确认")
                screenshot(page, "csrf-refused")
    page.goto("/security")
    expect(page.locator("#frozen-state")).to_have_attribute("data-frozen", "0")
    page.click("#freeze")
    page.click("#confirm-ok")  # the confirmation step before 冻结 (issue 9)
    expect(page.locator("#frozen-state")).to_have_attribute("data-frozen", "1")


CSP_LISTENER = """window.__csp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__csp.push([e.violatedDirective, e.blockedURI, e.sourceFile + ":" + e.lineNumber, e.sample].join(" "));
});"""


def _watch(page: Page) -> list[str]:
    messages: list[str] = []
    page.add_init_script(CSP_LISTENER)
    page.on("console", lambda message: messages.append(message.text))
    return messages


def _visit(page: Page, path: str, violations: dict[str, list[str]]) -> None:
    response = page.goto(path)
    assert response is not None and response.ok, path
    assert "script-src 'self';" in response.headers["content-security-policy"]
    page.wait_for_load_state("networkidle")
    violations[path] = page.evaluate("window.__csp")


def test_r_sec_08_main_pages_run_under_the_csp_without_violations(
    browser: Browser, page: Page, live_server: str, live_settings: Settings
) -> None:
    console = _watch(page)
    patient_login(page, "内容策略用户")
    give_card(live_settings, "内容策略用户")
    violations: dict[str, list[str]] = {}
    _visit(page, "/codes", violations)
    code = current_code(page)  # the HTMX request (with its CSRF header) filled the code in
    _visit(page, "/me", violations)
    card = page.locator('a[href^="/cards/"]').first.get_attribute("href")
    assert card
    for path in (card, "/security", "/verify"):
        _visit(page, path, violations)

    staff = browser.new_context(base_url=live_server, locale="zh-CN")
    pos = staff.new_page()
    staff_console = _watch(pos)
    staff_login(pos, "cashier1")
    _visit(pos, "/console/pos", violations)
    pos_scan(pos, code)
    expect(pos.locator("#charge-form")).to_be_visible()  # the scan's result offers the patient's bills
    violations["/console/pos (after a scan)"] = pos.evaluate("window.__csp")
    screenshot(pos, "csp-console-pos")
    staff.close()

    assert all(not found for found in violations.values()), violations
    reported = [text for text in console + staff_console if "Content Security Policy" in text]
    assert not reported, reported


def test_r_sec_05_a_stale_page_says_so_when_htmx_is_refused(page: Page, live_settings: Settings) -> None:
    """The payment code page's HTMX refresh with a token of an older login is refused, and the
    page tells the patient to reload instead of failing silently."""
    patient_login(page, "过期页面用户")
    give_card(live_settings, "过期页面用户")
    page.goto("/codes")
    current_code(page)
    page.evaluate("document.querySelector('meta[name=\"csrf-token\"]').content = 'stale-token'")
    page.click("#refresh-code")
    expect(page.locator("#stale-page")).to_contain_text("页面已过期")
    page.reload()
    current_code(page)
    expect(page.locator("#stale-page")).to_have_count(0)
