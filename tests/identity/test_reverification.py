"""Re-verification of a verified account for a purpose (R-ID-02, R-ID-03, R-SEC-03): the account
re-proves its OWN identity by any method; a plain verification stays refused, another person's
document is refused, face attempts are still limited, and the PIN reset accepts it."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.config import Settings
from medcard.identity.rules import safe_return_path
from medcard.models import Person, VerificationSession
from tests.identity.helpers import LIVE_FACE, SPOOF_FACE, face, resident_passing, start

PIN = "/api/v1/security/pin"


async def verified(client: httpx.AsyncClient, headers: dict[str, str], settings: Settings, name: str) -> str:
    """Verify the account by face through the API; returns the document number."""
    number = resident_passing(settings, name, birth=date(1986, 4, 4))
    session_id = (await start(client, headers, document_number=number, name=name)).json()["id"]
    assert (await face(client, headers, session_id)).json()["status"] == "passed"
    return number


async def reverify(
    client: httpx.AsyncClient, headers: dict[str, str], number: str, name: str, purpose: str, **extra: Any
) -> httpx.Response:
    return await start(client, headers, document_number=number, name=name, purpose=purpose, **extra)


async def test_r_id_02_a_verified_account_cannot_start_a_plain_verification(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    number = await verified(client, patient, settings, "王芳")
    again = await start(client, patient, document_number=number, name="王芳")
    assert (again.status_code, again.json()["code"]) == (409, "ACCOUNT_ALREADY_VERIFIED")
    assert "重新认证" in again.json()["hint_zh"]


async def test_r_id_02_reverification_for_a_purpose_passes_and_changes_no_identity(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    number = await verified(client, patient, settings, "王芳")
    started = await reverify(client, patient, number, "王芳", "step_up")
    assert started.status_code == 201, started.text
    assert started.json()["purpose"] == "step_up"
    passed = await face(client, patient, started.json()["id"])
    assert passed.json()["status"] == "passed"
    assert await db.scalar(select(func.count()).select_from(Person)) == 1
    me = (await client.get("/api/v1/identity/me", headers=patient)).json()
    assert me["person"]["name"] == "王芳" and me["person"]["verification_method"] == "face"


async def test_r_id_02_reverification_with_someone_elses_document_is_refused(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    number = await verified(client, patient, settings, "王芳")
    stranger = resident_passing(settings, "赵强", birth=date(1990, 1, 1))
    refused = await reverify(client, patient, stranger, "赵强", "pin_reset")
    assert (refused.status_code, refused.json()["code"]) == (403, "REVERIFICATION_IDENTITY_MISMATCH")
    assert refused.json()["field"] == "document_number" and "他人的证件" in refused.json()["hint_zh"]
    wrong_name = await reverify(client, patient, number, "王小芳", "pin_reset")
    assert wrong_name.json()["code"] == "REVERIFICATION_IDENTITY_MISMATCH"
    assert stranger not in refused.text
    sessions = await db.scalar(select(func.count()).select_from(VerificationSession))
    assert sessions == 1  # only the original verification: nothing was opened for the stranger


async def test_r_id_02_reverification_needs_a_verified_account(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    number = resident_passing(settings, "王芳", birth=date(1986, 4, 4))
    refused = await reverify(client, patient, number, "王芳", "reactivation")
    assert (refused.status_code, refused.json()["code"]) == (403, "REVERIFICATION_NEEDS_IDENTITY")


async def test_r_id_03_reverification_by_face_still_allows_three_attempts(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    number = await verified(client, patient, settings, "王芳")
    session_id = (await reverify(client, patient, number, "王芳", "pin_reset")).json()["id"]
    for _ in range(2):
        assert (await face(client, patient, session_id, SPOOF_FACE)).json()["code"] == "FACE_CHECK_FAILED"
    third = await face(client, patient, session_id, SPOOF_FACE)
    assert (third.status_code, third.json()["code"]) == (409, "FACE_ATTEMPTS_EXHAUSTED")
    assert (await face(client, patient, session_id)).json()["code"] == "VERIFICATION_SESSION_FAILED"


async def test_r_sec_03_pin_reset_with_a_pin_reset_reverification(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    """The whole reset through the API: set, forget, re-verify for pin_reset, reset with it."""
    number = await verified(client, patient, settings, "王芳")
    assert (await client.put(PIN, json={"pin": "135790"}, headers=patient)).status_code == 200
    without = await client.put(PIN, json={"pin": "975310"}, headers=patient)
    assert without.json()["code"] == "REVERIFICATION_REQUIRED"

    step_up = (await reverify(client, patient, number, "王芳", "step_up")).json()["id"]
    await face(client, patient, step_up)
    wrong_purpose = await client.put(PIN, json={"pin": "975310", "verification_id": step_up}, headers=patient)
    assert wrong_purpose.json()["code"] == "REVERIFICATION_REQUIRED"  # a step-up verification resets nothing

    reset = (await reverify(client, patient, number, "王芳", "pin_reset")).json()["id"]
    await face(client, patient, reset)
    done = await client.put(PIN, json={"pin": "975310", "verification_id": reset}, headers=patient)
    assert done.status_code == 200, done.text
    check = await client.post(f"{PIN}/check", json={"pin": "975310"}, headers=patient)
    assert check.status_code == 200


def test_r_id_02_only_local_paths_are_return_paths() -> None:
    assert safe_return_path("/security?reverified=pin_reset") == "/security?reverified=pin_reset"
    assert safe_return_path("/security/step-up") == "/security/step-up"
    for unsafe in ("https://evil.example/", "//evil.example", "/\\evil.example", "javascript:alert(1)", "", None):
        assert safe_return_path(unsafe) is None, unsafe
    assert safe_return_path("/a b") is None and safe_return_path("/" + "a" * 300) is None


async def test_r_id_02_reverify_page_is_startable_and_returns_to_the_task(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    """The /verify page of a verified account offers the re-verification for a purpose and, once
    the face passes, sends the patient back to the page it came from (a local path only)."""
    number = await verified(client, patient, settings, "王芳")
    plain = await client.get("/verify", headers=patient)
    assert 'id="already-verified"' in plain.text
    form = await client.get("/verify?purpose=pin_reset&next=/security%3Freverified%3Dpin_reset", headers=patient)
    assert 'id="reverify-title"' in form.text and "重置支付密码" in form.text
    assert 'name="next" value="/security?reverified=pin_reset"' in form.text
    evil = await client.get("/verify?purpose=pin_reset&next=//evil.example", headers=patient)
    assert 'name="next" value=""' in evil.text

    data = {"method": "face", "document_type": "resident_id", "name": "王芳", "document_number": number}
    started = await client.post(
        "/verify", data={**data, "purpose": "pin_reset", "next": "/security?reverified=pin_reset"}, headers=patient
    )
    assert started.status_code == 303
    step = started.headers["location"]
    files = {"image": ("selfie.png", LIVE_FACE, "image/png")}
    passed = await client.post(f"{step}/face", files=files, headers=patient)
    assert (passed.status_code, passed.headers["location"]) == (303, "/security?reverified=pin_reset")

    stranger = resident_passing(settings, "赵强", birth=date(1990, 1, 1))
    refused = await client.post(
        "/verify",
        data={**data, "name": "赵强", "document_number": stranger, "purpose": "step_up", "next": "/security/step-up"},
        headers=patient,
    )
    assert refused.status_code == 403 and "REVERIFICATION_IDENTITY_MISMATCH" in refused.text
    assert "重新认证须使用本账号已实名的身份" in refused.text


async def test_r_id_02_reverification_needs_more_than_knowing_name_and_number(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    """The insurance-record match only checks name + number, so it cannot re-prove the holder; an
    SMS re-verification must go to the phone on record (a face-verified account has none)."""
    number = await verified(client, patient, settings, "王芳")
    insurance = await reverify(client, patient, number, "王芳", "pin_reset", method="insurance")
    assert (insurance.status_code, insurance.json()["code"]) == (400, "REVERIFICATION_METHOD_NOT_ALLOWED")
    sms = await reverify(client, patient, number, "王芳", "step_up", method="sms", phone="13800138000")
    assert sms.json()["code"] == "REVERIFICATION_METHOD_NOT_ALLOWED" and sms.json()["field"] == "phone"
    page = await client.get("/verify?purpose=step_up", headers=patient)
    assert 'id="method-insurance"' not in page.text and 'id="method-face"' in page.text


async def test_r_id_02_sms_reverification_to_the_phone_on_record(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    number = await verified(client, patient, settings, "王芳")
    person = await db.scalar(select(Person))
    assert person is not None
    person.phone = "13800138000"  # as an SMS first verification or /me/phone leaves it
    await db.commit()
    other = await reverify(client, patient, number, "王芳", "step_up", method="sms", phone="13911112222")
    assert other.json()["code"] == "REVERIFICATION_METHOD_NOT_ALLOWED"
    own = await reverify(client, patient, number, "王芳", "step_up", method="sms", phone="13800138000")
    assert own.status_code == 201, own.text
