"""Family pages without a browser: add a relative (errors next to the field), switch patient on
the home and payment-code pages, the reviewer's queue (R-FAM-01…03)."""

from __future__ import annotations

from datetime import date

import httpx

from medcard.config import Settings
from tests.factories import bearer, staff_token
from tests.family.helpers import PROOF, card_for, person


def _files(*documents: str) -> dict[str, tuple[str, bytes, str]]:
    return {doc: (f"{doc}.png", PROOF, "image/png") for doc in documents}


async def test_r_fam_03_family_page_adds_a_child_and_shows_the_refusal_next_to_the_field(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings
) -> None:
    page = await client.get("/family", headers=holder)
    assert page.status_code == 200 and 'id="no-members"' in page.text and "含本人" in page.text
    form = {
        "relation": "child",
        "document_type": "resident_id",
        "document_number": person(settings, "张小明", date(2016, 5, 1), region="110101"),
        "name": "张小明",
        "proof_kind": "birth_certificate",
    }
    refused = await client.post("/family", data=form, files=_files("relation_proof"), headers=holder)
    assert refused.status_code == 400
    assert 'id="birth_certificate_number-error"' in refused.text and "14" in refused.text
    added = await client.post(
        "/family",
        data=form | {"birth_certificate_number": "P110123456"},
        files=_files("relation_proof"),
        headers=holder,
    )
    assert (added.status_code, added.headers["location"]) == (303, "/family?done=added")
    shown = await client.get("/family?done=added", headers=holder)
    assert 'id="member-added"' in shown.text and 'data-status="active"' in shown.text and "*小明" in shown.text


async def test_r_fam_01_switch_patient_on_home_and_payment_code_pages(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings
) -> None:
    form = {
        "relation": "child",
        "document_number": person(settings, "张小明", date(2016, 5, 1), region="110101"),
        "name": "张小明",
        "proof_kind": "birth_certificate",
        "birth_certificate_number": "P110123456",
    }
    await client.post("/family", data=form, files=_files("relation_proof"), headers=holder)
    child_id = (await client.get("/api/v1/family/members", headers=holder)).json()[0]["patient"]["id"]
    card_id = await card_for(client, holder, child_id)
    home = await client.get("/me", headers=holder)
    assert 'id="patient-switcher"' in home.text and card_id not in home.text  # the holder's own cards
    switched = await client.post("/family/switch", data={"person_id": child_id, "next": "/me"}, headers=holder)
    assert (switched.status_code, switched.headers["location"]) == (303, "/me")
    home = await client.get("/me", headers=holder)
    assert f"/cards/{card_id}" in home.text and "*小明" in home.text
    codes = await client.get("/codes", headers=holder)
    assert 'id="paying-for"' in codes.text and card_id in codes.text
    insurance = await client.get("/insurance", headers=holder)
    assert 'id="patient-switcher"' in insurance.text and f'value="{child_id}" selected' in insurance.text
    evil = await client.post("/family/switch", data={"person_id": "self", "next": "//evil.example"}, headers=holder)
    assert evil.headers["location"] == "/me"


async def test_r_fam_02_reviewer_approves_from_the_console(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings
) -> None:
    form = {
        "relation": "parent",
        "document_number": person(settings, "张建国", date(1955, 3, 2)),
        "name": "张建国",
        "proof_kind": "household_register",
    }
    await client.post("/family", data=form, files=_files("relation_proof"), headers=holder)
    reviewer = bearer(await staff_token(client, "reviewer1"))
    queue = await client.get("/console/family/reviews", headers=reviewer)
    assert queue.status_code == 200 and 'id="review-1"' in queue.text and "*建国" in queue.text
    member_id = (await client.get("/api/v1/family/members", headers=holder)).json()[0]["id"]
    proof = await client.get(f"/console/family/reviews/{member_id}/proofs/relation_proof", headers=reviewer)
    assert proof.content == PROOF
    done = await client.post(f"/console/family/reviews/{member_id}", data={"decision": "approve"}, headers=reviewer)
    assert done.status_code == 303
    assert 'id="no-reviews"' in (await client.get("/console/family/reviews", headers=reviewer)).text
    assert (await client.get("/api/v1/family/members", headers=holder)).json()[0]["status"] == "active"
