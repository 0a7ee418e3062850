"""CSRF defence of cookie-authenticated pages and API calls (R-SEC-05, R-SEC-08; ADR 0008).

The attack these tests replay: a page on another origin of the same site (the app on
127.0.0.1:8000, the attacker on localhost:9000 or a sibling subdomain) makes the victim's browser
post a form. ``SameSite=Lax`` lets the session cookie travel along, so without these checks a
logged-in patient was frozen and every staff form could be submitted.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

import medcard.web
from medcard.config import Settings
from medcard.guards.csrf import token_for
from medcard.kit.crypto import derive_key
from tests.codes.conftest import Holder, make_holder
from tests.csrf import csrf_header, form_token
from tests.factories import Demo, staff_token

SIBLING = "http://localhost:9000"


async def _frozen(client: httpx.AsyncClient, holder: Holder) -> bool:
    state = await client.get("/api/v1/security", headers=holder.headers)
    return bool(state.json()["frozen"])


def _as_browser(client: httpx.AsyncClient, holder: Holder) -> None:
    """The patient's browser: the session token travels only as the HttpOnly cookie."""
    client.cookies.set("medcard_session", holder.headers["Authorization"].removeprefix("Bearer "))


async def test_r_sec_05_a_forged_page_freeze_without_token_is_refused(
    client: httpx.AsyncClient, holder: Holder
) -> None:
    _as_browser(client, holder)
    forged = await client.post("/security/freeze", headers={"Origin": SIBLING})
    assert forged.status_code == 403 and "CSRF_REFUSED" in forged.text
    assert "请求来源无法确认" in forged.text and forged.headers["content-type"].startswith("text/html")
    tokenless = await client.post("/security/freeze")  # no Origin either (an old browser)
    assert tokenless.status_code == 403 and "CSRF_REFUSED" in tokenless.text
    assert not await _frozen(client, holder)


async def test_r_sec_05_a_forged_api_freeze_with_the_page_cookie_is_refused(
    client: httpx.AsyncClient, holder: Holder
) -> None:
    _as_browser(client, holder)
    forged = await client.post("/api/v1/security/freeze", headers={"Sec-Fetch-Site": "same-site"})
    assert forged.status_code == 403
    assert forged.headers["content-type"] == "application/problem+json"
    problem = forged.json()
    assert problem["code"] == "CSRF_REFUSED" and problem["title_zh"] and problem["hint_zh"]
    cookie_only = await client.post("/api/v1/security/freeze")
    assert cookie_only.status_code == 403 and cookie_only.json()["code"] == "CSRF_REFUSED"
    assert not await _frozen(client, holder)


async def test_r_sec_05_a_valid_token_from_a_sibling_origin_is_still_refused(
    client: httpx.AsyncClient, holder: Holder
) -> None:
    """The origin check stands on its own: a stolen token does not help a sibling origin."""
    _as_browser(client, holder)
    token = await form_token(client, "/security")
    for headers in ({"Sec-Fetch-Site": "same-site"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": SIBLING}):
        refused = await client.post("/security/freeze", data={"csrf_token": token}, headers=headers)
        assert refused.status_code == 403 and "CSRF_REFUSED" in refused.text, headers
    assert not await _frozen(client, holder)


async def test_r_sec_05_the_in_app_freeze_still_works(client: httpx.AsyncClient, holder: Holder) -> None:
    _as_browser(client, holder)
    token = await form_token(client, "/security")
    frozen = await client.post(
        "/security/freeze",
        data={"csrf_token": token},
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
        follow_redirects=True,
    )
    assert frozen.status_code == 200 and 'data-frozen="1"' in frozen.text
    assert await _frozen(client, holder)


async def test_r_sec_05_the_api_takes_a_cookie_with_the_header_token_and_a_bearer_without(
    client: httpx.AsyncClient, holder: Holder
) -> None:
    """ADR 0008: a cookie-authenticated API call (the page's own script) needs ``X-CSRF-Token``;
    a bearer-token client carries no ambient credential and needs none."""
    _as_browser(client, holder)
    header = await csrf_header(client, "/security")
    scripted = await client.post("/api/v1/security/freeze", headers=header)
    assert scripted.status_code == 200 and scripted.json()["frozen"] is True
    client.cookies.clear()
    bearer_client = await client.post(
        "/api/v1/codes/payment", json={"card_id": str(holder.card_id)}, headers=holder.headers
    )
    assert bearer_client.json()["code"] != "CSRF_REFUSED"  # reached the service: a frozen account's refusal


async def test_r_sec_05_a_token_is_bound_to_its_session(
    client: httpx.AsyncClient, holder: Holder, db, adapters, demo: Demo, settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """Another login's token (the attacker's own page) does not pass with the victim's cookie."""
    other = await make_holder(db, client, adapters, demo, name="钱攻击")
    attacker_token = token_for(
        derive_key(settings.secret_key, "csrf"), other.headers["Authorization"].removeprefix("Bearer ")
    )
    _as_browser(client, holder)
    refused = await client.post("/security/freeze", data={"csrf_token": attacker_token})
    assert refused.status_code == 403 and not await _frozen(client, holder)
    htmx = await client.post(f"/codes/fresh?card_id={holder.card_id}", headers={"X-CSRF-Token": attacker_token})
    assert htmx.status_code == 403


@pytest.mark.parametrize(
    ("username", "path", "form"),
    [
        ("hotline1", "/console/security/loss-report", {"card_number": "x", "name": "x", "document_last4": "1234"}),
        ("admin1", "/console/cards/{card_id}/change", {"field": "phone", "value": "13800000000", "reason": "x"}),
        ("admin1", "/console/hospitals/{hospital_id}", {"name_zh": "x"}),
        ("admin1", "/console/policy/region/110000", {"data": "{}", "note": "x"}),
        ("cashier1", "/console/pos", {"code": "1", "amount": "1"}),
        ("admin1", "/console/logout", {}),
    ],
)
async def test_r_sec_08_every_staff_form_refuses_a_tokenless_post(
    client: httpx.AsyncClient, holder: Holder, demo: Demo, username: str, path: str, form: dict[str, str]
) -> None:
    client.cookies.set("medcard_staff", await staff_token(client, username))
    target = path.format(card_id=holder.card_id, hospital_id=demo.hospital.id)
    forged = await client.post(target, data=form, headers={"Origin": SIBLING})
    assert forged.status_code == 403 and "CSRF_REFUSED" in forged.text
    tokenless = await client.post(target, data=form)
    assert tokenless.status_code == 403 and "CSRF_REFUSED" in tokenless.text
    token = await form_token(client, "/console")
    passed = await client.post(target, data={**form, "csrf_token": token})
    assert passed.status_code != 403 or "CSRF_REFUSED" not in passed.text


async def test_r_sec_08_pre_session_forms_carry_a_token_too(client: httpx.AsyncClient, demo: Demo) -> None:
    """Login and OAuth consent happen before any session: their token is bound to a random
    pre-session cookie set with the page (a forged login would plant the attacker's account)."""
    forged = await client.post("/console/login", data={"username": "admin1", "password": "x" * 12})
    assert forged.status_code == 403 and "CSRF_REFUSED" in forged.text
    token = await form_token(client, "/console/login")
    assert client.cookies.get("medcard_csrf")
    tried = await client.post("/console/login", data={"username": "admin1", "password": "x", "csrf_token": token})
    assert tried.status_code == 401  # reached the login check
    consent_page = "/sandbox/oauth/authorize?redirect_uri=/auth/callback&state=s1"
    consent = {"redirect_uri": "/auth/callback", "state": "s1", "nickname": "x", "openid": ""}
    assert (await client.post("/sandbox/oauth/authorize", data=consent)).status_code == 403
    token = await form_token(client, consent_page)
    given = await client.post("/sandbox/oauth/authorize", data={**consent, "csrf_token": token})
    assert given.status_code == 303
    client.cookies.clear()
    assert (await client.post("/sandbox/oauth/authorize", data={**consent, "csrf_token": token})).status_code == 403


async def test_r_sec_08_multipart_forms_carry_the_token_in_the_body(client: httpx.AsyncClient, holder: Holder) -> None:
    """A photo upload form is multipart: the guard reads the token from the body it replays."""
    _as_browser(client, holder)
    token = await form_token(client, "/security")
    photo = {"photo": ("id.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")}
    refused = await client.post("/cards/apply/photo", files=photo)
    assert refused.status_code == 403 and "CSRF_REFUSED" in refused.text
    passed = await client.post("/cards/apply/photo", files=photo, data={"csrf_token": token})
    assert "CSRF_REFUSED" not in passed.text


async def test_r_sec_05_a_planted_pre_session_cookie_does_not_unlock_a_session(
    client: httpx.AsyncClient, holder: Holder, settings: Settings
) -> None:
    """A sibling subdomain can plant cookies for the whole site (cookie tossing): its own
    pre-session cookie and the token that goes with it must not pass for a logged-in patient."""
    _as_browser(client, holder)
    client.cookies.set("medcard_csrf", "planted-by-a-sibling")
    planted = token_for(derive_key(settings.secret_key, "csrf"), "planted-by-a-sibling")
    refused = await client.post("/security/freeze", data={"csrf_token": planted})
    assert refused.status_code == 403 and "CSRF_REFUSED" in refused.text
    api = await client.post("/api/v1/security/freeze", headers={"X-CSRF-Token": planted})
    assert api.status_code == 403 and not await _frozen(client, holder)


def test_r_sec_08_every_post_form_in_the_templates_carries_the_token() -> None:
    """A form added later without ``{{ csrf_field() }}`` would be refused for every user; this
    names it at test time instead."""
    templates = Path(medcard.web.__file__).parent / "templates"
    missing = [
        f"{path.relative_to(templates)}: {match.group(0)[:80]}"
        for path in sorted(templates.rglob("*.html"))
        for match in re.finditer(r"<form\b[^>]*method=\"post\"[^>]*>(.{0,40})", path.read_text(), re.I | re.S)
        if "csrf_field()" not in match.group(1)
    ]
    assert not missing, missing
