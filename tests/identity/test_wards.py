"""Children under guardianship (R-ID-07, with R-FAM-03's under-14 part)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.identity import _png_with_text
from medcard.config import Settings
from medcard.kit.clock import clock
from medcard.kit.crypto import sm3_hex
from medcard.kit.keys import blind_index
from medcard.models import Guardianship, Person
from tests.factories import bearer, patient_token, verified_account
from tests.identity.helpers import face, resident_failing_name_check, resident_passing, start

PROOF = _png_with_text(b"SANDBOX-GUARDIAN household register photo")


@pytest.fixture(autouse=True)
def _today() -> None:
    clock.freeze(datetime(2026, 11, 23, 4, 0, tzinfo=UTC))


async def _verify(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    settings: Settings,
    *,
    name: str = "张伟",
    birth: date = date(1988, 6, 15),
) -> None:
    number = resident_passing(settings, name, birth=birth)
    session_id = (await start(client, headers, name=name, document_number=number)).json()["id"]
    assert (await face(client, headers, session_id)).status_code == 200


async def _add(
    client: httpx.AsyncClient, headers: dict[str, str], *, proof: bytes = PROOF, **fields: Any
) -> httpx.Response:
    data = {"name": "张小明", "relation": "parent", "proof_kind": "birth_certificate"}
    data.update(fields)
    return await client.post(
        "/api/v1/identity/wards", data=data, files={"proof": ("proof.png", proof, "image/png")}, headers=headers
    )


def _child(settings: Settings, birth: date, name: str = "张小明") -> str:
    return resident_passing(settings, name, birth=birth, region="110101")


async def _counts(db: AsyncSession) -> tuple[int, int]:
    persons = await db.scalar(select(func.count()).select_from(Person))
    guardianships = await db.scalar(select(func.count()).select_from(Guardianship))
    return int(persons or 0), int(guardianships or 0)


async def _persons_with(db: AsyncSession, document_number: str) -> int:
    query = (
        select(func.count())
        .select_from(Person)
        .where(Person.document_number_index == blind_index("document", document_number))
    )
    return int(await db.scalar(query) or 0)


async def test_r_id_07_child_under_14_is_added_with_birth_certificate_number(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    await _verify(client, patient, settings)
    child = _child(settings, date(2020, 5, 1))
    response = await _add(client, patient, document_number=child, birth_certificate_number="p110123456")
    assert response.status_code == 201, response.text
    ward = response.json()
    assert (ward["age"], ward["relation"], ward["proof_kind"]) == (6, "parent", "birth_certificate")
    assert ward["ward"]["name"] == "张小明" and child not in response.text
    assert ward["birth_certificate_number_masked"] == "P110**3456"
    stored = await db.scalar(select(Guardianship).where(Guardianship.id == uuid.UUID(ward["id"])))
    assert stored is not None
    assert stored.proof_digest == sm3_hex(PROOF) and stored.birth_certificate_number == "P110123456"
    listed = (await client.get("/api/v1/identity/wards", headers=patient)).json()
    assert [item["id"] for item in listed] == [ward["id"]]


async def test_r_id_07_under_14_without_birth_certificate_number_is_refused(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    await _verify(client, patient, settings)
    before = await _counts(db)
    response = await _add(client, patient, document_number=_child(settings, date(2013, 11, 24)))  # 13 tomorrow-1
    assert (response.status_code, response.json()["code"], response.json()["field"]) == (
        400,
        "BIRTH_CERTIFICATE_NUMBER_REQUIRED",
        "birth_certificate_number",
    )
    assert "14" in response.json()["title_zh"]
    assert await _counts(db) == before


async def test_r_id_07_child_of_14_may_use_the_household_register_alone(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    await _verify(client, patient, settings)
    response = await _add(
        client, patient, document_number=_child(settings, date(2012, 11, 23)), proof_kind="household_register"
    )
    assert response.status_code == 201, response.text
    assert (response.json()["age"], response.json()["birth_certificate_number_masked"]) == (14, None)


async def test_r_id_07_under_14_the_guardians_identity_is_checked_with_the_authority(
    client: httpx.AsyncClient, adapters: Adapters, settings: Settings, db: AsyncSession
) -> None:
    # A guardian whose name and number the authority no longer confirms (e.g. name changed).
    account = await verified_account(db, name="张伟", document_number=resident_failing_name_check(settings, "张伟"))
    headers = bearer(await patient_token(client, adapters, openid=account.openid))
    young = await _add(
        client, headers, document_number=_child(settings, date(2020, 5, 1)), birth_certificate_number="P110123456"
    )
    assert (young.status_code, young.json()["code"]) == (400, "GUARDIAN_IDENTITY_MISMATCH")
    older = await _add(client, headers, document_number=_child(settings, date(2010, 5, 1)), name="张小明")
    assert older.status_code == 201, older.text


async def test_r_id_07_unverified_account_cannot_add_a_child(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    response = await _add(
        client, patient, document_number=_child(settings, date(2020, 5, 1)), birth_certificate_number="P110123456"
    )
    assert (response.status_code, response.json()["code"]) == (403, "GUARDIAN_NOT_VERIFIED")


async def test_r_id_07_guardian_must_be_an_adult(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    await _verify(client, patient, settings, name="李娜", birth=date(2009, 1, 10))  # 17
    response = await _add(
        client, patient, document_number=_child(settings, date(2025, 5, 1)), birth_certificate_number="P110123456"
    )
    assert (response.status_code, response.json()["code"]) == (403, "GUARDIAN_NOT_ADULT")


async def test_r_id_07_an_adult_is_not_a_ward(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    await _verify(client, patient, settings)
    response = await _add(client, patient, document_number=_child(settings, date(2008, 11, 23)))
    assert (response.status_code, response.json()["code"]) == (400, "WARD_NOT_MINOR")


async def test_r_id_07_proof_not_accepted_by_the_authority_writes_nothing(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    await _verify(client, patient, settings)
    before = await _counts(db)
    response = await _add(
        client,
        patient,
        proof=_png_with_text(b"SANDBOX-NOT-GUARDIAN"),
        document_number=_child(settings, date(2020, 5, 1)),
        birth_certificate_number="P110123456",
    )
    assert (response.status_code, response.json()["code"], response.json()["field"]) == (
        400,
        "GUARDIANSHIP_NOT_PROVEN",
        "proof",
    )
    assert await _counts(db) == before


async def test_r_id_07_the_same_child_is_added_once(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    await _verify(client, patient, settings)
    child = _child(settings, date(2020, 5, 1))
    assert (
        await _add(client, patient, document_number=child, birth_certificate_number="P110123456")
    ).status_code == 201
    again = await _add(client, patient, document_number=child, birth_certificate_number="P110123456")
    assert (again.status_code, again.json()["code"]) == (409, "WARD_ALREADY_ADDED")


async def test_r_id_07_both_parents_may_add_the_same_child_and_share_the_person(
    client: httpx.AsyncClient,
    patient: dict[str, str],
    other_patient: dict[str, str],
    settings: Settings,
    db: AsyncSession,
) -> None:
    await _verify(client, patient, settings)
    await _verify(client, other_patient, settings, name="李娜", birth=date(1989, 2, 2))
    child = _child(settings, date(2020, 5, 1))
    for headers in (patient, other_patient):
        response = await _add(client, headers, document_number=child, birth_certificate_number="P110123456")
        assert response.status_code == 201, response.text
    assert await _persons_with(db, child) == 1
    assert len((await client.get("/api/v1/identity/wards", headers=other_patient)).json()) == 1


async def test_r_id_02_a_ward_who_verifies_himself_reuses_the_same_person(
    client: httpx.AsyncClient,
    patient: dict[str, str],
    other_patient: dict[str, str],
    settings: Settings,
    db: AsyncSession,
) -> None:
    await _verify(client, patient, settings)
    child = _child(settings, date(2009, 12, 1), name="张小明")  # 16
    added = await _add(client, patient, document_number=child, proof_kind="household_register")
    assert added.status_code == 201, added.text
    session_id = (await start(client, other_patient, name="张小明", document_number=child)).json()["id"]
    assert (await face(client, other_patient, session_id)).status_code == 200
    me = (await client.get("/api/v1/identity/me", headers=other_patient)).json()
    assert me["person"]["id"] == added.json()["ward"]["id"]
    assert await _persons_with(db, child) == 1
