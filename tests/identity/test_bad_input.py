"""Bad input on every identity endpoint gives a clear error with a stable code, and nothing
half-written: no session, person or guardianship row appears (R-ID-01)."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters.identity import _png_with_text
from medcard.config import Settings
from medcard.models import Base, Guardianship, Person, VerificationSession
from tests.identity.helpers import LIVE_FACE, face, resident, resident_passing, start, with_check

VALID = resident("110105", date(1988, 6, 15), 123)


async def _count(db: AsyncSession, model: type[Base]) -> int:
    return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def _nothing_written(db: AsyncSession) -> None:
    assert await _count(db, VerificationSession) == 0
    assert await _count(db, Person) == 0
    assert await _count(db, Guardianship) == 0


BAD_CLAIMS: list[tuple[str, dict[str, Any], str, str]] = [
    (
        "wrong checksum",
        {"document_number": VALID[:17] + ("0" if VALID[17] != "0" else "1")},
        "DOCUMENT_CHECKSUM_MISMATCH",
        "document_number",
    ),
    (
        "future birth date",
        {"document_number": with_check("11010520300101123")},
        "DOCUMENT_BIRTH_DATE_IN_FUTURE",
        "document_number",
    ),
    ("19-char ID", {"document_number": VALID + "5"}, "DOCUMENT_NUMBER_LENGTH", "document_number"),
    ("15-char ID", {"document_number": "110105880615123"}, "DOCUMENT_NUMBER_LENGTH", "document_number"),
    ("digits in name", {"document_number": VALID, "name": "张3"}, "NAME_INVALID", "name"),
    ("sms without phone", {"document_number": VALID, "method": "sms"}, "FIELD_REQUIRED", "phone"),
    ("bad phone", {"document_number": VALID, "method": "sms", "phone": "1234"}, "PHONE_INVALID", "phone"),
    (
        "foreigner without permit",
        {"document_type": "foreign_passport", "document_number": "E1234567", "nationality": "USA"},
        "FIELD_REQUIRED",
        "residence_permit_number",
    ),
    (
        "HK permit with mainland number",
        {"document_type": "hmt_permit", "document_number": VALID},
        "DOCUMENT_NUMBER_FORMAT",
        "document_number",
    ),
]


@pytest.mark.parametrize(("case", "fields", "code", "field"), BAD_CLAIMS, ids=[c[0] for c in BAD_CLAIMS])
async def test_r_id_01_bad_claim_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient,
    patient: dict[str, str],
    db: AsyncSession,
    case: str,
    fields: dict[str, Any],
    code: str,
    field: str,
) -> None:
    response = await start(client, patient, **fields)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert (body["code"], body["field"]) == (code, field)
    assert body["title_zh"] and body["title"] and body["hint_zh"] and body["hint"]
    await _nothing_written(db)


async def test_r_id_01_missing_fields_are_a_malformed_request(
    client: httpx.AsyncClient, patient: dict[str, str], db: AsyncSession
) -> None:
    response = await client.post("/api/v1/identity/sessions", json={"method": "face"}, headers=patient)
    assert (response.status_code, response.json()["code"]) == (422, "MALFORMED_REQUEST")
    assert {"document_number", "name"} <= {error["field"] for error in response.json()["errors"]}
    unknown = await start(client, patient, method="iris", document_number=VALID)
    assert unknown.status_code == 422
    await _nothing_written(db)


async def test_r_id_04_oversized_selfie_is_413_and_not_counted(
    app: FastAPI, client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    app.state.settings = settings.model_copy(update={"max_upload_bytes": 1024})
    session_id = (await start(client, patient, document_number=resident_passing(settings, "张伟"))).json()["id"]
    big = _png_with_text(b"SANDBOX-LIVE " + b"x" * 2048)
    response = await face(client, patient, session_id, big)
    assert (response.status_code, response.json()["code"], response.json()["field"]) == (
        413,
        "UPLOAD_TOO_LARGE",
        "image",
    )
    state = (await client.get(f"/api/v1/identity/sessions/{session_id}", headers=patient)).json()
    assert (state["attempts"], state["status"]) == (0, "pending")


@pytest.mark.parametrize(
    ("content", "claimed"),
    [(b"%PDF-1.4 SANDBOX-LIVE", "image/png"), (b"GIF89a SANDBOX-LIVE", "image/gif"), (b"", "image/jpeg")],
)
async def test_r_id_04_selfie_of_another_type_is_415_and_not_counted(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, content: bytes, claimed: str
) -> None:
    session_id = (await start(client, patient, document_number=resident_passing(settings, "张伟"))).json()["id"]
    response = await face(client, patient, session_id, content, content_type=claimed)
    assert (response.status_code, response.json()["code"]) == (415, "UNSUPPORTED_MEDIA_TYPE")
    state = (await client.get(f"/api/v1/identity/sessions/{session_id}", headers=patient)).json()
    assert state["attempts"] == 0


async def test_r_id_04_selfie_missing_is_a_malformed_request(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    session_id = (await start(client, patient, document_number=resident_passing(settings, "张伟"))).json()["id"]
    response = await client.post(f"/api/v1/identity/sessions/{session_id}/face", headers=patient)
    assert (response.status_code, response.json()["code"]) == (422, "MALFORMED_REQUEST")


async def test_r_id_02_bad_bank_card_number_is_refused_before_anything_changes(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    number = resident_passing(settings, "张伟")
    session_id = (await start(client, patient, method="bank_card", document_number=number, phone="13912345678")).json()[
        "id"
    ]
    response = await client.post(
        f"/api/v1/identity/sessions/{session_id}/confirm",
        json={"method": "bank_card", "bank_card_number": "4111111111111112"},
        headers=patient,
    )
    assert (response.status_code, response.json()["code"], response.json()["field"]) == (
        400,
        "BANK_CARD_NUMBER_INVALID",
        "bank_card_number",
    )
    state = (await client.get(f"/api/v1/identity/sessions/{session_id}", headers=patient)).json()
    assert (state["status"], state["attempts"]) == ("pending", 0)


async def test_r_id_07_ward_with_wrong_checksum_writes_nothing(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    session_id = (await start(client, patient, document_number=resident_passing(settings, "张伟"))).json()["id"]
    assert (await face(client, patient, session_id, LIVE_FACE)).status_code == 200
    persons = await _count(db, Person)
    child = resident("110101", date(2019, 4, 1), 22)
    response = await client.post(
        "/api/v1/identity/wards",
        data={
            "document_number": child[:17] + ("0" if child[17] != "0" else "1"),
            "name": "张小明",
            "relation": "parent",
            "proof_kind": "birth_certificate",
            "birth_certificate_number": "P110123456",
        },
        files={"proof": ("proof.png", _png_with_text(b"SANDBOX-GUARDIAN"), "image/png")},
        headers=patient,
    )
    assert (response.status_code, response.json()["code"]) == (400, "DOCUMENT_CHECKSUM_MISMATCH")
    assert (await _count(db, Person), await _count(db, Guardianship)) == (persons, 0)


async def test_r_id_07_ward_proof_of_wrong_type_is_415(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    session_id = (await start(client, patient, document_number=resident_passing(settings, "张伟"))).json()["id"]
    assert (await face(client, patient, session_id, LIVE_FACE)).status_code == 200
    response = await client.post(
        "/api/v1/identity/wards",
        data={
            "document_number": resident("110101", date(2019, 4, 1), 22),
            "name": "张小明",
            "relation": "parent",
            "proof_kind": "household_register",
            "birth_certificate_number": "P110123456",
        },
        files={"proof": ("proof.txt", b"not an image", "text/plain")},
        headers=patient,
    )
    assert (response.status_code, response.json()["code"], response.json()["field"]) == (
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        "proof",
    )
