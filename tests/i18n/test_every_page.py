"""R-A11Y-02 (zh-CN first, English second): every page in English carries no Chinese, and every
page in Chinese no stray English, outside personal data and an allow-list of codes and brands.

The pages are the app's GET routes that answer HTML, enumerated from the app itself: a route
added later and not walked here fails :func:`test_r_a11y_02_the_walk_covers_every_html_route`.
The walk logs in as a patient (OAuth, agreements, face verification, card application, payment
code, insurance binding, a bill paid online, a relative added: all through the API, as a person
does) and as every staff role, then opens each page in both languages. Personal data on the
pages (the demo person's name and address, a relative's name, HIS item names) is masked first,
never the page skipped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.his import CATALOGUE
from medcard.adapters.insurance import SandboxInsurancePlatform
from medcard.adapters.sms import SandboxSms
from medcard.config import Settings
from medcard.kit.masking import mask_name
from medcard.policy.service import load_shipped
from tests.card.conftest import complete_form
from tests.factories import Demo, bearer, patient_token, staff_token
from tests.family.helpers import add, person
from tests.identity.helpers import face, start

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*")
# Codes, brands, units and formats a Chinese page may show as they are (never a sentence).
ALLOWED_ENGLISH = {
    "MedCard", "HTTP", "PDF", "JPEG", "JPG", "PNG", "SVG", "QR", "ID", "SMS", "HIS", "POS", "API",
    "MB", "KB", "UTC", "VIP", "WebAuthn", "WeChat", "USA", "CHN", "YYYY", "MM", "DD", "Sandbox",
    "AB", "Rh", "openid",  # blood groups; the WeChat OAuth field the sandbox login names
}  # fmt: skip
CODE = re.compile(r"^[A-Z0-9_]{2,}$")  # stable error codes, document-type codes, bill numbers
HOLDER = "张伟"
RELATIVE = "张建国"
FORM = complete_form()
STAFF_NAMES = tuple(
    f"Demo {role}" for role in ("admin", "cashier", "pharmacy", "hotline", "reviewer", "finance", "kiosk")
)
PERSONAL = (HOLDER, RELATIVE, FORM["address"], FORM["employer"], FORM["emergency_name"], "测试用户", *STAFF_NAMES)


class _Text(HTMLParser):
    """The text a person reads or hears: text nodes and the labelling attributes, minus scripts
    and any element marked as another language (the 中文 / English switch)."""

    SKIP = frozenset({"script", "style", "template", "textarea", "code", "kbd", "samp"})
    READ = ("title", "aria-label", "placeholder", "alt", "data-confirm")

    def __init__(self, lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.lang, self.parts, self.stack = lang, [], []  # type: ignore[var-annotated]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        other = values.get("lang") not in (None, "", self.lang, "zh-CN" if self.lang == "zh" else "en")
        machine = values.get("translate") == "no"  # a code shown as it is (HTML's translate="no")
        hidden = tag in self.SKIP or other or machine or any(self.stack)
        if tag not in ("br", "img", "input", "meta", "link", "hr", "source", "wbr"):
            self.stack.append(hidden)
        if not hidden:
            self.parts.extend(str(values[name]) for name in self.READ if values.get(name))
            if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
                self.parts.append(str(values["value"]))

    def handle_endtag(self, tag: str) -> None:
        if self.stack and tag not in ("br", "img", "input", "meta", "link", "hr", "source", "wbr"):
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if not any(self.stack):
            self.parts.append(data)


def readable_text(html: str, lang: str, data: frozenset[str] = frozenset()) -> str:
    """What the page says, with personal data and other systems' data (``data``) masked."""
    parser = _Text(lang)
    parser.feed(html)
    text = "\n".join(parser.parts)
    for value in sorted({*PERSONAL, *data}, key=len, reverse=True):
        text = text.replace(value, " ").replace(mask_name(value), " ")
    return text


def chinese_values(value: Any) -> set[str]:
    """Every Chinese string inside a JSON answer (the HIS's department and item names)."""
    if isinstance(value, dict):
        return {text for item in value.values() for text in chinese_values(item)}
    if isinstance(value, list):
        return {text for item in value for text in chinese_values(item)}
    return {value} if isinstance(value, str) and CJK.search(value) else set()


def stray_chinese(text: str) -> list[str]:
    return sorted({line.strip() for line in text.splitlines() if CJK.search(line)})


def stray_english(text: str) -> list[str]:
    """Lines with an English word that is not a code, a brand, a unit or a single letter."""
    found = set()
    for line in text.splitlines():
        for token in line.split():
            if any(ch.isdigit() for ch in token) or "_" in token or "." in token.strip(".,;:()"):
                continue  # numbers, codes, bill numbers, dotted action names
            words = [w for w in WORD.findall(token) if len(w) > 1 and w not in ALLOWED_ENGLISH and not CODE.match(w)]
            if words:
                found.add(line.strip())
    return sorted(found)


def _is_html(route: APIRoute) -> bool:
    response_class = getattr(route.response_class, "value", route.response_class)  # may be a DefaultPlaceholder
    return response_class is HTMLResponse


def html_routes(app: FastAPI) -> set[str]:
    """Path templates of the GET routes whose response class is HTML (the pages)."""
    found: set[str] = set()

    def walk(routes: list[Any], prefix: str) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                walk(inner.routes, prefix + (route.include_context.prefix or ""))
            elif isinstance(route, APIRoute) and "GET" in route.methods and _is_html(route):
                found.add(prefix + route.path)

    walk(list(app.routes), "")
    return found


@dataclass
class Walk:
    """Concrete URLs per route template, each with the headers of who opens it."""

    visits: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    data: set[str] = field(default_factory=set)
    """Text that is data of another system, shown as it came: HIS items, the texted SMS."""

    def add(self, template: str, url: str, headers: dict[str, str] | None = None) -> None:
        self.visits.append((template, url, headers or {}))


async def _patient_flow(client: httpx.AsyncClient, adapters: Adapters, settings: Settings) -> dict[str, Any]:
    """A patient reaches every state the pages show, through the API."""
    headers = bearer(await patient_token(client, adapters))
    number = person(settings, HOLDER, date(1988, 6, 15))
    session_id = (await start(client, headers, name=HOLDER, document_number=number)).json()["id"]
    assert (await face(client, headers, session_id)).status_code == 200
    card = await client.post("/api/v1/cards", json={"hospital": "H110001", "fields": FORM}, headers=headers)
    assert card.status_code == 201, card.text
    card_id = card.json()["id"]
    code = await client.post("/api/v1/codes/payment", json={"card_id": card_id}, headers=headers)
    assert code.status_code == 200, code.text

    sent = await client.post("/api/v1/identity/phone/code", json={"phone": FORM["phone"]}, headers=headers)
    assert sent.status_code == 202, sent.text
    assert isinstance(adapters.sms, SandboxSms)
    texted = adapters.sms.last_to(FORM["phone"])
    found = re.search(r"(\d{6})", texted.text if texted else "")
    assert found is not None
    confirmed = await client.put(
        "/api/v1/identity/phone", json={"phone": FORM["phone"], "code": found.group(1)}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text

    platform = adapters.insurance
    assert isinstance(platform, SandboxInsurancePlatform)
    truth = platform.person(number, HOLDER)
    scheme = {"310": "employee", "390": "resident", "380": "new_rural"}.get(truth.scheme_code or "", "employee")
    binding = await client.post(
        "/api/v1/insurance/bindings",
        json={
            "card_id": card_id,
            "card_number": truth.card_number,
            "scheme": scheme,
            "region_code": number[:2] + "0000",
            "client_version": "7.1.0",
            "face_image": "c2VsZmllIFNBTkRCT1gtTElWRQ==",
        },
        headers=headers,
    )
    assert binding.status_code == 201, binding.text

    bills = await client.get("/api/v1/settlement/bills", params={"card_id": card_id}, headers=headers)
    assert bills.status_code == 200 and bills.json(), bills.text
    assert len(bills.json()) >= 2, bills.text  # one to pay, one left open for its page
    bill_number, open_bill = bills.json()[0]["bill_number"], bills.json()[-1]["bill_number"]
    order = await client.post(
        "/api/v1/settlement/orders",
        json={"card_id": card_id, "bill_number": bill_number},
        headers={**headers, "Idempotency-Key": "walk-order-1"},
    )
    assert order.status_code in (200, 201), order.text

    relative = person(settings, RELATIVE, date(1960, 5, 1))
    member = await add(client, headers, name=RELATIVE, number=relative, relation="parent")
    assert member.status_code == 201, member.text
    return {
        "headers": headers,
        "verification": session_id,
        "card": card_id,
        "code": code.json()["id"],
        "code_digits": code.json()["code"],
        "binding": binding.json()["id"],
        "bill": open_bill,
        "order": order.json()["id"],
        "his_data": chinese_values(bills.json()),
    }


async def plan(client: httpx.AsyncClient, adapters: Adapters, settings: Settings, demo: Demo) -> Walk:
    state = await _patient_flow(client, adapters, settings)
    patient = state["headers"]
    staff = {role: bearer(await staff_token(client, f"{role}1")) for role in demo.staff}
    walk = Walk(data=set(state["his_data"]))
    for path in ("/login", "/console/login", "/legal/privacy"):
        walk.add({"/legal/privacy": "/legal/{key}"}.get(path, path), path)
    for path in (
        "/", "/me", "/consent", "/me/account", "/me/phone", "/verify", "/wards", "/cards/apply",
        "/codes", "/insurance", "/insurance/bind", "/insurance/filings",
        "/insurance/special-diseases", "/security", "/security/step-up", "/family", "/family/bill", "/bills",
    ):  # fmt: skip
        walk.add(path, path, patient)
    walk.add("/cards/apply", "/cards/apply?hospital=H110002&subject=self", patient)
    walk.add("/cards/existing", "/cards/existing?hospital=H110002", patient)
    walk.add("/verify", "/verify?purpose=step_up", patient)
    walk.add("/codes", "/codes?step=2", patient)
    walk.add("/verify/{verification_id}", f"/verify/{state['verification']}", patient)
    walk.add("/cards/{card_id}", f"/cards/{state['card']}", patient)
    walk.add("/cards/{card_id}/edit", f"/cards/{state['card']}/edit", patient)
    walk.add("/codes/{code_id}/status", f"/codes/{state['code']}/status", patient)
    walk.add("/insurance/{binding_id}/balance", f"/insurance/{state['binding']}/balance", patient)
    walk.add("/bills/{bill_number}", f"/bills/{state['bill']}", patient)
    walk.add("/payments/{order_id}", f"/payments/{state['order']}", patient)

    admin = staff["admin"]
    redeemed = await client.post(
        "/api/v1/codes/redeem", json={"code": state["code_digits"], "amount_fen": 1_000}, headers=staff["cashier"]
    )
    assert redeemed.status_code == 200, redeemed.text  # the code page now shows 支付成功
    reconcile = await client.post("/console/finance/reconcile", data={"day": date.today().isoformat()}, headers=admin)
    assert reconcile.status_code == 303, reconcile.text
    report = urlsplit(reconcile.headers["location"]).path
    hospital = demo.hospital.id
    for path in (
        "/console", "/console/cards", "/console/audit", "/console/hospitals", "/console/policy",
        "/console/insurance/dashboard", "/console/insurance/review", "/console/pos", "/console/finance",
        "/console/security/loss-report", "/console/security/monitor", "/console/security/monitor/live",
        "/console/security/audit-chain", "/console/login-locks", "/console/family/reviews",
    ):  # fmt: skip
        walk.add(path, path, admin)
    walk.add("/console/cards", f"/console/cards?card_id={state['card']}", admin)
    walk.add("/console/hospitals/{hospital_id}", f"/console/hospitals/{hospital}", admin)
    listing = (await client.get("/console/policy", headers=admin)).text
    policy = re.search(r'href="(/console/policy/[^/"]+/[^/"]+)"', listing)
    assert policy is not None, "no policy document listed"
    walk.add("/console/policy/{kind}/{key}", policy.group(1), admin)
    walk.add("/console/finance/reconciliation/{report_id}", report, admin)
    walk.add("/console/orders/{order_id}/refund", f"/console/orders/{state['order']}/refund", admin)
    for headers in staff.values():  # each role's own console home and bar
        walk.add("/console", "/console", headers)
    walk.add("/kiosk", "/kiosk", staff["kiosk"])
    authorize = await client.get("/auth/start")  # the login button leads to the (sandbox) WeChat consent
    assert authorize.status_code in (302, 303, 307), authorize.text
    walk.add("/sandbox/oauth/authorize", authorize.headers["location"])
    for path in ("/sandbox/sms", "/sandbox/payments", "/sandbox/his"):
        walk.add(path, path, patient)
    assert isinstance(adapters.sms, SandboxSms)
    walk.data |= {message.text for message in adapters.sms.outbox}  # the inbox shows what the phone got
    walk.data |= {str(line[1]) for lines in CATALOGUE.values() for line in lines}  # the HIS's drug and item names
    return walk


@pytest.fixture
async def walk(client: httpx.AsyncClient, adapters: Adapters, settings: Settings, demo: Demo, db: AsyncSession) -> Walk:
    await load_shipped(db)  # the shipped insurance policy, as `medcard demo-data` loads it
    return await plan(client, adapters, settings, demo)


async def _open_all(client: httpx.AsyncClient, walk: Walk, lang: str) -> dict[str, str]:
    client.cookies.set("medcard_lang", lang)
    pages: dict[str, str] = {}
    for _template, url, headers in walk.visits:
        response = await client.get(url, headers=headers, follow_redirects=True)
        assert response.status_code == 200, f"{url} ({lang}): {response.status_code}"
        pages[f"{url} as {headers.get('Authorization', 'visitor')[-6:]}"] = response.text
    client.cookies.delete("medcard_lang")
    return pages


async def test_r_a11y_02_the_walk_covers_every_html_route(app: FastAPI, walk: Walk) -> None:
    """R-A11Y-02: the walk below opens every HTML route of the app (a new page must join it)."""
    routes = html_routes(app)
    assert len(routes) > 40  # the enumeration itself works
    assert routes - {template for template, _url, _headers in walk.visits} == set()


async def test_r_a11y_02_english_pages_carry_no_chinese(client: httpx.AsyncClient, walk: Walk) -> None:
    """R-A11Y-02: every page in English; Chinese only in personal data (masked before the check)."""
    pages, masked = await _open_all(client, walk, "en"), frozenset(walk.data)
    found = {url: lines for url, html in pages.items() if (lines := stray_chinese(readable_text(html, "en", masked)))}
    assert found == {}, "\n".join(f"{url}: {items}" for url, items in found.items())


async def test_r_a11y_02_chinese_pages_carry_no_stray_english(client: httpx.AsyncClient, walk: Walk) -> None:
    """R-A11Y-02: every page in Chinese (the default); English only for codes, brands and units."""
    pages, masked = await _open_all(client, walk, "zh"), frozenset(walk.data)
    found = {url: words for url, html in pages.items() if (words := stray_english(readable_text(html, "zh", masked)))}
    assert found == {}, "\n".join(f"{url}: {items}" for url, items in found.items())


def test_r_a11y_02_the_checks_see_a_leak() -> None:
    """R-A11Y-02: the detectors are not blind (a Chinese word in English text and the reverse)."""
    english = readable_text('<p>Card <span>就诊卡</span></p><a lang="zh-CN">中文</a>', "en")
    assert stray_chinese(english) == ["就诊卡"]
    chinese = readable_text(f'<p>就诊卡 Cards {HOLDER} CARD_FIELD_INVALID PDF</p><a lang="en">English</a>', "zh")
    assert stray_english(chinese) == ["就诊卡 Cards   CARD_FIELD_INVALID PDF"]
