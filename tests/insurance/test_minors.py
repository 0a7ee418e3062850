"""Minors in Beijing (R-INS-03): under 16 a patient cannot bind alone, but his guardian binds
the ward's card; in Chengdu no one under 18 binds online, not even through a guardian."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.insurance import SandboxInsurancePlatform
from medcard.card import service as card_service
from medcard.kit.clock import clock
from medcard.models import Guardianship, Person
from tests.card.conftest import complete_form
from tests.factories import Demo, bearer, family_member, patient_token, resident_id, verified_account
from tests.insurance.conftest import LIVE_FACE, MakePatient

BIND = "/api/v1/insurance/bindings"


async def ward_binding_form(
    db: AsyncSession, adapters: Adapters, demo: Demo, client: httpx.AsyncClient, *, region: str, birth: date
) -> tuple[dict[str, str], dict[str, str]]:
    """A guardian's account, his ward's card, and a complete binding form for the ward."""
    guardian = await verified_account(db, name="王大明")
    number = resident_id(region=region, birth=birth, sequence=15)
    ward = Person(document_type="resident_id", document_number=number, name="王小宝", gender="M", birth_date=birth)
    db.add(ward)
    await db.flush()
    assert guardian.person is not None
    db.add(
        Guardianship(
            guardian_person_id=guardian.person.id,
            ward_person_id=ward.id,
            account_id=guardian.id,
            relation="father",
            proof_kind="household_register",
            proof_digest="0" * 64,
            provider_reference="SBX-GUARDIAN",
            verified_at=clock.now(),
        )
    )
    await family_member(db, guardian, ward)
    await db.flush()
    subject = await card_service.resolve_subject(db, account=guardian, subject_key=str(ward.id))
    card = await card_service.submit(
        db, account=guardian, hospital=demo.hospital, subject=subject, adapters=adapters, fields=complete_form()
    )
    await db.commit()
    platform = adapters.insurance
    assert isinstance(platform, SandboxInsurancePlatform)
    form = {
        "card_id": str(card.id),
        "card_number": platform.person(number, "王小宝").card_number,
        "scheme": "employee",
        "region_code": region[:2] + "0000" if region.startswith("11") else region[:4] + "00",
        "client_version": "7.1.0",
        "face_image": LIVE_FACE,
    }
    return form, bearer(await patient_token(client, adapters, openid=guardian.openid))


async def test_r_ins_03_beijing_child_under_16_cannot_bind_alone(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    clock.freeze(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    patient = await make_patient(region="110105", birth=date(2011, 1, 1))
    response = await client.post(BIND, json=patient.form(), headers=patient.headers)
    assert response.json()["code"] == "INS_MINOR_NEEDS_GUARDIAN"
    assert "16" in response.json()["title_zh"]


async def test_r_ins_03_beijing_guardian_binds_his_wards_card(
    client: httpx.AsyncClient, db: AsyncSession, adapters: Adapters, demo: Demo, policy: None
) -> None:
    clock.freeze(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    form, headers = await ward_binding_form(db, adapters, demo, client, region="110105", birth=date(2014, 5, 1))
    response = await client.post(BIND, json=form, headers=headers)
    assert response.status_code == 201, response.text


async def test_r_ins_03_chengdu_guardian_cannot_bind_a_17_year_old(
    client: httpx.AsyncClient, db: AsyncSession, adapters: Adapters, demo: Demo, policy: None
) -> None:
    clock.freeze(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    form, headers = await ward_binding_form(db, adapters, demo, client, region="510104", birth=date(2008, 9, 1))
    response = await client.post(BIND, json=form, headers=headers)
    assert response.json()["code"] == "INS_MINOR_NOT_ALLOWED"


async def test_r_fam_06_a_relation_that_ends_hides_the_wards_e_voucher_at_once(
    client: httpx.AsyncClient, db: AsyncSession, adapters: Adapters, demo: Demo, policy: None
) -> None:
    clock.freeze(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    form, headers = await ward_binding_form(db, adapters, demo, client, region="110105", birth=date(2014, 5, 1))
    binding = (await client.post(BIND, json=form, headers=headers)).json()
    assert [b["id"] for b in (await client.get(BIND, headers=headers)).json()] == [binding["id"]]
    member = (await client.get("/api/v1/family/members", headers=headers)).json()[0]
    assert (await client.delete(f"/api/v1/family/members/{member['id']}", headers=headers)).status_code == 200
    assert (await client.get(BIND, headers=headers)).json() == []
    assert (await client.get(f"{BIND}/{binding['id']}", headers=headers)).status_code == 404
