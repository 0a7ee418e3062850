"""No account enumeration (R-SEC-06): an unknown username or card number is answered exactly
like a wrong answer for an existing one, in similar time."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.card.rules import make_card_number
from medcard.config import Settings
from medcard.demo import DEMO_PASSWORD
from medcard.kit.crypto import hash_password
from medcard.models import StaffUser
from tests.codes.conftest import Holder, holder
from tests.csrf import form_token
from tests.factories import Demo, bearer, staff_token

__all__ = ["holder"]
TRIES = 20


def _same_body(first: httpx.Response, second: httpx.Response) -> None:
    assert first.status_code == second.status_code
    assert first.headers["content-type"] == second.headers["content-type"]
    assert first.json() == second.json()


async def _median_seconds(call: Callable[[int], Awaitable[httpx.Response]]) -> float:
    times = []
    for attempt in range(TRIES):
        started = time.perf_counter()
        await call(attempt)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _similar(a: float, b: float) -> None:
    """Generous bounds (shared CI machines): within 3x of each other either way."""
    assert a < 3 * b and b < 3 * a, (a, b)


def _no_locks(app: Any, settings: Settings) -> None:
    app.state.settings = settings.model_copy(update={"login_failures_per_subject": 1000, "login_failures_per_ip": 1000})


async def test_r_sec_06_staff_login_unknown_user_and_wrong_password_look_the_same(
    client: httpx.AsyncClient, demo: Demo, app: Any, settings: Settings
) -> None:
    """R-SEC-06: same status, code and body for an unknown username and a wrong password, and
    similar median time (a dummy scrypt hash is checked for unknown users)."""
    _no_locks(app, settings)

    async def unknown(attempt: int) -> httpx.Response:
        return await client.post("/api/v1/auth/staff", json={"username": f"nobody{attempt}", "password": "x" * 12})

    async def wrong(attempt: int) -> httpx.Response:
        return await client.post("/api/v1/auth/staff", json={"username": "admin1", "password": "x" * 12})

    _same_body(await unknown(0), await wrong(0))
    _similar(await _median_seconds(unknown), await _median_seconds(wrong))
    token = await form_token(client, "/console/login")
    page_unknown = await client.post(
        "/console/login", data={"username": "nobody", "password": "x", "csrf_token": token}
    )
    page_wrong = await client.post("/console/login", data={"username": "admin1", "password": "x", "csrf_token": token})
    assert page_unknown.status_code == page_wrong.status_code == 401
    assert page_unknown.text.replace("nobody", "admin1") == page_wrong.text


async def test_r_sec_06_a_locked_username_answers_alike_whether_it_exists(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    """R-SEC-06: the lock counts per username, known or not, so it reveals nothing either."""
    answers = {}
    for username in ("admin1", "ghost-user"):
        for _ in range(5):
            await client.post("/api/v1/auth/staff", json={"username": username, "password": "wrong"})
        answers[username] = await client.post("/api/v1/auth/staff", json={"username": username, "password": "wrong"})
    _same_body(answers["admin1"], answers["ghost-user"])
    assert answers["admin1"].status_code == 429


async def test_r_sec_06_hotline_lookup_answers_alike_for_missing_and_existing_cards(
    client: httpx.AsyncClient, holder: Holder, app: Any, settings: Settings
) -> None:
    """R-SEC-06 / R-SEC-05: the hotline's loss report answers a missing card number exactly like
    an existing card with wrong answers, in similar time."""
    hotline = bearer(await staff_token(client, "hotline1"))
    answers = {"name": "不对", "document_last4": "0000", "phone_last4": "0000"}

    async def existing(attempt: int) -> httpx.Response:
        body = {**answers, "card_number": holder.card_number}
        return await client.post("/api/v1/security/loss-reports", json=body, headers=hotline)

    async def missing(attempt: int) -> httpx.Response:
        body = {**answers, "card_number": f"{9000000000000000 + attempt}"}
        return await client.post("/api/v1/security/loss-reports", json=body, headers=hotline)

    _same_body(await existing(0), await missing(0))
    _similar(await _median_seconds(existing), await _median_seconds(missing))


async def test_r_sec_06_staff_card_lookup_hides_other_hospitals_cards(
    client: httpx.AsyncClient, holder: Holder, demo: Demo, db: AsyncSession
) -> None:
    """R-SEC-06: staff of another hospital get the same answer for an existing card (not theirs)
    as for a missing one."""
    assert demo.county_hospital.id != holder.card.hospital_id
    db.add(
        StaffUser(
            username="county-admin",
            display_name="县医院管理员",
            password_hash=hash_password(DEMO_PASSWORD),
            role="admin",
            hospital_id=demo.county_hospital.id,
        )
    )
    await db.commit()
    elsewhere = bearer(await staff_token(client, "county-admin"))
    missing_number = make_card_number(holder.card_number[:6], 99_999_999)
    assert missing_number != holder.card_number
    theirs = await client.get("/api/v1/staff/cards", params={"card_number": holder.card_number}, headers=elsewhere)
    missing = await client.get("/api/v1/staff/cards", params={"card_number": missing_number}, headers=elsewhere)
    assert theirs.status_code == missing.status_code == 404
    assert {**theirs.json(), "instance": ""} == {**missing.json(), "instance": ""}
