"""Special diseases (R-INS-07): the patient submits materials, a reviewer approves or
rejects in the console queue, with audit; reviews are final."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import AuditEvent
from tests.factories import Demo, bearer, staff_token
from tests.insurance.conftest import MakePatient, Patient

APPLY = "/api/v1/insurance/special-diseases"
QUEUE = "/api/v1/staff/insurance/special-diseases"


async def apply(client: httpx.AsyncClient, patient: Patient, disease: str = "MT002") -> httpx.Response:
    binding = await client.post("/api/v1/insurance/bindings", json=patient.form(), headers=patient.headers)
    files = [("materials", ("diagnosis.pdf", b"%PDF-1.7 diagnosis", "application/pdf"))]
    data = {"binding_id": binding.json()["id"], "disease_code": disease}
    return await client.post(APPLY, data=data, files=files, headers=patient.headers)


async def test_r_ins_07_reviewer_approves_submitted_materials(
    client: httpx.AsyncClient, make_patient: MakePatient, demo: Demo, db: AsyncSession
) -> None:
    patient = await make_patient()
    submitted = await apply(client, patient)
    assert submitted.status_code == 201, submitted.text
    assert (submitted.json()["status"], submitted.json()["files"]) == ("submitted", 1)
    reviewer = bearer(await staff_token(client, "reviewer1"))
    queue = (await client.get(QUEUE, headers=reviewer)).json()
    assert [a["id"] for a in queue] == [submitted.json()["id"]]
    url = f"{QUEUE}/{submitted.json()['id']}/review"
    approved = await client.post(url, json={"approve": True, "note": "材料齐全"}, headers=reviewer)
    assert approved.json()["status"] == "approved"
    mine = (await client.get(APPLY, headers=patient.headers)).json()
    assert (mine[0]["status"], mine[0]["review_note"]) == ("approved", "材料齐全")
    assert (await client.get(QUEUE, headers=reviewer)).json() == []
    audit = await db.scalar(select(AuditEvent).where(AuditEvent.action == "insurance.special_disease.review"))
    assert audit is not None
    assert (audit.result, audit.actor_label) == ("approved", "reviewer:reviewer1")
    trail = (await db.scalars(select(AuditEvent).where(AuditEvent.action.like("insurance.special_disease.%")))).all()
    assert len(trail) == 2
    assert all("MT002" not in str(event.details) for event in trail)  # diagnoses never in the audit log (R-SEC-08)


async def test_r_ins_07_a_review_is_final(client: httpx.AsyncClient, make_patient: MakePatient, demo: Demo) -> None:
    patient = await make_patient()
    submitted = (await apply(client, patient)).json()
    reviewer = bearer(await staff_token(client, "reviewer1"))
    url = f"{QUEUE}/{submitted['id']}/review"
    rejected = await client.post(url, json={"approve": False, "note": "缺少诊断证明"}, headers=reviewer)
    assert rejected.json()["status"] == "rejected"
    again = await client.post(url, json={"approve": True}, headers=reviewer)
    assert again.status_code == 409
    assert again.json()["code"] == "INS_APPLICATION_REVIEWED"


async def test_r_ins_07_only_reviewers_review(client: httpx.AsyncClient, make_patient: MakePatient, demo: Demo) -> None:
    patient = await make_patient()
    submitted = (await apply(client, patient)).json()
    cashier = bearer(await staff_token(client, "cashier1"))
    url = f"{QUEUE}/{submitted['id']}/review"
    assert (await client.post(url, json={"approve": True}, headers=cashier)).status_code == 403
    assert (await client.post(url, json={"approve": True}, headers=patient.headers)).status_code == 401


async def test_r_ins_07_unknown_disease_is_refused(client: httpx.AsyncClient, make_patient: MakePatient) -> None:
    patient = await make_patient()
    response = await apply(client, patient, disease="COLD")
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("INS_UNKNOWN_DISEASE", "disease_code")
