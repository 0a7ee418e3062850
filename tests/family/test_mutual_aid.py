"""Family mutual aid (家庭共济, R-FAM-08): binding relatives to an employee's personal account
where the region allows it, limits, revocation, the sharing scope (R-SEC-07) and the order of
funds (R-PAY-02). Payments drawing on it: test_mutual_aid_payment.py (and _pg.py)."""

from __future__ import annotations

import uuid
from datetime import date

import httpx
import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.config import Settings
from medcard.family import rules as family_rules
from medcard.models import FamilyMember, MutualAidGrant, SecurityProfile
from medcard.settlement import rules as settlement_rules
from tests.family.helpers import add, person
from tests.insurance.conftest import MakePatient, make_patient, policy

__all__ = ["make_patient", "policy"]

# --- pure rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "scheme", "relation", "active", "bound", "expected"),
    [
        (True, "310", "active", 0, False, None),
        (True, "310", "active", 4, False, None),
        (True, "310", "active", 5, False, "limit"),
        (True, "310", "active", 5, True, None),  # updating a bound member's limits is no 6th
        (False, "310", "active", 0, False, "region"),
        (True, "390", "active", 0, False, "scheme"),
        (True, None, "active", 0, False, "scheme"),
        (True, "310", "pending_review", 0, False, "relation"),
        (True, "310", "dissolved", 0, False, "relation"),
    ],
)
def test_r_fam_08_who_may_be_bound(
    region: bool, scheme: str | None, relation: str, active: int, bound: bool, expected: str | None
) -> None:
    refusal = family_rules.mutual_aid_refusal(
        region_allows=region, scheme_code=scheme, relation_status=relation, active_grants=active, already_bound=bound
    )
    assert refusal == expected


@pytest.mark.parametrize(
    ("wanted", "available", "per_payment", "per_year", "used", "expected"),
    [
        (10_000, 50_000, None, None, 0, 10_000),
        (10_000, 3_000, None, None, 0, 3_000),  # never more than the account holds
        (10_000, 50_000, 2_000, None, 0, 2_000),  # per payment
        (10_000, 50_000, None, 25_000, 20_000, 5_000),  # what is left of the year
        (10_000, 50_000, None, 25_000, 25_000, 0),
        (10_000, 50_000, None, 25_000, 30_000, 0),  # never negative (limit lowered after use)
        (10_000, -5, None, None, 0, 0),
    ],
)
def test_r_fam_08_allowance_is_the_smallest_of_bill_balance_and_limits(
    wanted: int, available: int, per_payment: int | None, per_year: int | None, used: int, expected: int
) -> None:
    allowance = family_rules.mutual_aid_allowance(
        wanted,
        available_fen=available,
        per_payment_limit_fen=per_payment,
        per_year_limit_fen=per_year,
        used_this_year_fen=used,
    )
    assert allowance == expected


def test_r_fam_08_a_new_year_starts_the_yearly_use_at_zero() -> None:
    assert family_rules.used_this_year(2026, 7_000, 2026) == 7_000
    assert family_rules.used_this_year(2025, 7_000, 2026) == 0


@pytest.mark.parametrize(
    ("scope", "name", "balance"),
    [("none", False, False), ("cards", True, False), ("cards_and_bills", True, True)],
)
def test_r_fam_08_r_sec_07_the_sharing_scope_limits_what_a_member_sees(scope: str, name: bool, balance: bool) -> None:
    view = family_rules.mutual_aid_view(scope)
    assert (view.limits, view.principal_name, view.balance) == (True, name, balance)


def test_r_fam_08_r_pay_02_mutual_aid_pays_right_after_the_own_personal_account() -> None:
    split = settlement_rules.Split(10_000, 4_000, 6_000, 10_000, 0, 0, 0, 4_000, None, 0, "v")
    balances = settlement_rules.Balances(
        personal_account_fen=1_000, deposit_fen=2_000, credit_available_fen=0, family_mutual_aid_fen=2_500
    )
    funding = settlement_rules.fund_order(split, balances)
    assert (funding.fund_fen, funding.personal_account_fen, funding.family_mutual_aid_fen) == (4_000, 1_000, 2_500)
    assert (funding.deposit_fen, funding.self_pay_fen, funding.total_fen) == (2_000, 500, 10_000)
    no_aid = settlement_rules.fund_order(split, settlement_rules.Balances(personal_account_fen=7_000))
    assert (no_aid.personal_account_fen, no_aid.family_mutual_aid_fen) == (6_000, 0)


# --- through the API -------------------------------------------------------------------------------


async def _relatives(client: httpx.AsyncClient, settings: Settings, headers: dict[str, str], n: int) -> list[str]:
    ids = []
    for index in range(n):
        birth = date(1950 + index, 1, 1) if index < 2 else date(2010 + index, 2, 2)
        relation = "parent" if index < 2 else "child"
        name = f"李{'一二三四五六'[index]}"
        number = person(settings, name, birth)
        kind = "household_register" if relation == "parent" else "birth_certificate"
        extra = {"birth_certificate_number": f"Q44{index:07d}"} if birth.year >= 2013 else {}
        response = await add(client, headers, name=name, number=number, relation=relation, proof_kind=kind, **extra)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


async def _activate(db: AsyncSession, member_ids: list[str]) -> None:
    """Staff review is another rule's business (R-FAM-02): accept the proofs here."""
    await _set_status(db, member_ids, "active")


async def _set_status(db: AsyncSession, member_ids: list[str], status: str) -> None:
    ids = [uuid.UUID(m) for m in member_ids]
    await db.execute(update(FamilyMember).where(FamilyMember.id.in_(ids)).values(status=status))
    await db.commit()


async def test_r_fam_08_an_employee_in_guangzhou_binds_sets_limits_and_revokes(
    client: httpx.AsyncClient, db: AsyncSession, make_patient: MakePatient, settings: Settings
) -> None:
    patient = await make_patient(region="440106", sequence=5, name="陈共济")
    response = await client.post("/api/v1/insurance/bindings", json=patient.form(), headers=patient.headers)
    assert response.status_code == 201, response.text
    assert response.json()["scheme_code"] == "310"
    members = await _relatives(client, settings, patient.headers, 1)
    await _activate(db, members)

    body = {"member_id": members[0], "per_payment_limit_fen": 20_000, "per_year_limit_fen": 100_000}
    bound = await client.post("/api/v1/family/mutual-aid", json=body, headers=patient.headers)
    assert bound.status_code == 201, bound.text
    grant = bound.json()
    assert (grant["status"], grant["per_payment_limit_fen"], grant["used_this_year_fen"]) == ("active", 20_000, 0)

    changed = await client.put(
        f"/api/v1/family/mutual-aid/{grant['id']}", json={"per_payment_limit_fen": 5_000}, headers=patient.headers
    )
    assert changed.status_code == 200, changed.text
    assert (changed.json()["per_payment_limit_fen"], changed.json()["per_year_limit_fen"]) == (5_000, None)

    overview = (await client.get("/api/v1/family/mutual-aid", headers=patient.headers)).json()
    assert [g["id"] for g in overview["granted"]] == [grant["id"]]

    revoked = await client.delete(f"/api/v1/family/mutual-aid/{grant['id']}", headers=patient.headers)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    again = await client.put(
        f"/api/v1/family/mutual-aid/{grant['id']}", json={"per_payment_limit_fen": 1}, headers=patient.headers
    )
    assert again.status_code == 409 and again.json()["code"] == "MUTUAL_AID_NOT_ACTIVE"
    rebound = await client.post("/api/v1/family/mutual-aid", json=body, headers=patient.headers)
    assert rebound.status_code == 201 and rebound.json()["id"] == grant["id"]


async def test_r_fam_08_beijing_has_no_mutual_aid(
    client: httpx.AsyncClient, db: AsyncSession, make_patient: MakePatient, settings: Settings
) -> None:
    patient = await make_patient(region="110105", sequence=6, name="赵北京")
    response = await client.post("/api/v1/insurance/bindings", json=patient.form(), headers=patient.headers)
    assert response.status_code == 201, response.text
    members = await _relatives(client, settings, patient.headers, 1)
    await _activate(db, members)
    refused = await client.post("/api/v1/family/mutual-aid", json={"member_id": members[0]}, headers=patient.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "MUTUAL_AID_REGION_NOT_ALLOWED"


async def test_r_fam_08_without_insurance_or_a_current_relation_nothing_is_bound(
    client: httpx.AsyncClient, db: AsyncSession, make_patient: MakePatient, settings: Settings
) -> None:
    patient = await make_patient(region="440106", sequence=7, name="孙无保")
    members = await _relatives(client, settings, patient.headers, 1)
    refused = await client.post("/api/v1/family/mutual-aid", json={"member_id": members[0]}, headers=patient.headers)
    assert refused.status_code == 409 and refused.json()["code"] == "MUTUAL_AID_SCHEME_NOT_ELIGIBLE"
    response = await client.post("/api/v1/insurance/bindings", json=patient.form(), headers=patient.headers)
    assert response.status_code == 201, response.text
    await _set_status(db, members, "pending_review")  # the relation still waits for staff review
    pending = await client.post("/api/v1/family/mutual-aid", json={"member_id": members[0]}, headers=patient.headers)
    assert pending.status_code == 409 and pending.json()["code"] == "MUTUAL_AID_RELATION_NOT_CURRENT"
    stranger = await client.post(
        "/api/v1/family/mutual-aid", json={"member_id": str(uuid.uuid4())}, headers=patient.headers
    )
    assert stranger.status_code == 404


async def test_r_fam_08_at_most_five_members_the_sixth_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, make_patient: MakePatient, settings: Settings
) -> None:
    """An account holds 4 relatives (R-FAM-01), so two more active grants are rows here (a
    unit step: grants kept from relations of an earlier policy); the next bind is refused,
    and revoking one frees its place."""
    patient = await make_patient(region="440106", sequence=8, name="周五人")
    other = await make_patient(region="440106", sequence=11, name="周其他")
    response = await client.post("/api/v1/insurance/bindings", json=patient.form(), headers=patient.headers)
    assert response.status_code == 201, response.text
    members = await _relatives(client, settings, patient.headers, 4)
    await _activate(db, members)
    grants = []
    for member in members[:3]:
        bound = await client.post("/api/v1/family/mutual-aid", json={"member_id": member}, headers=patient.headers)
        assert bound.status_code == 201, bound.text
        grants.append(bound.json()["id"])
    first = await db.get(MutualAidGrant, uuid.UUID(grants[0]))
    assert first is not None
    for beneficiary in (first.principal_person_id, other.account.person_id):
        assert beneficiary is not None
        db.add(MutualAidGrant(principal_account_id=first.principal_account_id,
                              principal_person_id=first.principal_person_id, member_id=first.member_id,
                              beneficiary_person_id=beneficiary, region_code="440100"))  # fmt: skip
    await db.commit()
    sixth = await client.post("/api/v1/family/mutual-aid", json={"member_id": members[3]}, headers=patient.headers)
    assert sixth.status_code == 409 and sixth.json()["code"] == "MUTUAL_AID_LIMIT_REACHED"
    limits = await client.post(
        "/api/v1/family/mutual-aid", json={"member_id": members[0], "per_year_limit_fen": 9}, headers=patient.headers
    )
    assert limits.status_code == 201, limits.text  # a bound member's limits change at the limit too
    revoked = await client.delete(f"/api/v1/family/mutual-aid/{grants[1]}", headers=patient.headers)
    assert revoked.status_code == 200
    now = await client.post("/api/v1/family/mutual-aid", json={"member_id": members[3]}, headers=patient.headers)
    assert now.status_code == 201, now.text


async def test_r_fam_08_r_sec_07_a_member_sees_what_the_principal_shares(
    client: httpx.AsyncClient, db: AsyncSession, make_patient: MakePatient, settings: Settings
) -> None:
    principal = await make_patient(region="440106", sequence=10, name="郑分享")
    response = await client.post("/api/v1/insurance/bindings", json=principal.form(), headers=principal.headers)
    assert response.status_code == 201, response.text
    relative = await make_patient(region="440106", sequence=45, name="郑亲属", birth=date(1960, 5, 5))
    member = await add(client, principal.headers, name="郑亲属", number=relative.document_number, relation="parent")
    assert member.status_code == 201, member.text
    await _activate(db, [member.json()["id"]])
    bound = await client.post(
        "/api/v1/family/mutual-aid", json={"member_id": member.json()["id"]}, headers=principal.headers
    )
    assert bound.status_code == 201, bound.text

    async def seen() -> dict[str, object]:
        overview = (await client.get("/api/v1/family/mutual-aid", headers=relative.headers)).json()
        assert len(overview["received"]) == 1
        return dict(overview["received"][0])

    hidden = await seen()
    assert (hidden["principal_name"], hidden["personal_account_fen"]) == (None, None)
    for scope in ("cards", "cards_and_bills"):
        await _scope(db, principal.account.id, scope)
        view = await seen()
        assert view["principal_name"] is not None
        assert (view["personal_account_fen"] is not None) == (scope == "cards_and_bills")


async def _scope(db: AsyncSession, account_id: uuid.UUID, scope: str) -> None:
    found = (await db.scalars(select(SecurityProfile).where(SecurityProfile.account_id == account_id))).first()
    if found is None:
        db.add(SecurityProfile(account_id=account_id, family_scope=scope))
    else:
        found.family_scope = scope
    await db.commit()


async def test_r_fam_08_family_page_binds_sets_limits_and_revokes(
    client: httpx.AsyncClient, db: AsyncSession, make_patient: MakePatient, settings: Settings
) -> None:
    patient = await make_patient(region="440106", sequence=12, name="林页面")
    response = await client.post("/api/v1/insurance/bindings", json=patient.form(), headers=patient.headers)
    assert response.status_code == 201, response.text
    members = await _relatives(client, settings, patient.headers, 1)
    await _activate(db, members)
    page = await client.get("/family", headers=patient.headers)
    assert page.status_code == 200 and 'id="aid-form"' in page.text and "家庭共济" in page.text

    form = {"member_id": members[0], "per_payment_yuan": "200", "per_year_yuan": ""}
    bound = await client.post("/family/mutual-aid", data=form, headers=patient.headers)
    assert (bound.status_code, bound.headers["location"]) == (303, "/family?done=aid_bound#mutual-aid")
    shown = await client.get("/family?done=aid_bound", headers=patient.headers)
    assert 'id="aid-bound"' in shown.text and 'id="grant-1" data-status="active"' in shown.text
    assert 'value="200.00"' in shown.text

    grant = (await db.scalars(select(MutualAidGrant))).one()
    assert (grant.per_payment_limit_fen, grant.per_year_limit_fen) == (20_000, None)
    refused = await client.post(
        f"/family/mutual-aid/{grant.id}/limits", data={"per_payment_yuan": "两百"}, headers=patient.headers
    )
    assert refused.status_code == 400 and 'id="aid-error"' in refused.text
    changed = await client.post(
        f"/family/mutual-aid/{grant.id}/limits",
        data={"per_payment_yuan": "50.5", "per_year_yuan": "1000"},
        headers=patient.headers,
    )
    assert changed.status_code == 303
    await db.refresh(grant)
    assert (grant.per_payment_limit_fen, grant.per_year_limit_fen) == (5_050, 100_000)
    revoked = await client.post(f"/family/mutual-aid/{grant.id}/revoke", headers=patient.headers)
    assert revoked.status_code == 303
    shown = await client.get("/family?done=aid_revoked", headers=patient.headers)
    assert 'id="aid-revoked"' in shown.text and 'id="grant-1" data-status="revoked"' in shown.text
