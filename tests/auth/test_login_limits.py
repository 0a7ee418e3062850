"""Login rate limits per username / account and per address, kept in the database (R-SEC-06)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from medcard.adapters import Adapters
from medcard.adapters.oauth import SandboxOAuth
from medcard.demo import DEMO_PASSWORD
from medcard.kit.clock import clock
from tests.csrf import form_token
from tests.factories import Demo

STAFF = "/api/v1/auth/staff"


async def _staff(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await client.post(STAFF, json={"username": username, "password": password})


async def test_r_sec_06_five_wrong_passwords_lock_the_username_with_retry_after(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    """R-SEC-06: 5 wrong passwords in 15 minutes lock the username (even the right password is
    refused, 429 + Retry-After) until the window has passed; then the right password works."""
    start = clock.now()
    clock.freeze(start)
    for _ in range(5):
        wrong = await _staff(client, "cashier1", "not-the-password")
        assert wrong.status_code == 401 and wrong.json()["code"] == "AUTH_INVALID_CREDENTIALS"
    locked = await _staff(client, "cashier1", DEMO_PASSWORD)
    assert locked.status_code == 429 and locked.json()["code"] == "RATE_LIMITED"
    assert locked.headers["Retry-After"] == str(15 * 60)
    assert (await _staff(client, "kiosk1", DEMO_PASSWORD)).status_code == 200  # other usernames go on
    clock.freeze(start + timedelta(minutes=10))
    assert (await _staff(client, "cashier1", DEMO_PASSWORD)).headers["Retry-After"] == str(5 * 60)
    clock.freeze(start + timedelta(minutes=15, seconds=1))
    assert (await _staff(client, "cashier1", DEMO_PASSWORD)).status_code == 200


async def test_r_sec_06_a_right_password_ends_the_run_of_failures(client: httpx.AsyncClient, demo: Demo) -> None:
    """R-SEC-06: failures count in a row: a successful login starts the count again."""
    for _ in range(4):
        assert (await _staff(client, "pharmacy1", "wrong")).status_code == 401
    assert (await _staff(client, "pharmacy1", DEMO_PASSWORD)).status_code == 200
    for _ in range(4):
        assert (await _staff(client, "pharmacy1", "wrong")).status_code == 401
    assert (await _staff(client, "pharmacy1", DEMO_PASSWORD)).status_code == 200


async def test_r_sec_06_per_address_ceiling_across_usernames(
    client: httpx.AsyncClient, demo: Demo, app: Any, settings: Any
) -> None:
    """R-SEC-06: one address guessing many usernames is stopped by the per-address ceiling."""
    app.state.settings = settings.model_copy(update={"login_failures_per_ip": 6})
    for number in range(6):
        assert (await _staff(client, f"guess{number}", "password")).status_code == 401
    stopped = await _staff(client, "reviewer1", DEMO_PASSWORD)
    assert stopped.status_code == 429 and int(stopped.headers["Retry-After"]) > 0


async def test_r_sec_06_console_login_page_shows_the_lock(client: httpx.AsyncClient, demo: Demo) -> None:
    """R-SEC-06: the console login page counts failures like the API and shows the lock (429)."""
    token = await form_token(client, "/console/login")
    for _ in range(5):
        page = await client.post(
            "/console/login", data={"username": "hotline1", "password": "wrong", "csrf_token": token}
        )
        assert page.status_code == 401 and "用户名或密码错误" in page.text
    locked = await client.post(
        "/console/login", data={"username": "hotline1", "password": DEMO_PASSWORD, "csrf_token": token}
    )
    assert locked.status_code == 429 and "操作过于频繁" in locked.text and locked.headers["Retry-After"]


async def test_r_sec_06_patient_login_refused_codes_count_per_address(
    client: httpx.AsyncClient, adapters: Adapters, app: Any, settings: Any
) -> None:
    """R-SEC-06: forged OAuth codes from one address are counted; past the ceiling even a valid
    code from that address waits."""
    app.state.settings = settings.model_copy(update={"login_failures_per_ip": 3})
    for _ in range(3):
        forged = await client.post("/api/v1/auth/oauth", json={"code": "oc.forged-code.xxxx"})
        assert forged.status_code == 401 and forged.json()["code"] == "AUTH_OAUTH_CODE_INVALID"
    assert isinstance(adapters.oauth, SandboxOAuth)
    good = adapters.oauth.issue_code(openid=adapters.oauth.new_openid(), nickname="限流")
    stopped = await client.post("/api/v1/auth/oauth", json={"code": good})
    assert stopped.status_code == 429 and stopped.headers["Retry-After"]


async def test_r_sec_06_patient_logins_per_account_ceiling(
    client: httpx.AsyncClient, adapters: Adapters, app: Any, settings: Any
) -> None:
    """R-SEC-06: one account opening sessions in a loop is stopped per account."""
    app.state.settings = settings.model_copy(update={"patient_logins_per_account": 3})
    assert isinstance(adapters.oauth, SandboxOAuth)
    openid = adapters.oauth.new_openid()
    for _ in range(3):
        code = adapters.oauth.issue_code(openid=openid, nickname="限流")
        assert (await client.post("/api/v1/auth/oauth", json={"code": code})).status_code == 200
    code = adapters.oauth.issue_code(openid=openid, nickname="限流")
    stopped = await client.post("/api/v1/auth/oauth", json={"code": code})
    assert stopped.status_code == 429 and stopped.json()["code"] == "RATE_LIMITED"
