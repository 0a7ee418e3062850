"""Insurance pages: bind (success and a refusal with its hint), my e-voucher with the policy
version, filing, special-disease application; console policy editor, review queue, dashboard."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from medcard.kit.clock import clock
from tests.factories import Demo, bearer, staff_token
from tests.insurance.conftest import MakePatient, Patient


def bind_form(patient: Patient, **overrides: str) -> dict[str, str]:
    form = patient.form(**overrides)
    form.pop("face_image")
    return form


async def test_r_ins_01_bind_page_binds_and_my_voucher_shows_the_policy_version(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    patient = await make_patient()
    form_page = await client.get("/insurance/bind", headers=patient.headers)
    assert form_page.status_code == 200
    assert patient.insurance_card_number in form_page.text  # the sandbox hint
    files = {"face_image": ("selfie.jpg", b"SANDBOX-LIVE", "image/jpeg")}
    response = await client.post("/insurance/bind", data=bind_form(patient), files=files, headers=patient.headers)
    assert response.status_code == 303
    mine = await client.get(response.headers["location"], headers=patient.headers)
    assert "绑定成功" in mine.text
    # Names, not codes (issue 9): the scheme and the place, and the policy version in words.
    assert "城镇职工基本医疗保险 · 北京市" in mine.text and "北京市医保政策第 1 版" in mine.text
    assert "110000 v1" not in mine.text and "· 310 ·" not in mine.text
    assert 'data-status="active"' in mine.text


async def test_r_ins_09_bind_page_shows_the_refusal_and_its_hint(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    patient = await make_patient(region="310104", sequence=89)
    files = {"face_image": ("selfie.jpg", b"SANDBOX-LIVE", "image/jpeg")}
    response = await client.post("/insurance/bind", data=bind_form(patient), files=files, headers=patient.headers)
    assert response.status_code == 409
    assert 'data-code="INS_OFFLINE_CHECK_REQUIRED"' in response.text
    assert "线下完成一次身份核验" in response.text and "自助机" in response.text


async def test_r_ins_06_filing_page_creates_and_cancels(client: httpx.AsyncClient, make_patient: MakePatient) -> None:
    patient = await make_patient()
    binding = (await client.post("/api/v1/insurance/bindings", json=patient.form(), headers=patient.headers)).json()
    near = {"binding_id": binding["id"], "destination_region_code": "130100", "reason": "temporary"}
    refused = await client.post("/insurance/filings", data=near, headers=patient.headers)
    assert 'data-code="INS_FILING_NOT_NEEDED"' in refused.text
    far = {**near, "destination_region_code": "440100"}
    created = await client.post("/insurance/filings", data=far, headers=patient.headers)
    assert created.status_code == 303
    listed = await client.get("/insurance/filings", headers=patient.headers)
    assert 'id="filing-1" data-status="active"' in listed.text
    page_text = listed.text
    filing_id = page_text.split('action="/insurance/filings/')[1].split("/cancel")[0]
    await client.post(f"/insurance/filings/{filing_id}/cancel", headers=patient.headers)
    assert 'data-status="cancelled"' in (await client.get("/insurance/filings", headers=patient.headers)).text


async def test_r_ins_07_patient_applies_and_reviewer_approves_in_the_console(
    client: httpx.AsyncClient, make_patient: MakePatient, demo: Demo
) -> None:
    patient = await make_patient()
    binding = (await client.post("/api/v1/insurance/bindings", json=patient.form(), headers=patient.headers)).json()
    files = {"materials": ("diagnosis.pdf", b"%PDF-1.7 diagnosis", "application/pdf")}
    data = {"binding_id": binding["id"], "disease_code": "MT004"}
    assert (
        await client.post("/insurance/special-diseases", data=data, files=files, headers=patient.headers)
    ).status_code == 303
    reviewer = bearer(await staff_token(client, "reviewer1"))
    queue = await client.get("/console/insurance/review", headers=reviewer)
    assert "糖尿病" in queue.text and "diagnosis.pdf" in queue.text
    application_id = queue.text.split('action="/console/insurance/review/')[1].split('"')[0]
    done = await client.post(
        f"/console/insurance/review/{application_id}", data={"decision": "approve", "note": "同意"}, headers=reviewer
    )
    assert done.status_code == 303
    assert 'id="queue-empty"' in (await client.get("/console/insurance/review", headers=reviewer)).text
    mine = await client.get("/insurance/special-diseases", headers=patient.headers)
    assert 'data-status="approved"' in mine.text and "同意" in mine.text


async def test_r_ins_03_console_policy_editor_adds_a_dated_version_with_history(
    client: httpx.AsyncClient, demo: Demo, make_patient: MakePatient
) -> None:
    clock.freeze(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    admin = bearer(await staff_token(client, "admin1"))
    listing = await client.get("/console/policy", headers=admin)
    assert 'id="open-region-310000"' in listing.text
    editor = await client.get("/console/policy/region/310000", headers=admin)
    assert "shipped-data" in editor.text and "7.0.3" in editor.text
    bad = await client.post(
        "/console/policy/region/310000",
        data={"data": "{not json", "effective_from": "2026-03-02", "reason": "试一下"},
        headers=admin,
    )
    assert 'data-code="POLICY_INVALID"' in bad.text
    data = editor.text.split('<textarea id="data" name="data" rows="18" spellcheck="false">')[1].split("</textarea>")[0]
    data = data.replace("&#34;", '"').replace("7.0.3", "7.1.0")
    saved = await client.post(
        "/console/policy/region/310000",
        data={"data": data, "effective_from": "2026-04-01", "reason": "市医保局通知"},
        headers=admin,
    )
    assert saved.status_code == 303
    history = await client.get(saved.headers["location"], headers=admin)
    assert 'id="version-2"' in history.text and "市医保局通知" in history.text and "admin:admin1" in history.text
    assert "待生效" in history.text
    assert "v1" in history.text.split('id="in-force"')[1][:80]


async def test_r_ops_01_console_dashboard_shows_success_by_scheme(
    client: httpx.AsyncClient, demo: Demo, make_patient: MakePatient
) -> None:
    patient = await make_patient()
    await client.post("/api/v1/insurance/bindings", json=patient.form(card_number="1"), headers=patient.headers)
    await client.post("/api/v1/insurance/bindings", json=patient.form(), headers=patient.headers)
    admin = bearer(await staff_token(client, "admin1"))
    board = await client.get("/console/insurance/dashboard", headers=admin)
    assert 'id="scheme-310"' in board.text and "100.0%" in board.text
    assert 'id="category-card_number"' in board.text


async def test_r_ins_04_my_voucher_shows_the_scheme_terms(client: httpx.AsyncClient, make_patient: MakePatient) -> None:
    patient = await make_patient(sequence=45)
    await client.post("/api/v1/insurance/bindings", json=patient.form(), headers=patient.headers)
    mine = await client.get("/insurance", headers=patient.headers)
    assert "城乡居民基本医疗保险" in mine.text
    assert "门诊年度限额 ¥500.00" in mine.text
    assert "3 个工作日后退回" in mine.text


async def test_home_insurance_tile_shows_the_scheme_and_the_balance_on_request(
    client: httpx.AsyncClient, make_patient: MakePatient
) -> None:
    """The card home names the bound scheme and asks the platform (1101) for the personal-account
    balance only when the patient taps 查询余额."""
    import re

    patient = await make_patient()
    files = {"face_image": ("selfie.jpg", b"SANDBOX-LIVE", "image/jpeg")}
    bound = await client.post("/insurance/bind", data=bind_form(patient), files=files, headers=patient.headers)
    assert bound.status_code == 303
    home = (await client.get("/me", headers=patient.headers)).text
    assert 'id="insurance-summary"' in home and 'id="show-balance"' in home
    link = re.search(r'hx-get="(/insurance/[^"]+/balance)"', home)
    assert link is not None
    balance = await client.get(link.group(1), headers={**patient.headers, "HX-Request": "true"})
    assert balance.status_code == 200 and re.search(r"¥\d+\.\d\d", balance.text)
