"""Staff login locks an attacker cannot turn against the user (R-SEC-06): the lock is keyed on
username + address, other addresses only wait a progressive delay, and an admin can unlock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.config import Settings
from medcard.demo import DEMO_PASSWORD
from medcard.kit.clock import clock
from medcard.models import AuditEvent
from tests.factories import Demo, bearer, staff_token

STAFF = "/api/v1/auth/staff"
ATTACKER = "198.51.100.66"
USER = "192.0.2.10"


@pytest.fixture(autouse=True)
def _behind_proxy(app: Any, settings: Settings) -> None:
    """The test client's peer is a trusted proxy, so X-Forwarded-For names the caller."""
    app.state.settings = settings.model_copy(update={"trusted_proxies": ["203.0.113.7"]})


async def _login(client: httpx.AsyncClient, username: str, password: str, address: str) -> httpx.Response:
    return await client.post(
        STAFF, json={"username": username, "password": password}, headers={"X-Forwarded-For": address}
    )


async def test_r_sec_06_five_wrong_passwords_elsewhere_do_not_lock_out_pharmacy1(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    """R-SEC-06: five wrong passwords from one address lock that address for the username
    (15 minutes), while the user at his own address gets in after a one-second delay."""
    start = clock.now()
    clock.freeze(start)
    for _ in range(5):
        assert (await _login(client, "pharmacy1", "guess", ATTACKER)).status_code == 401
    attacker = await _login(client, "pharmacy1", DEMO_PASSWORD, ATTACKER)
    assert attacker.status_code == 429 and attacker.headers["Retry-After"] == str(15 * 60)
    delayed = await _login(client, "pharmacy1", DEMO_PASSWORD, USER)
    assert delayed.status_code == 429 and delayed.headers["Retry-After"] == "1"
    clock.freeze(start + timedelta(seconds=1))
    assert (await _login(client, "pharmacy1", DEMO_PASSWORD, USER)).status_code == 200
    # The user's success does not end the attacker's lock at the attacker's address.
    assert (await _login(client, "pharmacy1", DEMO_PASSWORD, ATTACKER)).status_code == 429


async def test_r_sec_06_delay_doubles_with_each_failure_across_addresses_up_to_the_cap(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    """R-SEC-06: an attacker rotating addresses waits 1 s, 2 s, 4 s … (capped at 60 s) between
    guesses; the server answers 429 + Retry-After instead of sleeping."""
    now = clock.now()
    clock.freeze(now)
    for number in range(5):
        assert (await _login(client, "cashier1", "guess", f"198.51.100.{number}")).status_code == 401
    waits = []
    for number in range(5, 13):
        address = f"198.51.100.{number}"
        refused = await _login(client, "cashier1", "guess", address)
        assert refused.status_code == 429 and refused.json()["code"] == "RATE_LIMITED"
        waits.append(int(refused.headers["Retry-After"]))
        now += timedelta(seconds=waits[-1])
        clock.freeze(now)
        assert (await _login(client, "cashier1", "guess", address)).status_code == 401
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]


async def test_r_sec_06_admin_unlocks_a_locked_username_through_the_api_with_an_audit_row(
    client: httpx.AsyncClient, demo: Demo, db: AsyncSession
) -> None:
    """R-SEC-06: an administrator ends the lock (API); the unlock is an audit row."""
    for _ in range(5):
        await _login(client, "hotline1", "typo", USER)
    assert (await _login(client, "hotline1", DEMO_PASSWORD, USER)).status_code == 429
    admin = bearer(await staff_token(client, "admin1"))
    unlocked = await client.post("/api/v1/auth/staff/unlock", json={"username": "hotline1"}, headers=admin)
    assert unlocked.status_code == 200 and unlocked.json() == {"username": "hotline1", "cleared": 5}
    assert (await _login(client, "hotline1", DEMO_PASSWORD, USER)).status_code == 200
    event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "auth.unlock"))
    assert event is not None and event.actor_label == "admin:admin1"
    assert event.details == {"username": "hotline1", "address": "*", "cleared": 5}


async def test_r_sec_06_only_admins_unlock_and_only_existing_staff(client: httpx.AsyncClient, demo: Demo) -> None:
    """R-SEC-06: a non-admin is refused; an unknown username is 404 STAFF_NOT_FOUND."""
    hotline = bearer(await staff_token(client, "hotline1"))
    refused = await client.post("/api/v1/auth/staff/unlock", json={"username": "cashier1"}, headers=hotline)
    assert refused.status_code == 403
    admin = bearer(await staff_token(client, "admin1"))
    missing = await client.post("/api/v1/auth/staff/unlock", json={"username": "ghost"}, headers=admin)
    assert missing.status_code == 404 and missing.json()["code"] == "STAFF_NOT_FOUND"


async def test_r_sec_06_admin_unlocks_on_the_console_page(client: httpx.AsyncClient, demo: Demo) -> None:
    """R-SEC-06: the console page unlocks one address's lock and says how many refusals it cleared."""
    for _ in range(5):
        await _login(client, "reviewer1", "typo", USER)
    admin = bearer(await staff_token(client, "admin1"))
    assert 'id="menu-login-locks"' in (await client.get("/console", headers=admin)).text
    form = await client.get("/console/login-locks", headers=admin)
    assert form.status_code == 200 and 'id="unlock-form"' in form.text
    done = await client.post("/console/login-locks", data={"username": "reviewer1", "client_ip": USER}, headers=admin)
    assert done.status_code == 303  # Post/Redirect/Get (issue 9)
    shown = await client.get(done.headers["location"], headers=admin)
    assert 'id="unlock-done"' in shown.text and "reviewer1" in shown.text and "5" in shown.text
    assert (await _login(client, "reviewer1", DEMO_PASSWORD, USER)).status_code == 200
