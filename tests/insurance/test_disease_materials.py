"""Special-disease materials (R-INS-07, issue 9): the patient's PDF / JPEG / PNG scans are stored
SM4-encrypted (R-SEC-08) and opened by a reviewer of the card's hospital only, every look audited."""

from __future__ import annotations

import base64

import httpx
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.demo import DEMO_PASSWORD
from medcard.kit.crypto import hash_password
from medcard.models import AuditEvent, StaffUser
from tests.factories import Demo, bearer, staff_token
from tests.insurance.conftest import MakePatient, Patient

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\nDIAGNOSIS-CERTIFICATE-4417\n%%EOF"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16 + b"RECORD-PAGE-2208"
PAGE = "/insurance/special-diseases"
QUEUE = "/console/insurance/review"


async def _apply(client: httpx.AsyncClient, patient: Patient, files: list[tuple[str, tuple[str, bytes, str]]]):  # type: ignore[no-untyped-def]
    binding = (await client.post("/api/v1/insurance/bindings", json=patient.form(), headers=patient.headers)).json()
    data = {"binding_id": binding["id"], "disease_code": "MT004"}
    return await client.post(PAGE, data=data, files=files, headers=patient.headers)


def _materials(pdf: bytes = PDF) -> list[tuple[str, tuple[str, bytes, str]]]:
    # the client's claimed types are wrong on purpose: the server sniffs the bytes
    return [
        ("materials", ("诊断证明.pdf", pdf, "application/octet-stream")),
        ("materials", ("病历.png", PNG, "image/jpeg")),
    ]


async def test_r_ins_07_reviewer_opens_the_encrypted_materials_and_approves(
    client: httpx.AsyncClient, make_patient: MakePatient, demo: Demo, db: AsyncSession
) -> None:
    """Upload through the patient page → the queue shows applicant, hospital and the files → the
    reviewer opens each (right type, inline, no-store, nosniff; audited) → approves."""
    patient = await make_patient(name="钱慢病")
    assert (await _apply(client, patient, _materials())).status_code == 303
    stored = (await db.execute(text("SELECT data FROM disease_material ORDER BY position"))).scalars().all()
    assert len(stored) == 2
    for raw, content in zip(stored, (PDF, PNG), strict=True):
        assert raw.startswith("v") and base64.b64encode(content).decode() not in raw
    assert all(b"DIAGNOSIS-CERTIFICATE" not in raw.encode() for raw in stored)

    reviewer = bearer(await staff_token(client, "reviewer1"))
    queue = await client.get(QUEUE, headers=reviewer)
    assert f'<td class="hospital">{demo.hospital.name_zh}</td>' in queue.text
    assert "诊断证明.pdf" in queue.text and "PDF" in queue.text and "PNG" in queue.text
    application_id = queue.text.split('action="/console/insurance/review/')[1].split('"')[0]
    for position, (content, media_type, name) in enumerate(
        [(PDF, "application/pdf", "material-1.pdf"), (PNG, "image/png", "material-2.png")]
    ):
        url = f"{QUEUE}/{application_id}/materials/{position}"
        assert f'href="{url}"' in queue.text
        shown = await client.get(url, headers=reviewer)
        assert (shown.status_code, shown.content, shown.headers["content-type"]) == (200, content, media_type)
        assert shown.headers["content-disposition"] == f'inline; filename="{name}"'
        assert shown.headers["cache-control"] == "no-store"
        assert shown.headers["x-content-type-options"] == "nosniff"
    views = (
        await db.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "insurance.special_disease.material_view")
            .order_by(AuditEvent.id)
        )
    ).all()
    assert sorted((v.actor_label, v.details["position"]) for v in views) == [
        ("reviewer:reviewer1", 0),
        ("reviewer:reviewer1", 1),
    ]
    assert all("MT004" not in str(v.details) and "诊断" not in str(v.details) for v in views)
    assert (await client.get(f"{QUEUE}/{application_id}/materials/2", headers=reviewer)).status_code == 404

    done = await client.post(
        f"{QUEUE}/{application_id}", data={"decision": "approve", "note": "材料齐全"}, headers=reviewer
    )
    assert done.status_code == 303
    mine = await client.get(PAGE, headers=patient.headers)
    assert 'data-status="approved"' in mine.text


async def test_r_ins_07_materials_are_pdf_jpeg_or_png_only(
    client: httpx.AsyncClient, make_patient: MakePatient, db: AsyncSession
) -> None:
    """A GIF, a Word file named .pdf or an empty upload is refused on the form, in both languages."""
    patient = await make_patient()
    refused = await _apply(
        client, patient, [("materials", ("scan.pdf", b"PK\x03\x04 word document", "application/pdf"))]
    )
    assert refused.status_code == 415
    assert 'data-code="UNSUPPORTED_DOCUMENT_TYPE"' in refused.text
    assert "仅支持 PDF、JPEG、PNG" in refused.text
    gif = await client.post(
        "/api/v1/insurance/special-diseases",
        data={"binding_id": refused.text.split('<option value="')[1].split('"')[0], "disease_code": "MT004"},
        files=[("materials", ("scan.gif", b"GIF89a....", "image/gif"))],
        headers={**patient.headers, "Accept-Language": "en"},
    )
    assert (gif.status_code, gif.json()["code"]) == (415, "UNSUPPORTED_DOCUMENT_TYPE")
    assert "PDF, JPEG or PNG only" in gif.json()["title"] + gif.json().get("detail", "")
    assert (await db.execute(text("SELECT count(*) FROM disease_material"))).scalar_one() == 0


async def test_r_ins_07_materials_have_a_size_and_count_limit(
    client: httpx.AsyncClient, make_patient: MakePatient, db: AsyncSession
) -> None:
    patient = await make_patient()
    big = PDF + b"0" * (5 * 1024 * 1024)
    too_big = await _apply(client, patient, [("materials", ("big.pdf", big, "application/pdf"))])
    assert (too_big.status_code, 'data-code="UPLOAD_TOO_LARGE"' in too_big.text) == (413, True)
    binding_id = too_big.text.split('<option value="')[1].split('"')[0]
    seven = [("materials", (f"p{i}.pdf", PDF, "application/pdf")) for i in range(7)]
    data = {"binding_id": binding_id, "disease_code": "MT004"}
    too_many = await client.post(PAGE, data=data, files=seven, headers=patient.headers)
    assert (too_many.status_code, 'data-code="INS_MATERIALS_COUNT"' in too_many.text) == (422, True)
    none = await client.post(
        PAGE, data=data, files=[("materials", ("", b"", "application/octet-stream"))], headers=patient.headers
    )
    # no file chosen (a browser sends an empty part; the input is ``required`` too): flagged on the field
    assert none.status_code == 422 and '<li data-field="materials"><strong>申请材料</strong>' in none.text
    assert (await db.execute(text("SELECT count(*) FROM disease_material"))).scalar_one() == 0


async def test_r_ins_07_only_reviewers_of_the_cards_hospital_see_the_materials(
    client: httpx.AsyncClient, make_patient: MakePatient, demo: Demo, db: AsyncSession
) -> None:
    """A reviewer of another hospital gets neither the queue entry nor the file (404, like a
    missing one, R-CARD-05); a cashier is refused; the patient's session is not staff."""
    patient = await make_patient()
    assert (await _apply(client, patient, _materials())).status_code == 303
    own = bearer(await staff_token(client, "reviewer1"))
    application_id = (
        (await client.get(QUEUE, headers=own)).text.split('action="/console/insurance/review/')[1].split('"')[0]
    )
    db.add(
        StaffUser(
            username="county-reviewer",
            display_name="县医院审核",
            password_hash=hash_password(DEMO_PASSWORD),
            role="reviewer",
            hospital_id=demo.county_hospital.id,
        )
    )
    await db.commit()
    other = bearer(await staff_token(client, "county-reviewer"))
    assert 'id="queue-empty"' in (await client.get(QUEUE, headers=other)).text
    url = f"{QUEUE}/{application_id}/materials/0"
    assert (await client.get(url, headers=other)).status_code == 404
    refused = await client.post(f"{QUEUE}/{application_id}", data={"decision": "approve"}, headers=other)
    assert refused.status_code == 404
    api_queue = await client.get("/api/v1/staff/insurance/special-diseases", headers=other)
    assert api_queue.json() == []
    assert (await client.get(url, headers=bearer(await staff_token(client, "cashier1")))).status_code == 403
    as_patient = await client.get(url, headers=patient.headers)
    assert (as_patient.status_code, as_patient.headers["location"].startswith("/console/login")) == (303, True)
    platform = bearer(await staff_token(client, "admin1"))  # platform staff: no hospital, sees all
    assert (await client.get(url, headers=platform)).status_code == 200
    views = (
        await db.scalars(
            select(AuditEvent.actor_label).where(AuditEvent.action == "insurance.special_disease.material_view")
        )
    ).all()
    assert views == ["admin:admin1"]
