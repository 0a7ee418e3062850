"""No account enumeration (R-SEC-06): an unknown username or card number is answered exactly
like a wrong answer for an existing one, after the same work.

Tests never time anything: "the same work" is proved by counting it — the SQL statements sent
(a SQLAlchemy event listener), the scrypt derivations, the SM4 decryptions and the constant-time
comparisons (monkeypatched counters). The timing comparison lives in ``bench/enumeration.py``."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from medcard.card.rules import make_card_number
from medcard.demo import DEMO_PASSWORD
from medcard.kit.clock import clock
from medcard.kit.crypto import hash_password
from medcard.kit.keys import KeyRing
from medcard.models import StaffUser
from tests.codes.conftest import Holder, holder
from tests.csrf import form_token
from tests.factories import Demo, bearer, staff_token

__all__ = ["holder"]


@dataclass
class Work:
    """What one request did: the statements it sent and the costly calls it made."""

    statements: list[str] = field(default_factory=list)
    scrypt: int = 0
    decrypts: int = 0
    comparisons: int = 0


@dataclass
class Meter:
    """Counts the work of whatever runs inside :meth:`measure`."""

    current: Work | None = None

    async def measure(self, call: Callable[[], Awaitable[httpx.Response]]) -> tuple[httpx.Response, Work]:
        self.current = Work()
        try:
            response = await call()
        finally:
            work, self.current = self.current, None
        return response, work


@pytest.fixture
def meter(engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch) -> Iterator[Meter]:
    meter = Meter()

    def on_statement(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        text = " ".join(statement.split())
        # Savepoints are the test harness's rolled-back transaction, not the request's work.
        if meter.current is not None and "SAVEPOINT" not in text:
            meter.current.statements.append(text)

    scrypt, decrypt, compare = hashlib.scrypt, KeyRing.decrypt, hmac.compare_digest

    def counting_scrypt(*args: Any, **kwargs: Any) -> bytes:
        if meter.current is not None:
            meter.current.scrypt += 1
        return scrypt(*args, **kwargs)

    def counting_decrypt(self: KeyRing, stored: str, context: str) -> bytes:
        if meter.current is not None:
            meter.current.decrypts += 1
        return decrypt(self, stored, context)

    def counting_compare(a: Any, b: Any) -> bool:
        if meter.current is not None:
            meter.current.comparisons += 1
        return compare(a, b)

    monkeypatch.setattr(hashlib, "scrypt", counting_scrypt)
    monkeypatch.setattr(KeyRing, "decrypt", counting_decrypt)
    monkeypatch.setattr(hmac, "compare_digest", counting_compare)
    event.listen(engine.sync_engine, "before_cursor_execute", on_statement)
    yield meter
    event.remove(engine.sync_engine, "before_cursor_execute", on_statement)


def _same_body(first: httpx.Response, second: httpx.Response) -> None:
    assert first.status_code == second.status_code
    assert first.headers["content-type"] == second.headers["content-type"]
    assert {**first.json(), "instance": ""} == {**second.json(), "instance": ""}


def _card_work(statements: list[str]) -> list[str]:
    """The statements after the caller's login was resolved: the login's own reads depend on which
    staff rows the test's shared session already holds, not on the card asked about."""
    return [text for text in statements if not text.startswith(("SELECT auth_session", "SELECT staff_user"))]


def _same_work(first: Work, second: Work, *, after_login: bool = False) -> None:
    pick = _card_work if after_login else list
    assert pick(first.statements) == pick(second.statements)
    assert (first.scrypt, first.decrypts, first.comparisons) == (second.scrypt, second.decrypts, second.comparisons)


async def test_r_sec_06_staff_login_unknown_user_and_wrong_password_look_the_same(
    client: httpx.AsyncClient, demo: Demo, meter: Meter
) -> None:
    """R-SEC-06: same status, code and body for an unknown username and a wrong password, after
    the same statements and one scrypt derivation each (a dummy hash is checked for unknown users)."""

    async def unknown() -> httpx.Response:
        return await client.post("/api/v1/auth/staff", json={"username": "nobody1", "password": "x" * 12})

    async def wrong() -> httpx.Response:
        return await client.post("/api/v1/auth/staff", json={"username": "admin1", "password": "x" * 12})

    unknown_answer, unknown_work = await meter.measure(unknown)
    wrong_answer, wrong_work = await meter.measure(wrong)
    _same_body(unknown_answer, wrong_answer)
    _same_work(unknown_work, wrong_work)
    assert unknown_work.scrypt == 1 and unknown_work.statements
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
    """R-SEC-06: the lock counts per username, known or not, so it reveals nothing either.

    The clock stands still, so both locks were taken at the same instant and their remaining
    wait is the same (on a loaded machine the second lock was a few seconds younger)."""
    clock.freeze(clock.now())
    answers = {}
    for username in ("admin1", "ghost-user"):
        for _ in range(5):
            await client.post("/api/v1/auth/staff", json={"username": username, "password": "wrong"})
        answers[username] = await client.post("/api/v1/auth/staff", json={"username": username, "password": "wrong"})
    _same_body(answers["admin1"], answers["ghost-user"])
    assert answers["admin1"].status_code == 429


async def _county_staff(client: httpx.AsyncClient, db: AsyncSession, demo: Demo, role: str) -> dict[str, str]:
    db.add(
        StaffUser(
            username=f"county-{role}",
            display_name="县医院",
            password_hash=hash_password(DEMO_PASSWORD),
            role=role,
            hospital_id=demo.county_hospital.id,
        )
    )
    await db.commit()
    return bearer(await staff_token(client, f"county-{role}"))


async def test_r_sec_06_hotline_loss_report_answers_alike_for_missing_foreign_and_existing_cards(
    client: httpx.AsyncClient, holder: Holder, demo: Demo, db: AsyncSession, meter: Meter
) -> None:
    """R-SEC-06 / R-SEC-05: the hotline's loss report answers a missing card number, another
    hospital's card (right answers) and an existing card with wrong answers alike, after the
    same work: one query, three decryptions, three constant-time comparisons."""
    hotline = bearer(await staff_token(client, "hotline1"))
    county = await _county_staff(client, db, demo, "hotline")
    wrong = {"name": "不对", "document_last4": "0000", "phone_last4": "0000"}
    right = {"name": holder.name, "document_last4": holder.document_number[-4:], "phone_last4": holder.phone[-4:]}

    def report(body: dict[str, str], headers: dict[str, str]) -> Callable[[], Awaitable[httpx.Response]]:
        return lambda: client.post("/api/v1/security/loss-reports", json=body, headers=headers)

    missing_body = {**wrong, "card_number": "9000000000000001"}
    await report(missing_body, hotline)()  # the dummy answers are encrypted once per key ring
    existing = await meter.measure(report({**wrong, "card_number": holder.card_number}, hotline))
    missing = await meter.measure(report(missing_body, hotline))
    foreign = await meter.measure(report({**right, "card_number": holder.card_number}, county))
    for answer, work in (missing, foreign):
        _same_body(existing[0], answer)
        _same_work(existing[1], work, after_login=True)
    assert existing[0].status_code == 403 and existing[1].decrypts == 3 and existing[1].comparisons >= 3


async def test_r_sec_06_staff_card_lookup_hides_other_hospitals_cards(
    client: httpx.AsyncClient, holder: Holder, demo: Demo, db: AsyncSession, meter: Meter
) -> None:
    """R-SEC-06: staff of another hospital get the same answer for an existing card (not theirs)
    as for a missing one, after the same statements and no decryption at all."""
    elsewhere = await _county_staff(client, db, demo, "admin")
    missing_number = make_card_number(holder.card_number[:6], 99_999_999)
    assert missing_number != holder.card_number

    def lookup(number: str) -> Callable[[], Awaitable[httpx.Response]]:
        return lambda: client.get("/api/v1/staff/cards", params={"card_number": number}, headers=elsewhere)

    theirs = await meter.measure(lookup(holder.card_number))
    missing = await meter.measure(lookup(missing_number))
    assert theirs[0].status_code == missing[0].status_code == 404
    _same_body(theirs[0], missing[0])
    _same_work(theirs[1], missing[1], after_login=True)
    assert theirs[1].decrypts == 0
