"""Binding the e-voucher through the API: prerequisites (R-INS-01), card information
(R-INS-02), city policies (R-INS-03), new insured (R-INS-08) and the error taxonomy (R-INS-09)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.kit.clock import clock
from medcard.models import AuditEvent, BindingAttempt
from tests.insurance.conftest import SPOOF_FACE, MakePatient

BIND = "/api/v1/insurance/bindings"


async def test_r_ins_01_verified_patient_binds_and_binding_records_policy_version(
    client: httpx.AsyncClient, make_patient: MakePatient, db: AsyncSession
) -> None:
    patient = await make_patient(region="110105", sequence=5)
    response = await client.post(BIND, json=patient.form(), headers=patient.headers)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "active"
    assert body["scheme_code"] == "310"
    assert body["policy_key"] == "110000"
    assert body["policy_version"] == 1
    assert patient.insurance_card_number not in body["card_number_masked"]
    listed = await client.get(BIND, headers=patient.headers)
    assert [b["id"] for b in listed.json()] == [body["id"]]
    audit = await db.scalar(select(AuditEvent).where(AuditEvent.action == "insurance.bind", AuditEvent.result == "ok"))
    assert audit is not None
    assert patient.insurance_card_number not in str(audit.details)


async def test_r_ins_03_seventeen_year_old_in_chengdu_is_refused(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    clock.freeze(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    patient = await make_patient(region="510104", sequence=5, birth=date(2008, 9, 1))
    response = await client.post(BIND, json=patient.form(), headers=patient.headers)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "INS_MINOR_NOT_ALLOWED"
    assert "18" in body["title_zh"]
    assert body["hint_zh"]


async def test_r_ins_01_shanghai_needs_the_offline_check_first(
    client: httpx.AsyncClient, make_patient: MakePatient, db: AsyncSession
) -> None:
    patient = await make_patient(region="310104", sequence=89)
    response = await client.post(BIND, json=patient.form(), headers=patient.headers)
    assert response.status_code == 409
    assert response.json()["code"] == "INS_OFFLINE_CHECK_REQUIRED"
    refused = select(func.count()).select_from(BindingAttempt).where(BindingAttempt.result == "refused")
    attempts = await db.scalar(refused)
    assert attempts == 1


async def test_r_ins_01_shanghai_needs_client_7_0_3(client: httpx.AsyncClient, make_patient: MakePatient) -> None:
    patient = await make_patient(region="310104", sequence=5)
    old = await client.post(BIND, json=patient.form(client_version="6.9.9"), headers=patient.headers)
    assert old.status_code == 409
    assert old.json()["code"] == "INS_CLIENT_TOO_OLD"
    assert "7.0.3" in old.json()["title"]
    ok = await client.post(BIND, json=patient.form(client_version="7.0.10"), headers=patient.headers)
    assert ok.status_code == 201, ok.text


async def test_r_ins_01_shanghai_needs_a_third_generation_card(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    patient = await make_patient(region="310104", sequence=88)
    response = await client.post(BIND, json=patient.form(), headers=patient.headers)
    assert response.json()["code"] == "INS_CARD_GENERATION"


async def test_r_ins_01_region_not_supported(client: httpx.AsyncClient, make_patient: MakePatient) -> None:
    patient = await make_patient(region="650102", sequence=5)
    response = await client.post(BIND, json=patient.form(region_code="650100"), headers=patient.headers)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "INS_REGION_NOT_SUPPORTED"
    assert body["field"] == "region_code"


async def test_r_ins_01_card_bank_function_not_activated(client: httpx.AsyncClient, make_patient: MakePatient) -> None:
    patient = await make_patient(sequence=82)
    response = await client.post(BIND, json=patient.form(), headers=patient.headers)
    assert response.json()["code"] == "INS_CARD_NOT_ACTIVATED"


async def test_r_ins_02_card_number_format_is_checked_first(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    patient = await make_patient()
    response = await client.post(BIND, json=patient.form(card_number="12-34"), headers=patient.headers)
    assert response.status_code == 409
    assert response.json()["code"] == "INS_INVALID_CARD_NUMBER"
    assert response.json()["field"] == "card_number"


async def test_r_ins_02_card_number_must_be_the_persons(client: httpx.AsyncClient, make_patient: MakePatient) -> None:
    patient = await make_patient()
    wrong = "Z" + patient.insurance_card_number[1:]
    response = await client.post(BIND, json=patient.form(card_number=wrong), headers=patient.headers)
    assert response.json()["code"] == "INS_INVALID_CARD_NUMBER"


async def test_r_ins_02_issuing_region_must_match_current_location(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    patient = await make_patient(region="110105")
    response = await client.post(BIND, json=patient.form(region_code="440100"), headers=patient.headers)
    assert response.json()["code"] == "INS_REGION_MISMATCH"


async def test_r_ins_02_insurance_type_must_match(client: httpx.AsyncClient, make_patient: MakePatient) -> None:
    patient = await make_patient(sequence=45)
    assert patient.scheme == "resident"
    response = await client.post(BIND, json=patient.form(scheme="employee"), headers=patient.headers)
    assert response.json()["code"] == "INS_TYPE_MISMATCH"
    assert response.json()["field"] == "scheme"


async def test_r_ins_02_unknown_insurance_type_is_malformed(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    patient = await make_patient()
    response = await client.post(BIND, json=patient.form(scheme="commercial"), headers=patient.headers)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "scheme"


async def test_r_ins_08_newly_insured_person_is_told_when_to_retry(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    # 2025-09-30 (Tue): Oct 1–8 are the National Day holidays, so 2 working days later is Fri Oct 10.
    clock.freeze(datetime(2025, 9, 30, 2, 0, tzinfo=UTC))
    patient = await make_patient(sequence=81)
    response = await client.post(BIND, json=patient.form(), headers=patient.headers)
    body = response.json()
    assert body["code"] == "INS_NEWLY_INSURED"
    assert "2025-10-10" in body["hint_zh"]
    assert "1–2" in body["title_zh"]


async def test_r_ins_09_rare_name_unsynced_info_special_schemes(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    expected = {
        84: "INS_RARE_CHARACTER_NAME",
        83: "INS_INFO_NOT_SYNCED",
        85: "INS_SCHEME_NOT_SUPPORTED",
        86: "INS_SCHEME_NOT_SUPPORTED",
        80: "INS_NOT_INSURED",
    }
    for sequence, code in expected.items():
        patient = await make_patient(sequence=sequence)
        response = await client.post(BIND, json=patient.form(), headers=patient.headers)
        assert response.json()["code"] == code, sequence


async def test_r_ins_09_face_failure_has_code_text_and_hint(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    patient = await make_patient()
    response = await client.post(BIND, json=patient.form(face_image=SPOOF_FACE), headers=patient.headers)
    body = response.json()
    assert body["code"] == "INS_FACE_FAILED"
    assert body["title_zh"] == "人脸核验未通过"
    assert "light" in body["hint"]


async def test_r_ins_01_unbind_then_bind_again(client: httpx.AsyncClient, make_patient: MakePatient) -> None:
    patient = await make_patient()
    first = (await client.post(BIND, json=patient.form(), headers=patient.headers)).json()
    again = await client.post(BIND, json=patient.form(), headers=patient.headers)
    assert again.json()["code"] == "INS_ALREADY_BOUND"
    unbound = await client.post(f"{BIND}/{first['id']}/unbind", headers=patient.headers)
    assert unbound.json()["status"] == "unbound"
    twice = await client.post(f"{BIND}/{first['id']}/unbind", headers=patient.headers)
    assert twice.json()["code"] == "INS_BINDING_NOT_ACTIVE"
    rebound = await client.post(BIND, json=patient.form(), headers=patient.headers)
    assert rebound.status_code == 201


async def test_r_ins_01_another_patients_binding_is_not_found(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    owner = await make_patient(sequence=6)
    other = await make_patient(sequence=7, name="李四")
    binding = (await client.post(BIND, json=owner.form(), headers=owner.headers)).json()
    assert (await client.get(f"{BIND}/{binding['id']}", headers=other.headers)).status_code == 404
    assert (await client.post(f"{BIND}/{binding['id']}/unbind", headers=other.headers)).status_code == 404
    foreign_card = await client.post(BIND, json=owner.form(), headers=other.headers)
    assert foreign_card.status_code == 404
