"""An expired session in the middle of a form (issue 9): the page refusal sends the patient to a
login that says "登录已过期" and remembers the page the form was on; logging in returns there. (The
browser keeps what was typed: tests/e2e/test_feedback.py.)"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx

from medcard.adapters import Adapters
from medcard.adapters.oauth import SandboxOAuth
from medcard.config import Settings
from medcard.kit.clock import clock
from tests.factories import Demo

ORIGIN = {"Sec-Fetch-Site": "same-origin"}


async def _page_login(client: httpx.AsyncClient, adapters: Adapters, start: str) -> httpx.Response:
    """The browser's login: /auth/start (with its ``next``), the consent, the callback."""
    assert isinstance(adapters.oauth, SandboxOAuth)
    started = await client.get(start)
    assert started.status_code == 303
    state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
    code = adapters.oauth.issue_code(openid=adapters.oauth.new_openid(), nickname="测试用户")
    return await client.get("/auth/callback", params={"code": code, "state": state})


async def _accept_agreements(client: httpx.AsyncClient) -> None:
    """The new account reads and accepts the agreements on /consent, as a patient does."""
    consent = await client.get("/consent")
    token = re.search(r'name="csrf-token" content="([^"]+)"', consent.text)
    version = re.search(r'name="version" value="([^"]+)"', consent.text)
    assert token and version, consent.text[:300]
    data = {"csrf_token": token.group(1), "version": version.group(1), "agree": "yes", "next": "/me"}
    accepted = await client.post("/consent", data=data, headers=ORIGIN)
    assert accepted.status_code == 303


def _landing(location: str) -> str:
    """Where a login leads once the new account has read the agreements: a first login goes to
    ``/consent?next=…`` (issue 9 consent), which then continues to ``next``."""
    parts = urlsplit(location)
    return parse_qs(parts.query)["next"][0] if parts.path == "/consent" else location


async def test_r_a11y_02_an_expired_session_says_so_and_returns_to_the_form_after_login(
    client: httpx.AsyncClient, adapters: Adapters, settings: Settings, demo: Demo
) -> None:
    clock.freeze(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
    first = await _page_login(client, adapters, "/auth/start")
    assert _landing(first.headers["location"]) == "/me"
    await _accept_agreements(client)
    form_page = await client.get("/verify")
    token = re.search(r'name="csrf-token" content="([^"]+)"', form_page.text)
    assert form_page.status_code == 200 and token is not None

    clock.advance(timedelta(hours=settings.session_hours, minutes=1))  # the session runs out
    posted = await client.post(
        "/verify",
        data={"csrf_token": token.group(1), "method": "face", "name": "王小明"},
        headers={**ORIGIN, "Referer": "http://testserver/verify"},
    )
    assert posted.status_code == 303
    assert posted.headers["location"] == "/login?next=%2Fverify&expired=1"

    login = await client.get(posted.headers["location"])
    assert "登录已过期" in login.text and 'id="session-expired"' in login.text
    assert 'href="/auth/start?next=%2Fverify"' in login.text
    again = await _page_login(client, adapters, "/auth/start?next=%2Fverify")
    assert _landing(again.headers["location"]) == "/verify"


async def test_r_a11y_02_a_first_visit_is_not_called_expired_and_next_stays_on_this_site(
    client: httpx.AsyncClient, adapters: Adapters, demo: Demo
) -> None:
    response = await client.get("/security")
    assert response.headers["location"] == "/login?next=%2Fsecurity"
    assert "登录已过期" not in (await client.get(response.headers["location"])).text
    foreign = await _page_login(client, adapters, "/auth/start?next=%2F%2Fevil.example%2F")
    assert _landing(foreign.headers["location"]) == "/me"
