"""Family members through the API (R-FAM-01…06): adding relatives with proof, the 5-patient limit,
staff review, switching patient, a patient ending the proxy, the end at 18, the audit of proxies."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, date, datetime

import httpx
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.identity import _png_with_text
from medcard.config import Settings
from medcard.family.rules import GUARDIAN_DOCUMENTS
from medcard.family.service import expire_relations, report_recipient
from medcard.kit.clock import clock
from medcard.models import Account, AuditEvent, FamilyMember, FamilyProof, Person
from tests.factories import Demo, bearer, patient_token, staff_token
from tests.family.helpers import PHOTO, PROOF, add, card_for, person, verify

FATHER_BIRTH = date(1955, 3, 2)


def _big_photos() -> dict[str, tuple[str, bytes, str]]:
    photo = _png_with_text(b"x" * 300_000)
    return {doc: (f"{doc}.png", photo, "image/png") for doc in GUARDIAN_DOCUMENTS}


async def _count(db: AsyncSession, model: type[FamilyMember] | type[FamilyProof]) -> int:
    return int(await db.scalar(select(func.count()).select_from(model)) or 0)


async def _approve(client: httpx.AsyncClient, member_id: str, *, approve: bool = True) -> httpx.Response:
    reviewer = bearer(await staff_token(client, "reviewer1"))
    return await client.post(
        f"/api/v1/family/reviews/{member_id}", json={"approve": approve, "note": "核对户口本"}, headers=reviewer
    )


async def _child(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings, birth: date, name: str = "张小明"
) -> dict[str, object]:
    number = person(settings, name, birth, region="110101")
    fields = {"birth_certificate_number": "P110123456"} if clock.today_in_china().year - birth.year < 15 else {}
    response = await add(
        client, holder, name=name, number=number, relation="child", proof_kind="birth_certificate", **fields
    )
    assert response.status_code == 201, response.text
    return dict(response.json()) | {"number": number}


async def test_r_fam_02_an_elderly_parent_is_added_with_proof_reviewed_then_gets_a_card(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    """The commonest case: a child helps his father. The relation waits for staff review; until
    then the son cannot act for him; approved, he applies for and sees his father's card."""
    number = person(settings, "张建国", FATHER_BIRTH)
    response = await add(client, holder, name="张建国", number=number, relation="parent")
    assert response.status_code == 201, response.text
    member = response.json()
    assert (member["status"], member["relation"], member["ends_on"], member["documents"]) == (
        "pending_review",
        "parent",
        None,
        ["relation_proof"],
    )
    assert number not in response.text
    father_id = member["patient"]["id"]
    refused = await client.post(
        "/api/v1/cards", json={"hospital": "H110001", "subject": father_id, "fields": {}}, headers=holder
    )
    assert refused.status_code == 404
    approved = await _approve(client, member["id"])
    assert approved.status_code == 200 and approved.json()["status"] == "active"
    card_id = await card_for(client, holder, father_id)
    listed = (await client.get("/api/v1/cards", headers=holder)).json()
    assert [card["id"] for card in listed] == [card_id]


async def test_r_fam_02_proofs_are_stored_encrypted_and_shown_to_reviewers_only(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    number = person(settings, "张建国", FATHER_BIRTH)
    member = (await add(client, holder, name="张建国", number=number, relation="parent")).json()
    raw = (await db.execute(text("SELECT data FROM family_proof"))).scalars().all()
    assert len(raw) == 1 and raw[0].startswith("v") and base64.b64encode(PROOF).decode() not in raw[0]
    assert b"SANDBOX-GUARDIAN" not in raw[0].encode()
    reviewer = bearer(await staff_token(client, "reviewer1"))
    url = f"/api/v1/family/reviews/{member['id']}/proofs/relation_proof"
    shown = await client.get(url, headers=reviewer)
    assert (shown.status_code, shown.content, shown.headers["content-type"]) == (200, PROOF, "image/png")
    assert (await client.get(url, headers=holder)).status_code == 401
    cashier = bearer(await staff_token(client, "cashier1"))
    assert (await client.get(url, headers=cashier)).status_code == 403
    viewed = await db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "family.proof_view")
    )
    assert viewed == 1
    rejected = await _approve(client, member["id"], approve=False)
    assert rejected.json()["status"] == "rejected"
    assert (await client.get(url, headers=reviewer)).status_code == 404  # erased with the rejection
    proof = await db.scalar(select(FamilyProof))
    assert proof is not None and proof.data is None and proof.purged_at is not None


async def test_r_fam_02_guardian_binding_needs_both_id_photos_and_the_photo_holding_the_id(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    number = person(settings, "李老汉", date(1940, 1, 5))
    partial = await add(
        client,
        holder,
        name="李老汉",
        number=number,
        relation="guardian",
        proof_kind="guardianship_certificate",
        documents=("relation_proof", "holder_id_photo"),
    )
    assert (partial.status_code, partial.json()["code"], partial.json()["field"]) == (
        400,
        "FAMILY_PROOF_MISSING",
        "patient_id_photo",
    )
    assert "手持身份证" in partial.json()["title_zh"]
    assert await _count(db, FamilyMember) == 0
    complete = await add(
        client,
        holder,
        name="李老汉",
        number=number,
        relation="guardian",
        proof_kind="guardianship_certificate",
        documents=("relation_proof", "holder_id_photo", "patient_id_photo", "holder_with_id"),
    )
    assert complete.status_code == 201, complete.text
    assert complete.json()["status"] == "pending_review"
    assert sorted(complete.json()["documents"]) == [
        "holder_id_photo",
        "holder_with_id",
        "patient_id_photo",
        "relation_proof",
    ]
    reviewer = bearer(await staff_token(client, "reviewer1"))
    photo = await client.get(f"/api/v1/family/reviews/{complete.json()['id']}/proofs/holder_with_id", headers=reviewer)
    assert photo.content == PHOTO
    big = await add(  # four phone photos of ~300 KiB pass the body limit (the default is 64 KiB)
        client,
        holder,
        name="李老太",
        number=person(settings, "李老太", date(1942, 2, 2)),
        relation="guardian",
        proof_kind="guardianship_certificate",
        documents=(),
        files=_big_photos(),
    )
    assert big.status_code == 201, big.text
    assert (await _approve(client, complete.json()["id"])).json()["status"] == "active"
    base = f"/api/v1/family/reviews/{complete.json()['id']}/proofs"
    assert (await client.get(f"{base}/holder_with_id", headers=reviewer)).status_code == 404  # face erased
    assert (await client.get(f"{base}/relation_proof", headers=reviewer)).status_code == 200


async def test_r_fam_02_an_unverified_account_cannot_add_relatives(
    client: httpx.AsyncClient, adapters: Adapters, settings: Settings, demo: Demo
) -> None:
    stranger = bearer(await patient_token(client, adapters))
    response = await add(
        client, stranger, name="张建国", number=person(settings, "张建国", FATHER_BIRTH), relation="parent"
    )
    assert (response.status_code, response.json()["code"]) == (403, "FAMILY_HOLDER_NOT_VERIFIED")


async def test_r_fam_02_wrong_proof_kind_or_impossible_relation_is_refused(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings
) -> None:
    number = person(settings, "张建国", FATHER_BIRTH)
    wrong = await add(client, holder, name="张建国", number=number, relation="spouse", proof_kind="birth_certificate")
    assert (wrong.json()["code"], wrong.json()["field"]) == ("FAMILY_PROOF_KIND_INVALID", "proof_kind")
    younger = await add(
        client, holder, name="张小红", number=person(settings, "张小红", date(1995, 1, 1)), relation="parent"
    )
    assert (younger.json()["code"], younger.json()["field"]) == ("FAMILY_RELATION_IMPLAUSIBLE", "relation")


async def test_r_fam_03_child_under_14_needs_the_birth_certificate_number_and_is_active_at_once(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    number = person(settings, "张小明", date(2016, 5, 1), region="110101")
    missing = await add(client, holder, name="张小明", number=number, relation="child", proof_kind="birth_certificate")
    assert (missing.status_code, missing.json()["code"]) == (400, "BIRTH_CERTIFICATE_NUMBER_REQUIRED")
    assert await _count(db, FamilyMember) == 0
    child = await _child(client, holder, settings, date(2016, 5, 1))
    assert (child["status"], child["ends_on"], child["age"]) == ("active", "2034-05-01", 10)
    stored = await db.scalar(select(FamilyMember))
    assert stored is not None and stored.birth_certificate_number == "P110123456"
    assert stored.provider_reference == "SBX-GUARDIAN"  # the authority confirmed the guardianship
    # the identity slice's children list shows the same child (one route, one record)
    wards = (await client.get("/api/v1/identity/wards", headers=holder)).json()
    assert [w["ward"]["id"] for w in wards] == [child["patient"]["id"]]  # type: ignore[index]


async def test_r_fam_01_the_sixth_patient_is_refused_and_a_freed_place_can_be_used(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    """The holder plus 4 relatives are 5 patients; a 5th relative is refused with a clear error."""
    relatives = [
        ("张建国", date(1955, 3, 2), "parent"),
        ("王秀英", date(1957, 8, 9), "parent"),
        ("李娜", date(1989, 2, 3), "spouse"),
    ]
    ids = []
    for name, birth, relation in relatives:
        response = await add(
            client,
            holder,
            name=name,
            number=person(settings, name, birth),
            relation=relation,
            proof_kind="marriage_certificate" if relation == "spouse" else "household_register",
        )
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    await _child(client, holder, settings, date(2016, 5, 1))
    sixth = await add(
        client,
        holder,
        name="张小华",
        number=person(settings, "张小华", date(2018, 7, 7), region="110101"),
        relation="child",
        proof_kind="birth_certificate",
        birth_certificate_number="P110654321",
    )
    assert (sixth.status_code, sixth.json()["code"]) == (409, "FAMILY_LIMIT_REACHED")
    assert "5" in sixth.json()["title_zh"] and "含本人" in sixth.json()["title_zh"]
    assert await _count(db, FamilyMember) == 4
    removed = await client.delete(f"/api/v1/family/members/{ids[2]}", headers=holder)
    assert removed.json()["status"] == "dissolved"
    again = await add(
        client,
        holder,
        name="张小华",
        number=person(settings, "张小华", date(2018, 7, 7), region="110101"),
        relation="child",
        proof_kind="birth_certificate",
        birth_certificate_number="P110654321",
    )
    assert again.status_code == 201, again.text


async def test_r_fam_01_switch_patient_is_remembered_per_session(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings, adapters: Adapters, db: AsyncSession
) -> None:
    child = await _child(client, holder, settings, date(2016, 5, 1))
    child_id = str(child["patient"]["id"])  # type: ignore[index]
    switched = await client.put("/api/v1/family/current", json={"person_id": child_id}, headers=holder)
    assert switched.status_code == 200 and switched.json()["id"] == child_id
    current = [p for p in (await client.get("/api/v1/family/patients", headers=holder)).json() if p["current"]]
    assert [p["id"] for p in current] == [child_id]
    stranger = await client.put("/api/v1/family/current", json={"person_id": str(uuid.uuid4())}, headers=holder)
    assert stranger.status_code == 404
    back = await client.put("/api/v1/family/current", json={"person_id": None}, headers=holder)
    assert back.json()["id"] != child_id


async def test_r_fam_06_a_patient_of_16_ends_the_proxy_and_the_proxy_gets_404_at_once(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings, adapters: Adapters, db: AsyncSession
) -> None:
    """R-FAM-06: a patient aged 16 ends the proxy from his own login; the proxy gets 404 at once."""
    teen = await _child(client, holder, settings, date(2010, 4, 4), "张小刚")
    teen_id = str(teen["patient"]["id"])  # type: ignore[index]
    card_id = await card_for(client, holder, teen_id)
    await client.put("/api/v1/family/current", json={"person_id": teen_id}, headers=holder)
    assert (await client.get(f"/api/v1/cards/{card_id}", headers=holder)).status_code == 200
    # the teenager logs in himself, proves who he is, and sees who acts for him
    own = bearer(await patient_token(client, adapters))
    await verify(client, own, name="张小刚", number=str(teen["number"]))
    proxies = (await client.get("/api/v1/family/proxies", headers=own)).json()
    assert [(p["status"], p["may_dissolve"]) for p in proxies] == [("active", True)]
    ended = await client.post(f"/api/v1/family/proxies/{proxies[0]['id']}/dissolve", headers=own)
    assert ended.status_code == 200 and ended.json()["status"] == "dissolved"
    assert (await client.get(f"/api/v1/cards/{card_id}", headers=holder)).status_code == 404
    assert card_id not in (await client.get("/api/v1/cards", headers=holder)).text
    assert (await client.get(f"/api/v1/cards/{card_id}/qr", headers=holder)).status_code == 404
    assert (await client.get("/api/v1/identity/wards", headers=holder)).json() == []
    patients = (await client.get("/api/v1/family/patients", headers=holder)).json()
    assert [p["is_self"] for p in patients] == [True] and patients[0]["current"]  # the session fell back
    assert [c["id"] for c in (await client.get("/api/v1/cards", headers=own)).json()] == [card_id]
    proof = await db.scalar(select(FamilyProof))
    assert proof is not None and proof.data is None  # erased with the relation


async def test_r_fam_06_under_16_the_patient_cannot_end_it_himself(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings, adapters: Adapters
) -> None:
    teen = await _child(client, holder, settings, date(2011, 11, 24), "张小强")  # 15 until tomorrow
    own = bearer(await patient_token(client, adapters))
    await verify(client, own, name="张小强", number=str(teen["number"]))
    proxies = (await client.get("/api/v1/family/proxies", headers=own)).json()
    assert proxies[0]["may_dissolve"] is False
    refused = await client.post(f"/api/v1/family/proxies/{proxies[0]['id']}/dissolve", headers=own)
    assert (refused.status_code, refused.json()["code"]) == (403, "FAMILY_DISSOLVE_TOO_YOUNG")
    someone = await client.post(f"/api/v1/family/proxies/{uuid.uuid4()}/dissolve", headers=own)
    assert someone.status_code == 404


async def test_r_fam_06_the_relation_ends_when_the_child_turns_18(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    """A minor's proxy ends on his 18th birthday (China time): the card is 404 from that day on,
    before the periodic job writes the end down and erases the proofs."""
    child = await _child(client, holder, settings, date(2008, 11, 24), "张小丽")  # 18 tomorrow
    assert child["ends_on"] == "2026-11-24"
    card_id = await card_for(client, holder, str(child["patient"]["id"]))  # type: ignore[index]
    clock.freeze(datetime(2026, 11, 23, 15, 59, tzinfo=UTC))  # 23:59 in China
    assert await expire_relations(db) == 0
    assert (await client.get(f"/api/v1/cards/{card_id}", headers=holder)).status_code == 200
    clock.freeze(datetime(2026, 11, 23, 16, 1, tzinfo=UTC))  # 00:01 on her birthday
    assert (await client.get(f"/api/v1/cards/{card_id}", headers=holder)).status_code == 404
    shown = (await client.get("/api/v1/family/members", headers=holder)).json()
    assert shown[0]["status"] == "expired"
    assert await expire_relations(db) == 1
    member = await db.scalar(select(FamilyMember))
    assert member is not None and (member.status, member.ended_by) == ("expired", "age")
    assert (await db.scalar(select(FamilyProof.data))) is None


async def test_r_fam_06_every_proxy_access_is_audited(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings, db: AsyncSession
) -> None:
    child = await _child(client, holder, settings, date(2016, 5, 1))
    card_id = await card_for(client, holder, str(child["patient"]["id"]))  # type: ignore[index]
    before = await db.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "family.proxy_access")
    )
    await client.get(f"/api/v1/cards/{card_id}", headers=holder)
    await client.get(f"/api/v1/cards/{card_id}/qr", headers=holder)
    rows = (
        await db.scalars(select(AuditEvent).where(AuditEvent.action == "family.proxy_access").order_by(AuditEvent.at))
    ).all()
    assert len(rows) == int(before or 0) + 2
    assert rows[-1].subject_id == card_id and rows[-1].details["what"] == "card"
    assert rows[-1].details["patient_id"] == child["patient"]["id"]  # type: ignore[index]


async def test_r_fam_05_reports_of_a_proxied_patient_are_addressed_to_the_main_account_only(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings, adapters: Adapters, db: AsyncSession
) -> None:
    """R-FAM-05: a proxied patient's reports are addressed to the main account only."""
    teen = await _child(client, holder, settings, date(2010, 4, 4), "张小刚")
    own = bearer(await patient_token(client, adapters))
    await verify(client, own, name="张小刚", number=str(teen["number"]))
    patient = await db.get(Person, uuid.UUID(str(teen["patient"]["id"])))  # type: ignore[index]
    assert patient is not None
    main = await report_recipient(db, patient=patient)
    own_account = await db.scalar(select(Account).where(Account.person_id == patient.id))
    assert main is not None and own_account is not None and main.id != own_account.id
    proxies = (await client.get("/api/v1/family/proxies", headers=own)).json()
    await client.post(f"/api/v1/family/proxies/{proxies[0]['id']}/dissolve", headers=own)
    again = await report_recipient(db, patient=patient)
    assert again is not None and again.id == own_account.id
