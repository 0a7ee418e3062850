"""Hospital card settings API (tags=staff): administrators edit fee (R-CARD-08), deposit
(R-CARD-09), credit (R-CARD-10), kiosk activation (R-ID-06) and foreigner insurance (R-ID-08);
staff of one hospital see only theirs."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import AuditEvent, Hospital
from tests.factories import Demo, bearer, staff_token
from tests.kiosk.conftest import make_staff


def url(hospital: Hospital) -> str:
    return f"/api/v1/hospitals/{hospital.id}"


@pytest.fixture
async def admin(client: httpx.AsyncClient, demo: Demo) -> dict[str, str]:
    return bearer(await staff_token(client, "admin1"))


async def settings_audit(db: AsyncSession, hospital_id: object) -> list[AuditEvent]:
    query = select(AuditEvent).where(
        AuditEvent.action == "hospital.settings_update", AuditEvent.subject_id == str(hospital_id)
    )
    return list((await db.scalars(query)).all())


async def test_r_card_08_admin_sets_the_physical_card_fee_with_an_audit_row(
    client: httpx.AsyncClient, db: AsyncSession, demo: Demo, admin: dict[str, str]
) -> None:
    response = await client.patch(url(demo.hospital), json={"physical_card_fee_fen": 1500}, headers=admin)
    assert response.status_code == 200, response.text
    assert response.json()["physical_card_fee_fen"] == 1500
    [event] = await settings_audit(db, demo.hospital.id)
    assert event.details == {"before": {"physical_card_fee_fen": 1000}, "after": {"physical_card_fee_fen": 1500}}
    assert event.actor_label == "admin:admin1" and event.hospital_id == demo.hospital.id


@pytest.mark.parametrize("fee", [300, 2500, 1])
async def test_r_card_08_fee_outside_5_to_20_yuan_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, db: AsyncSession, demo: Demo, admin: dict[str, str], fee: int
) -> None:
    hospital_id = demo.hospital.id
    response = await client.patch(url(demo.hospital), json={"physical_card_fee_fen": fee}, headers=admin)
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "PHYSICAL_CARD_FEE_OUT_OF_RANGE" and body["field"] == "physical_card_fee_fen"
    assert body["title_zh"] and body["hint"] and body["hint_zh"]
    stored = await db.get(Hospital, hospital_id, populate_existing=True)
    assert stored is not None and stored.physical_card_fee_fen == 1000
    assert await settings_audit(db, hospital_id) == []


async def test_r_card_09_required_deposit_below_10_yuan_is_refused(
    client: httpx.AsyncClient, demo: Demo, admin: dict[str, str]
) -> None:
    body = {"deposit_required": True, "deposit_min_fen": 500}
    response = await client.patch(url(demo.hospital), json=body, headers=admin)
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("DEPOSIT_MINIMUM_TOO_LOW", "deposit_min_fen")


async def test_r_card_09_turning_the_deposit_on_checks_the_stored_minimum(
    client: httpx.AsyncClient, demo: Demo, admin: dict[str, str]
) -> None:
    target = url(demo.hospital)  # a refusal rolls back and expires the session's objects
    await client.patch(target, json={"deposit_min_fen": 0}, headers=admin)
    response = await client.patch(target, json={"deposit_required": True}, headers=admin)
    assert response.status_code == 422 and response.json()["code"] == "DEPOSIT_MINIMUM_TOO_LOW"
    ok = await client.patch(target, json={"deposit_required": True, "deposit_min_fen": 2000}, headers=admin)
    assert ok.status_code == 200 and ok.json()["deposit_min_fen"] == 2000


async def test_r_card_10_credit_limit_above_2000_yuan_is_refused(
    client: httpx.AsyncClient, demo: Demo, admin: dict[str, str]
) -> None:
    response = await client.patch(url(demo.hospital), json={"credit_limit_fen": 200_001}, headers=admin)
    assert response.status_code == 422
    assert (response.json()["code"], response.json()["field"]) == ("CREDIT_LIMIT_OUT_OF_RANGE", "credit_limit_fen")


async def test_r_card_10_enabled_credit_needs_a_limit(
    client: httpx.AsyncClient, demo: Demo, admin: dict[str, str]
) -> None:
    target = url(demo.county_hospital)
    response = await client.patch(target, json={"credit_enabled": True}, headers=admin)
    assert response.status_code == 422 and response.json()["code"] == "CREDIT_LIMIT_REQUIRED"
    body = {"credit_enabled": True, "credit_limit_fen": 50_000}
    ok = await client.patch(target, json=body, headers=admin)
    assert ok.status_code == 200 and ok.json()["credit_limit_fen"] == 50_000


async def test_r_id_06_and_r_id_08_flags_are_hospital_settings(
    client: httpx.AsyncClient, db: AsyncSession, demo: Demo, admin: dict[str, str]
) -> None:
    body = {"requires_kiosk_activation": True, "foreigner_insurance": True}
    response = await client.patch(url(demo.hospital), json=body, headers=admin)
    assert response.status_code == 200
    assert response.json()["requires_kiosk_activation"] is True and response.json()["foreigner_insurance"] is True
    [event] = await settings_audit(db, demo.hospital.id)
    assert event.details["before"] == {"requires_kiosk_activation": False, "foreigner_insurance": False}


async def test_unchanged_settings_write_no_audit_row(
    client: httpx.AsyncClient, db: AsyncSession, demo: Demo, admin: dict[str, str]
) -> None:
    response = await client.patch(url(demo.hospital), json={"physical_card_fee_fen": 1000}, headers=admin)
    assert response.status_code == 200
    assert await settings_audit(db, demo.hospital.id) == []


@pytest.mark.parametrize("username", ["kiosk1", "cashier1", "reviewer1"])
async def test_only_an_admin_edits_hospital_settings(client: httpx.AsyncClient, demo: Demo, username: str) -> None:
    headers = bearer(await staff_token(client, username))
    response = await client.patch(url(demo.hospital), json={"physical_card_fee_fen": 500}, headers=headers)
    assert response.status_code == 403 and response.json()["code"] == "FORBIDDEN"


async def test_staff_of_one_hospital_see_only_their_hospital(client: httpx.AsyncClient, demo: Demo) -> None:
    kiosk = bearer(await staff_token(client, "kiosk1"))
    listed = await client.get("/api/v1/hospitals", headers=kiosk)
    assert [row["code"] for row in listed.json()] == [demo.hospital.code]
    assert (await client.get(url(demo.hospital), headers=kiosk)).status_code == 200
    other = await client.get(url(demo.county_hospital), headers=kiosk)
    assert other.status_code == 404 and other.json()["code"] == "NOT_FOUND"


async def test_a_hospitals_own_admin_cannot_edit_another_hospital(
    client: httpx.AsyncClient, db: AsyncSession, demo: Demo
) -> None:
    await make_staff(db, username="admin-county", role="admin", hospital=demo.county_hospital)
    headers = bearer(await staff_token(client, "admin-county"))
    other, own_url = url(demo.hospital), url(demo.county_hospital)
    response = await client.patch(other, json={"physical_card_fee_fen": 500}, headers=headers)
    assert response.status_code == 404
    own = await client.patch(own_url, json={"physical_card_fee_fen": 800}, headers=headers)
    assert own.status_code == 200


async def test_platform_admin_lists_every_hospital(
    client: httpx.AsyncClient, demo: Demo, admin: dict[str, str]
) -> None:
    codes = [row["code"] for row in (await client.get("/api/v1/hospitals", headers=admin)).json()]
    assert {demo.hospital.code, demo.county_hospital.code} <= set(codes)


async def test_unknown_hospital_is_404(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get("/api/v1/hospitals/00000000-0000-0000-0000-000000000000", headers=admin)
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"physical_card_fee_fen": "1000"}, "physical_card_fee_fen"),
        ({"physical_card_fee_fen": 10.5}, "physical_card_fee_fen"),
        ({"physical_card_fee_fen": -1}, "physical_card_fee_fen"),
        ({"deposit_required": "yes"}, "deposit_required"),
        ({"credit_limit_fen": 10**12}, "credit_limit_fen"),
        ({"name_zh": "改名"}, "name_zh"),
    ],
)
async def test_malformed_settings_are_422_naming_the_field(
    client: httpx.AsyncClient, demo: Demo, admin: dict[str, str], body: dict[str, object], field: str
) -> None:
    response = await client.patch(url(demo.hospital), json=body, headers=admin)
    assert response.status_code == 422
    assert response.json()["code"] == "MALFORMED_REQUEST"
    assert [error["field"] for error in response.json()["errors"]] == [field]


async def test_bad_hospital_id_is_422(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    response = await client.get("/api/v1/hospitals/not-a-uuid", headers=admin)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "hospital_id"
