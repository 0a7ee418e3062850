"""R-ID-08: a foreigner (passport + permanent resident ID) is verified and gets a card, while
insurance settlement is flagged unavailable where the hospital does not offer it to foreigners."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.config import Settings
from medcard.models import Hospital
from tests.card.conftest import complete_form
from tests.factories import Demo
from tests.identity.helpers import face, permanent_resident_id, sandbox_passes, start


def _passport(settings: Settings, name: str) -> str:
    return next(
        number
        for number in (f"E{index:08d}" for index in range(1000))
        if sandbox_passes(settings, "name_number", number, name)
    )


async def _verify_foreigner(client: httpx.AsyncClient, headers: dict[str, str], settings: Settings) -> None:
    name = "John Smith"
    response = await start(
        client,
        headers,
        name=name,
        document_type="foreign_passport",
        document_number=_passport(settings, name),
        nationality="usa",
        residence_permit_number=permanent_resident_id("USA", date(1985, 2, 1)),
    )
    assert response.status_code == 201, response.text
    assert (await face(client, headers, response.json()["id"])).status_code == 200


async def test_r_id_08_foreigner_is_verified_and_settlement_is_flagged_unavailable(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, demo: Demo
) -> None:
    await _verify_foreigner(client, patient, settings)
    me = (await client.get("/api/v1/identity/me", headers=patient)).json()
    person = me["person"]
    assert (person["document_type"], person["nationality"], person["birth_date"], person["gender"]) == (
        "foreign_passport",
        "USA",
        "1985-02-01",
        "M",
    )
    settlement = {row["hospital_code"]: row["insurance_settlement_available"] for row in me["insurance_settlement"]}
    assert settlement == {demo.hospital.code: False, demo.county_hospital.code: False}


async def test_r_id_08_foreigner_gets_a_card(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, demo: Demo
) -> None:
    await _verify_foreigner(client, patient, settings)
    card = await client.post(
        "/api/v1/cards", json={"hospital": demo.hospital.code, "fields": complete_form()}, headers=patient
    )
    assert card.status_code == 201, card.text
    assert card.json()["status"] in ("active", "pending_activation")


async def test_r_id_08_hospital_flag_makes_settlement_available_to_foreigners(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, demo: Demo, db: AsyncSession
) -> None:
    await db.execute(update(Hospital).where(Hospital.id == demo.hospital.id).values(foreigner_insurance=True))
    await _verify_foreigner(client, patient, settings)
    me = (await client.get("/api/v1/identity/me", headers=patient)).json()
    settlement = {row["hospital_code"]: row["insurance_settlement_available"] for row in me["insurance_settlement"]}
    assert settlement == {demo.hospital.code: True, demo.county_hospital.code: False}


async def test_r_id_08_a_resident_is_offered_settlement_everywhere(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings, demo: Demo
) -> None:
    from tests.identity.helpers import resident_passing

    session_id = (await start(client, patient, document_number=resident_passing(settings, "张伟"))).json()["id"]
    assert (await face(client, patient, session_id)).status_code == 200
    me = (await client.get("/api/v1/identity/me", headers=patient)).json()
    assert all(row["insurance_settlement_available"] for row in me["insurance_settlement"])
