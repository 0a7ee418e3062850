"""Verification sessions through the API (R-ID-02, R-ID-03): face, bank card, insurance, expiry, ownership."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.config import Settings
from medcard.identity.repository import IdentityRepository
from medcard.kit.clock import clock
from medcard.kit.keys import blind_index
from medcard.models import AuditEvent, Person, VerificationSession
from tests.identity.helpers import (
    SPOOF_FACE,
    bank_card,
    face,
    resident_failing_name_check,
    resident_passing,
    start,
)

PHONE = "13912345678"


async def _verified(client: httpx.AsyncClient, headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    response = await client.get("/api/v1/identity/me", headers=headers)
    assert response.status_code == 200
    return response.json()


async def test_r_id_02_face_session_passes_and_account_holds_the_person(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    number = resident_passing(settings, "张伟")
    started = await start(client, patient, document_number=number)
    assert started.status_code == 201, started.text
    body = started.json()
    assert (body["status"], body["attempts_left"], body["max_attempts"]) == ("pending", 3, 3)
    assert number not in started.text  # masked in answers

    passed = await face(client, patient, body["id"])
    assert passed.status_code == 200, passed.text
    assert passed.json()["status"] == "passed"
    assert passed.json()["provider_reference"].startswith("SBX-")

    me = await _verified(client, patient)
    assert me["verified"] is True
    assert (me["person"]["name"], me["person"]["gender"], me["person"]["birth_date"]) == (
        "张伟",
        "M" if int(number[16]) % 2 else "F",
        "1988-06-15",
    )
    assert me["person"]["verification_method"] == "face"
    person = await db.scalar(select(Person).where(Person.document_number_index == blind_index("document", number)))
    assert person is not None and person.verified_at is not None


async def test_r_id_03_face_fails_after_three_attempts(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    session_id = (await start(client, patient, document_number=resident_passing(settings, "张伟"))).json()["id"]
    first = await face(client, patient, session_id, SPOOF_FACE)
    assert (first.status_code, first.json()["code"]) == (400, "FACE_CHECK_FAILED")
    assert "还可尝试 2 次" in first.json()["title_zh"]
    second = await face(client, patient, session_id, SPOOF_FACE)
    assert "1 attempt(s) left" in second.json()["title"]
    third = await face(client, patient, session_id, SPOOF_FACE)
    assert (third.status_code, third.json()["code"]) == (409, "FACE_ATTEMPTS_EXHAUSTED")
    assert "其他方式" in third.json()["hint_zh"]

    fourth = await face(client, patient, session_id)  # even a live face is refused now
    assert (fourth.status_code, fourth.json()["code"]) == (409, "VERIFICATION_SESSION_FAILED")
    assert "start again" in fourth.json()["hint"].lower() and "another method" in fourth.json()["hint"]

    state = (await client.get(f"/api/v1/identity/sessions/{session_id}", headers=patient)).json()
    assert (state["status"], state["attempts"], state["attempts_left"]) == ("failed", 3, 0)
    assert state["failure_code"] == "FACE_NOT_LIVE"
    assert (await _verified(client, patient))["verified"] is False


async def test_r_id_03_a_wrong_attempt_is_counted_although_the_request_failed(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    session_id = (await start(client, patient, document_number=resident_passing(settings, "张伟"))).json()["id"]
    assert (await face(client, patient, session_id, SPOOF_FACE)).status_code == 400
    state = (await client.get(f"/api/v1/identity/sessions/{session_id}", headers=patient)).json()
    assert (state["attempts"], state["attempts_left"], state["failure_code"]) == (1, 2, "FACE_NOT_LIVE")
    refused = await db.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.subject_id == session_id, AuditEvent.action == "identity.face_attempt")
    )
    assert refused == 1


async def test_r_id_03_third_attempt_may_still_pass(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    session_id = (await start(client, patient, document_number=resident_passing(settings, "张伟"))).json()["id"]
    for _ in range(2):
        assert (await face(client, patient, session_id, SPOOF_FACE)).status_code == 400
    last = await face(client, patient, session_id)
    assert (last.status_code, last.json()["status"], last.json()["attempts"]) == (200, "passed", 3)


async def test_r_id_02_name_and_number_mismatch_fails_the_session(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    number = resident_failing_name_check(settings, "张伟")
    session_id = (await start(client, patient, document_number=number)).json()["id"]
    refused = await face(client, patient, session_id)
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (
        400,
        "NAME_NUMBER_MISMATCH",
        "name",
    )
    state = (await client.get(f"/api/v1/identity/sessions/{session_id}", headers=patient)).json()
    assert (state["status"], state["failure_code"], state["attempts"]) == ("failed", "NAME_NUMBER_MISMATCH", 0)


async def test_r_id_02_bank_card_four_factor_passes(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    number = resident_passing(settings, "张伟")
    card = bank_card(settings, number, PHONE, passes=True)
    session_id = (await start(client, patient, method="bank_card", document_number=number, phone=PHONE)).json()["id"]
    done = await client.post(
        f"/api/v1/identity/sessions/{session_id}/confirm",
        json={"method": "bank_card", "bank_card_number": card},
        headers=patient,
    )
    assert (done.status_code, done.json()["status"]) == (200, "passed")
    assert card not in done.text
    assert (await _verified(client, patient))["person"]["verification_method"] == "bank_card"


async def test_r_id_02_bank_card_mismatch_fails_the_session_with_its_code(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    number = resident_passing(settings, "张伟")
    card = bank_card(settings, number, PHONE, passes=False)
    session_id = (await start(client, patient, method="bank_card", document_number=number, phone=PHONE)).json()["id"]
    refused = await client.post(
        f"/api/v1/identity/sessions/{session_id}/confirm",
        json={"method": "bank_card", "bank_card_number": card},
        headers=patient,
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "BANK_CARD_CHECK_FAILED")
    state = (await client.get(f"/api/v1/identity/sessions/{session_id}", headers=patient)).json()
    assert (state["status"], state["failure_code"]) == ("failed", "BANK_CARD_MISMATCH")
    assert (
        await db.scalar(select(Person).where(Person.document_number_index == blind_index("document", number))) is None
    )


async def test_r_id_02_bank_card_needs_a_phone(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    refused = await start(client, patient, method="bank_card", document_number=resident_passing(settings, "张伟"))
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (400, "FIELD_REQUIRED", "phone")


async def test_r_id_02_insurance_record_match_passes(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    number = resident_passing(settings, "张伟", insurance=True)
    session_id = (await start(client, patient, method="insurance", document_number=number)).json()["id"]
    done = await client.post(
        f"/api/v1/identity/sessions/{session_id}/confirm", json={"method": "insurance"}, headers=patient
    )
    assert (done.status_code, done.json()["status"]) == (200, "passed")


async def test_r_id_02_no_insurance_record_fails_the_session(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    number = resident_passing(settings, "张伟", insurance=False)
    session_id = (await start(client, patient, method="insurance", document_number=number)).json()["id"]
    refused = await client.post(
        f"/api/v1/identity/sessions/{session_id}/confirm", json={"method": "insurance"}, headers=patient
    )
    assert (refused.status_code, refused.json()["code"]) == (400, "INSURANCE_RECORD_NOT_FOUND")
    assert "1 至 2 个工作日" in refused.json()["hint_zh"]
    state = (await client.get(f"/api/v1/identity/sessions/{session_id}", headers=patient)).json()
    assert (state["status"], state["failure_code"]) == ("failed", "NO_INSURANCE_RECORD")


async def test_r_id_02_session_expires_after_the_configured_minutes(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    clock.freeze(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    session_id = (await start(client, patient, document_number=resident_passing(settings, "张伟"))).json()["id"]
    clock.advance(timedelta(minutes=settings.verification_session_minutes, seconds=1))
    reading = (await client.get(f"/api/v1/identity/sessions/{session_id}", headers=patient)).json()
    assert reading["status"] == "expired"
    refused = await face(client, patient, session_id)
    assert (refused.status_code, refused.json()["code"]) == (410, "VERIFICATION_SESSION_EXPIRED")
    again = await face(client, patient, session_id)
    assert again.json()["code"] == "VERIFICATION_SESSION_EXPIRED"
    assert (await client.get(f"/api/v1/identity/sessions/{session_id}", headers=patient)).json()["failure_code"] == (
        "SESSION_EXPIRED"
    )


async def test_r_id_02_identity_held_by_another_account_is_refused_with_hotline_hint(
    client: httpx.AsyncClient, patient: dict[str, str], other_patient: dict[str, str], settings: Settings
) -> None:
    number = resident_passing(settings, "张伟")
    first = (await start(client, patient, document_number=number)).json()["id"]
    assert (await face(client, patient, first)).status_code == 200
    second = (await start(client, other_patient, document_number=number)).json()["id"]
    refused = await face(client, other_patient, second)
    assert (refused.status_code, refused.json()["code"]) == (409, "IDENTITY_HELD_BY_ANOTHER_ACCOUNT")
    assert "12320" in refused.json()["hint_zh"]
    state = (await client.get(f"/api/v1/identity/sessions/{second}", headers=other_patient)).json()
    assert (state["status"], state["failure_code"]) == ("failed", "IDENTITY_HELD_BY_ANOTHER_ACCOUNT")
    assert (await _verified(client, other_patient))["verified"] is False


async def test_r_id_02_verified_account_cannot_start_again(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    session_id = (await start(client, patient, document_number=resident_passing(settings, "张伟"))).json()["id"]
    assert (await face(client, patient, session_id)).status_code == 200
    again = await start(client, patient, document_number=resident_passing(settings, "李娜", region="110108"))
    assert (again.status_code, again.json()["code"]) == (409, "ACCOUNT_ALREADY_VERIFIED")


async def test_r_id_02_another_patients_session_is_404(
    client: httpx.AsyncClient, patient: dict[str, str], other_patient: dict[str, str], settings: Settings
) -> None:
    session_id = (await start(client, patient, document_number=resident_passing(settings, "张伟"))).json()["id"]
    assert (await client.get(f"/api/v1/identity/sessions/{session_id}", headers=other_patient)).status_code == 404
    assert (await face(client, other_patient, session_id)).status_code == 404


async def test_r_id_02_a_step_of_another_method_is_refused(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    session_id = (await start(client, patient, document_number=resident_passing(settings, "张伟"))).json()["id"]
    refused = await client.post(
        f"/api/v1/identity/sessions/{session_id}/confirm", json={"method": "insurance"}, headers=patient
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "VERIFICATION_METHOD_MISMATCH")


async def test_r_id_02_every_session_keeps_its_outcome_for_pass_rates(
    client: httpx.AsyncClient,
    patient: dict[str, str],
    other_patient: dict[str, str],
    settings: Settings,
    db: AsyncSession,
) -> None:
    failing = (await start(client, patient, document_number=resident_passing(settings, "张伟"))).json()["id"]
    for _ in range(3):
        await face(client, patient, failing, SPOOF_FACE)
    passing = (
        await start(client, other_patient, document_number=resident_passing(settings, "李娜"), name="李娜")
    ).json()
    await face(client, other_patient, passing["id"])
    query = select(VerificationSession.method, VerificationSession.status, VerificationSession.failure_code)
    rows = (await db.execute(query)).all()  # this test's transaction only
    assert ("face", "failed", "FACE_NOT_LIVE") in rows and ("face", "passed", None) in rows


async def test_r_id_02_login_required(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/identity/sessions", json={})
    assert response.status_code in (401, 422)
    assert (await client.get("/api/v1/identity/me")).status_code == 401


async def test_r_id_02_concurrent_verification_of_the_same_identity_is_409_not_500(
    client: httpx.AsyncClient,
    patient: dict[str, str],
    other_patient: dict[str, str],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two accounts verify the same new identity at once: the loser read "no such person" before
    the winner committed, so its insert collides on the unique document key."""
    number = resident_passing(settings, "张伟")
    first = (await start(client, patient, document_number=number)).json()["id"]
    second = (await start(client, other_patient, document_number=number)).json()["id"]
    assert (await face(client, patient, first)).status_code == 200

    async def stale_read(self: IdentityRepository, document_type: str, document_number: str) -> None:
        return None  # what the loser saw before the winner's commit

    monkeypatch.setattr(IdentityRepository, "person_by_document", stale_read)
    refused = await face(client, other_patient, second)
    assert (refused.status_code, refused.json()["code"]) == (409, "IDENTITY_HELD_BY_ANOTHER_ACCOUNT")
    monkeypatch.undo()
    state = (await client.get(f"/api/v1/identity/sessions/{second}", headers=other_patient)).json()
    assert (state["status"], state["failure_code"]) == ("failed", "IDENTITY_HELD_BY_ANOTHER_ACCOUNT")
    assert (await _verified(client, patient))["verified"] is True
