"""Out-of-region filing (R-INS-06): without an active filing no fund settlement happens;
inside a cooperation zone no filing is needed; filings can be cancelled and expire."""

from __future__ import annotations

import functools
import uuid
from datetime import UTC, date, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.insurance import service
from medcard.kit.clock import clock
from medcard.models import InsuranceBinding
from tests.insurance.conftest import MakePatient, Patient

FILINGS = "/api/v1/insurance/filings"


async def bound(client: httpx.AsyncClient, patient: Patient) -> str:
    response = await client.post("/api/v1/insurance/bindings", json=patient.form(), headers=patient.headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def fund_pays(client: httpx.AsyncClient, patient: Patient, binding_id: str, region: str) -> bool:
    url = f"/api/v1/insurance/bindings/{binding_id}/settlement-check"
    response = await client.get(url, params={"region_code": region}, headers=patient.headers)
    return bool(response.json()["fund_settlement_allowed"])


async def test_r_ins_06_care_out_of_region_needs_an_active_filing(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    clock.freeze(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    patient = await make_patient(region="110105")
    binding_id = await bound(client, patient)
    assert not await fund_pays(client, patient, binding_id, "310000")
    body = {"binding_id": binding_id, "destination_region_code": "310000", "reason": "temporary"}
    created = await client.post(FILINGS, json=body, headers=patient.headers)
    assert created.status_code == 201, created.text
    assert (created.json()["valid_from"], created.json()["valid_until"]) == ("2026-03-02", "2026-08-29")
    assert await fund_pays(client, patient, binding_id, "310000")
    listed = await client.get(FILINGS, headers=patient.headers)
    assert [f["status"] for f in listed.json()] == ["active"]
    duplicate = await client.post(FILINGS, json=body, headers=patient.headers)
    assert duplicate.json()["code"] == "INS_FILING_EXISTS"


async def test_r_ins_06_filing_is_valid_only_within_its_period(
    client: httpx.AsyncClient, make_patient: MakePatient, db: AsyncSession
) -> None:
    clock.freeze(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    patient = await make_patient(region="110105")
    binding_id = await bound(client, patient)
    body = {"binding_id": binding_id, "destination_region_code": "440100", "reason": "referral"}
    filing = (await client.post(FILINGS, json=body, headers=patient.headers)).json()
    assert filing["valid_until"] == "2026-05-31"
    binding = await db.get(InsuranceBinding, uuid.UUID(binding_id))
    assert binding is not None
    check = functools.partial(service.fund_settlement_allowed, db, binding=binding, care_region_code="440100")
    assert await check(on=date(2026, 5, 31))
    assert not await check(on=date(2026, 6, 1))


async def test_r_ins_06_cancelled_filing_no_longer_counts(client: httpx.AsyncClient, make_patient: MakePatient) -> None:
    patient = await make_patient(region="110105")
    binding_id = await bound(client, patient)
    body = {"binding_id": binding_id, "destination_region_code": "440100", "reason": "long_term_residence"}
    filing = (await client.post(FILINGS, json=body, headers=patient.headers)).json()
    cancelled = await client.post(f"{FILINGS}/{filing['id']}/cancel", headers=patient.headers)
    assert cancelled.json()["status"] == "cancelled"
    assert not await fund_pays(client, patient, binding_id, "440100")
    again = await client.post(f"{FILINGS}/{filing['id']}/cancel", headers=patient.headers)
    assert again.json()["code"] == "INS_FILING_NOT_ACTIVE"


async def test_r_ins_06_no_filing_inside_a_cooperation_zone(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    patient = await make_patient(region="110105")
    binding_id = await bound(client, patient)
    assert await fund_pays(client, patient, binding_id, "120000")
    body = {"binding_id": binding_id, "destination_region_code": "120000", "reason": "temporary"}
    refused = await client.post(FILINGS, json=body, headers=patient.headers)
    assert refused.status_code == 409
    assert refused.json()["code"] == "INS_FILING_NOT_NEEDED"


async def test_r_ins_06_another_patients_filing_is_not_found(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    owner = await make_patient(region="110105", sequence=8)
    other = await make_patient(region="110105", sequence=9, name="孙七")
    binding_id = await bound(client, owner)
    body = {"binding_id": binding_id, "destination_region_code": "310000", "reason": "temporary"}
    filing = (await client.post(FILINGS, json=body, headers=owner.headers)).json()
    assert (await client.post(f"{FILINGS}/{filing['id']}/cancel", headers=other.headers)).status_code == 404
    assert (await client.post(FILINGS, json=body, headers=other.headers)).status_code == 404
