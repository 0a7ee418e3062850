"""The special-disease reviewer sees who applied and at which hospital (issue 9; R-INS-07)."""

from __future__ import annotations

import httpx

from medcard.kit.masking import mask_name
from tests.factories import Demo, bearer, staff_token
from tests.insurance.conftest import MakePatient


async def test_r_ins_07_review_queue_shows_applicant_and_hospital(
    client: httpx.AsyncClient, make_patient: MakePatient, demo: Demo
) -> None:
    """Applied through the patient page; the queue names the applicant (masked) and the hospital."""
    patient = await make_patient(name="孙特病")
    binding = (await client.post("/api/v1/insurance/bindings", json=patient.form(), headers=patient.headers)).json()
    files = {"materials": ("diagnosis.pdf", b"%PDF-1.7 diagnosis", "application/pdf")}
    data = {"binding_id": binding["id"], "disease_code": "MT004"}
    submitted = await client.post("/insurance/special-diseases", data=data, files=files, headers=patient.headers)
    assert submitted.status_code == 303
    reviewer = bearer(await staff_token(client, "reviewer1"))
    queue = await client.get("/console/insurance/review", headers=reviewer)
    assert f'<td class="applicant">{mask_name("孙特病")}' in queue.text and "孙特病" not in queue.text
    assert f'<td class="hospital">{demo.hospital.name_zh}</td>' in queue.text
