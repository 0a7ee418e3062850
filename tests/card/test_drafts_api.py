"""R-CARD-04 draft autosave and resume; R-CARD-01 ID-photo prefill; bad input on the draft endpoints."""

from __future__ import annotations

import uuid
from datetime import date

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.identity import sample_document_photo
from medcard.kit.clock import clock
from medcard.models import Account, AuditEvent, CardDraft, Guardianship, Person
from tests.factories import Demo, bearer, family_member, patient_token, resident_id, verified_account

HOSPITAL = "H110001"


async def _login(client: httpx.AsyncClient, adapters: Adapters, account: Account) -> dict[str, str]:
    return bearer(await patient_token(client, adapters, openid=account.openid))


async def _ward(db: AsyncSession, guardian: Account, name: str = "张小宝") -> Person:
    assert guardian.person is not None
    ward = Person(
        document_type="resident_id",
        document_number=resident_id(birth=date(2019, 6, 1)),
        name=name,
        gender="M",
        birth_date=date(2019, 6, 1),
        verified_at=clock.now(),
        verification_method="guardian",
    )
    db.add(ward)
    await db.flush()
    db.add(
        Guardianship(
            guardian_person_id=guardian.person.id,
            ward_person_id=ward.id,
            account_id=guardian.id,
            relation="parent",
            proof_kind="birth_certificate",
            birth_certificate_number="O110123456",
            proof_digest="0" * 64,
            provider_reference="SBX-GUARDIAN",
            verified_at=clock.now(),
        )
    )
    await family_member(db, guardian, ward)
    await db.flush()
    return ward


async def test_r_card_04_one_field_is_saved_and_the_form_resumes_there(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    account = await verified_account(db, name="张三")
    headers = await _login(client, adapters, account)
    for field, value in (("ethnicity", "汉族"), ("address", "北京市东城区示范路1号")):
        saved = await client.put(
            "/api/v1/cards/drafts", json={"hospital": HOSPITAL, "fields": {field: value}}, headers=headers
        )
        assert saved.status_code == 200, saved.text
    # The connection drops; the patient comes back later.
    resumed = await client.get("/api/v1/cards/drafts", params={"hospital": HOSPITAL}, headers=headers)
    body = resumed.json()
    assert body["last_field"] == "address"
    assert body["revision"] == 2
    assert body["fields"]["ethnicity"] == "01"
    assert body["fields"]["address"] == "北京市东城区示范路1号"
    assert body["fields"]["name"] == "张三"  # identity comes from the verification
    assert "occupation" in body["missing"]


async def test_r_card_04_several_fields_at_once_and_empty_clears(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    headers = await _login(client, adapters, await verified_account(db))
    fields = {"occupation": "student", "education": "bachelor", "marital_status": "single"}
    await client.put("/api/v1/cards/drafts", json={"hospital": HOSPITAL, "fields": fields}, headers=headers)
    cleared = await client.put(
        "/api/v1/cards/drafts", json={"hospital": HOSPITAL, "fields": {"education": ""}}, headers=headers
    )
    body = cleared.json()
    assert body["fields"]["occupation"] == "student" and body["fields"]["education"] == ""
    assert body["last_field"] == "education"


async def test_r_card_04_bad_value_is_refused_naming_the_field_and_nothing_is_saved(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    headers = await _login(client, adapters, await verified_account(db))
    await client.put(
        "/api/v1/cards/drafts", json={"hospital": HOSPITAL, "fields": {"address": "北京市东城区1号"}}, headers=headers
    )
    refused = await client.put(
        "/api/v1/cards/drafts",
        json={"hospital": HOSPITAL, "fields": {"postal_code": "100010", "phone": "12345", "ethnicity": "火星族"}},
        headers=headers,
    )
    assert refused.status_code == 400
    problem = refused.json()
    assert problem["code"] == "CARD_FIELD_INVALID"
    assert {e["field"] for e in problem["errors"]} == {"phone", "ethnicity"}
    assert problem["field"] == "ethnicity" and "民族" in problem["title_zh"]
    draft = (await client.get("/api/v1/cards/drafts", params={"hospital": HOSPITAL}, headers=headers)).json()
    assert draft["revision"] == 1 and draft["fields"]["postal_code"] == ""


async def test_r_card_04_unknown_field_and_identity_change_are_refused(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    headers = await _login(client, adapters, await verified_account(db, name="张三"))
    unknown = await client.put(
        "/api/v1/cards/drafts", json={"hospital": HOSPITAL, "fields": {"shoe_size": "42"}}, headers=headers
    )
    assert unknown.status_code == 400 and unknown.json()["field"] == "shoe_size"
    other_name = await client.put(
        "/api/v1/cards/drafts", json={"hospital": HOSPITAL, "fields": {"name": "李四"}}, headers=headers
    )
    assert other_name.status_code == 400
    assert other_name.json()["code"] == "CARD_IDENTITY_MISMATCH" and other_name.json()["field"] == "name"


async def test_r_card_04_drafts_are_per_hospital_and_per_ward(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    guardian = await verified_account(db)
    ward = await _ward(db, guardian)
    headers = await _login(client, adapters, guardian)
    await client.put(
        "/api/v1/cards/drafts",
        json={"hospital": HOSPITAL, "subject": str(ward.id), "fields": {"occupation": "child"}},
        headers=headers,
    )
    mine = (await client.get("/api/v1/cards/drafts", params={"hospital": HOSPITAL}, headers=headers)).json()
    theirs = (
        await client.get(
            "/api/v1/cards/drafts", params={"hospital": HOSPITAL, "subject": str(ward.id)}, headers=headers
        )
    ).json()
    other_hospital = (await client.get("/api/v1/cards/drafts", params={"hospital": "H110002"}, headers=headers)).json()
    assert mine["fields"]["occupation"] == "" and other_hospital["fields"]["occupation"] == ""
    assert theirs["fields"]["occupation"] == "child" and theirs["fields"]["name"] == "张小宝"


async def test_r_card_04_someone_elses_ward_or_unknown_hospital_is_404(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    ward = await _ward(db, await verified_account(db))
    stranger = await _login(client, adapters, await verified_account(db))
    for params in (
        {"hospital": HOSPITAL, "subject": str(ward.id)},
        {"hospital": HOSPITAL, "subject": str(uuid.uuid4())},
    ):
        response = await client.get("/api/v1/cards/drafts", params=params, headers=stranger)
        assert response.status_code == 404 and response.json()["field"] == "subject"
    unknown = await client.get("/api/v1/cards/drafts", params={"hospital": "H999"}, headers=stranger)
    assert unknown.status_code == 404 and unknown.json()["field"] == "hospital"


async def test_r_card_01_unverified_account_cannot_start_a_form(
    client: httpx.AsyncClient, adapters: Adapters, demo: Demo
) -> None:
    headers = bearer(await patient_token(client, adapters))
    response = await client.get("/api/v1/cards/drafts", params={"hospital": HOSPITAL}, headers=headers)
    assert response.status_code == 403 and response.json()["code"] == "CARD_ACCOUNT_NOT_VERIFIED"


async def test_r_card_01_id_photo_prefills_the_draft_and_is_not_stored(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    account = await verified_account(db, name="张三")
    assert account.person is not None
    headers = await _login(client, adapters, account)
    photo = sample_document_photo(
        {
            "name": "张三",
            "document_number": account.person.document_number,
            "ethnicity": "回族",
            "address": "北京市朝阳区光华路9号",
        }
    )
    response = await client.post(
        "/api/v1/cards/drafts/ocr",
        data={"hospital": HOSPITAL},
        files={"photo": ("id.png", photo, "image/png")},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["prefilled"] == ["name", "document_number", "ethnicity", "address"]
    assert body["draft"]["fields"]["ethnicity"] == "03"
    assert body["draft"]["fields"]["address"] == "北京市朝阳区光华路9号"
    stored = await db.scalar(select(CardDraft).where(CardDraft.account_id == account.id))
    assert stored is not None and b"MEDCARD-OCR" not in repr(stored.data).encode()
    assert "document_number" not in stored.data  # identity is the verified person's, not the photo's


async def test_r_card_01_unreadable_photo_gets_a_hint(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    headers = await _login(client, adapters, await verified_account(db))
    blurry = b"\x89PNG\r\n\x1a\n" + b"\x00" * 200
    response = await client.post(
        "/api/v1/cards/drafts/ocr",
        data={"hospital": HOSPITAL},
        files={"photo": ("id.png", blurry, "image/png")},
        headers=headers,
    )
    assert response.status_code == 400
    problem = response.json()
    assert problem["code"] == "CARD_PHOTO_UNREADABLE" and problem["field"] == "photo"
    assert "反光" in problem["hint_zh"] and "glare" in problem["hint"]


async def test_r_card_01_photo_of_another_persons_id_is_refused(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    headers = await _login(client, adapters, await verified_account(db, name="张三"))
    photo = sample_document_photo({"name": "李四", "document_number": resident_id(birth=date(1985, 1, 2))})
    response = await client.post(
        "/api/v1/cards/drafts/ocr",
        data={"hospital": HOSPITAL},
        files={"photo": ("id.png", photo, "image/png")},
        headers=headers,
    )
    assert response.status_code == 400 and response.json()["code"] == "CARD_IDENTITY_MISMATCH"
    assert await db.scalar(select(func.count()).select_from(CardDraft)) == 0


async def test_r_card_01_oversized_or_wrong_type_upload_is_refused(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo, settings: object
) -> None:
    headers = await _login(client, adapters, await verified_account(db))
    too_big = b"\x89PNG\r\n\x1a\n" + b"0" * (5 * 1024 * 1024)
    big = await client.post(
        "/api/v1/cards/drafts/ocr",
        data={"hospital": HOSPITAL},
        files={"photo": ("id.png", too_big, "image/png")},
        headers=headers,
    )
    assert big.status_code == 413 and big.json()["field"] == "photo"
    pdf = await client.post(
        "/api/v1/cards/drafts/ocr",
        data={"hospital": HOSPITAL},
        files={"photo": ("id.png", b"%PDF-1.7 not an image", "image/png")},
        headers=headers,
    )
    assert pdf.status_code == 415 and pdf.json()["code"] == "UNSUPPORTED_MEDIA_TYPE"
    missing = await client.post("/api/v1/cards/drafts/ocr", data={"hospital": HOSPITAL}, headers=headers)
    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "photo"
    assert await db.scalar(select(func.count()).select_from(CardDraft)) == 0
    assert not await db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "card.draft_save")
    )
