"""R-CARD-03 immutable document number and phone (staff change with reason and audit);
R-CARD-07 a personal-data change issues a new display code and retires the old one."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.card import rules
from medcard.card.errors import CardQrStale
from medcard.card.service import resolve_display_code
from medcard.config import Settings
from medcard.models import Account, AuditEvent
from tests.card.conftest import complete_form
from tests.factories import Demo, bearer, patient_token, resident_id, staff_token, verified_account

HOSPITAL = "H110001"


async def _card(
    client: httpx.AsyncClient, adapters: Adapters, account: Account
) -> tuple[dict[str, str], dict[str, Any]]:
    headers = bearer(await patient_token(client, adapters, openid=account.openid))
    response = await client.post(
        "/api/v1/cards", json={"hospital": HOSPITAL, "fields": complete_form()}, headers=headers
    )
    assert response.status_code == 201, response.text
    return headers, response.json()


async def test_r_card_07_personal_update_bumps_qr_version_and_refuses_the_old_code(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo, settings: Settings
) -> None:
    headers, card = await _card(client, adapters, await verified_account(db))
    old = (await client.get(f"/api/v1/cards/{card['id']}/qr", headers=headers)).json()
    assert old["version"] == 1 and old["svg"].startswith("<svg")
    changed = await client.patch(
        f"/api/v1/cards/{card['id']}",
        json={
            "address": "北京市海淀区中关村大街27号",
            "emergency_name": "王五",
            "allergy_history": "青霉素",
            "ethnicity": "壮族",
        },
        headers=headers,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["qr_version"] == 2 and changed.json()["allergy_history"] == "青霉素"
    new = (await client.get(f"/api/v1/cards/{card['id']}/qr", headers=headers)).json()
    assert new["version"] == 2 and new["text"] != old["text"]
    with pytest.raises(CardQrStale):
        await resolve_display_code(db, text=old["text"], settings=settings)
    assert str((await resolve_display_code(db, text=new["text"], settings=settings)).id) == card["id"]
    audit = await db.scalar(select(AuditEvent).where(AuditEvent.action == "card.update"))
    assert audit is not None and audit.details["fields"] == [
        "address",
        "allergy_history",
        "emergency_name",
        "ethnicity",
    ]
    assert "青霉素" not in str(audit.details)


async def test_r_card_07_saving_the_same_values_keeps_the_code(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    headers, card = await _card(client, adapters, await verified_account(db))
    same = await client.patch(f"/api/v1/cards/{card['id']}", json={"address": card["address"]}, headers=headers)
    assert same.status_code == 200 and same.json()["qr_version"] == 1


async def test_r_card_07_bad_personal_update_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    headers, card = await _card(client, adapters, await verified_account(db))
    bad = await client.patch(
        f"/api/v1/cards/{card['id']}", json={"address": "北京市西城区1号", "emergency_phone": "12"}, headers=headers
    )
    assert bad.status_code == 400 and bad.json()["field"] == "emergency_phone"
    after = (await client.get(f"/api/v1/cards/{card['id']}", headers=headers)).json()
    assert after["address"] == card["address"] and after["qr_version"] == 1


async def test_r_card_03_patient_cannot_change_document_number_or_phone(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    headers, card = await _card(client, adapters, await verified_account(db))
    for field, value in (("document_number", resident_id()), ("phone", "13655556666"), ("name", "李四")):
        response = await client.patch(f"/api/v1/cards/{card['id']}", json={field: value}, headers=headers)
        assert response.status_code == 403
        problem = response.json()
        assert problem["code"] == "CARD_FIELD_IMMUTABLE" and problem["field"] == field
        assert "窗口" in problem["hint_zh"] and "window" in problem["hint"]
    assert (await client.get(f"/api/v1/cards/{card['id']}", headers=headers)).json()["qr_version"] == 1


async def test_r_card_03_cashier_changes_phone_with_reason_audited_masked(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    _headers, card = await _card(client, adapters, await verified_account(db))
    cashier = bearer(await staff_token(client, "cashier1"))
    found = await client.get(
        "/api/v1/staff/cards", params={"card_number": card["card_number_display"]}, headers=cashier
    )
    assert found.status_code == 200 and found.json()["id"] == card["id"]
    changed = await client.post(
        f"/api/v1/staff/cards/{card['id']}/immutable-fields",
        json={"field": "phone", "new_value": "13655556666", "reason": "患者更换手机号，核验身份证原件"},
        headers=cashier,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["phone_masked"] == "136****6666" and changed.json()["qr_version"] == 2
    audit = await db.scalar(select(AuditEvent).where(AuditEvent.action == "card.staff_change"))
    assert audit is not None and audit.actor_kind == "staff" and audit.actor_label == "cashier:cashier1"
    assert audit.details["before"] == "139****5678" and audit.details["after"] == "136****6666"
    assert audit.details["reason"].startswith("患者更换手机号")
    assert "13655556666" not in str(audit.details)


async def test_r_card_03_hotline_changes_document_number_masked_in_audit(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    _headers, card = await _card(client, adapters, await verified_account(db))
    hotline = bearer(await staff_token(client, "hotline1"))
    new_number = resident_id()
    changed = await client.post(
        f"/api/v1/staff/cards/{card['id']}/immutable-fields",
        json={"field": "document_number", "new_value": new_number, "reason": "证件号码录入错误，已核对原件"},
        headers=hotline,
    )
    assert changed.status_code == 200, changed.text
    audit = await db.scalar(select(AuditEvent).where(AuditEvent.action == "card.staff_change"))
    assert audit is not None and audit.details["after"] == new_number[:4] + "*" * 10 + new_number[-4:]
    assert new_number not in str(audit.details)


async def test_r_card_03_staff_change_needs_a_reason_and_a_valid_value(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    headers, card = await _card(client, adapters, await verified_account(db))
    cashier = bearer(await staff_token(client, "cashier1"))
    url = f"/api/v1/staff/cards/{card['id']}/immutable-fields"
    no_reason = await client.post(url, json={"field": "phone", "new_value": "13655556666"}, headers=cashier)
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    short = await client.post(url, json={"field": "phone", "new_value": "13655556666", "reason": "改"}, headers=cashier)
    assert short.status_code == 400 and short.json()["field"] == "reason"
    bad_id = await client.post(
        url,
        json={"field": "document_number", "new_value": "110101199003070000", "reason": "录入错误已核对"},
        headers=cashier,
    )
    assert bad_id.status_code == 400 and bad_id.json()["field"] == "document_number"
    other_field = await client.post(
        url, json={"field": "address", "new_value": "x", "reason": "录入错误已核对"}, headers=cashier
    )
    assert other_field.status_code == 422
    assert (await client.get(f"/api/v1/cards/{card['id']}", headers=headers)).json()["qr_version"] == 1


async def test_r_card_03_only_cashier_hotline_admin_may_change(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    headers, card = await _card(client, adapters, await verified_account(db))
    body = {"field": "phone", "new_value": "13655556666", "reason": "患者更换手机号"}
    url = f"/api/v1/staff/cards/{card['id']}/immutable-fields"
    for role in ("kiosk", "pharmacy", "reviewer"):
        token = bearer(await staff_token(client, f"{role}1"))
        assert (await client.post(url, json=body, headers=token)).status_code == 403
    assert (await client.post(url, json=body, headers=headers)).status_code == 401  # a patient token is no staff token
    admin = bearer(await staff_token(client, "admin1"))
    assert (await client.post(url, json=body, headers=admin)).status_code == 200


async def test_r_card_06_staff_search_refuses_a_mistyped_card_number(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    _headers, card = await _card(client, adapters, await verified_account(db))
    cashier = bearer(await staff_token(client, "cashier1"))
    number = card["card_number"]
    typo = number[:5] + str((int(number[5]) + 1) % 10) + number[6:]
    response = await client.get("/api/v1/staff/cards", params={"card_number": typo}, headers=cashier)
    assert response.status_code == 400
    assert response.json()["code"] == "CARD_NUMBER_INVALID" and response.json()["field"] == "card_number"
    unknown = rules.make_card_number("110000", 999_999_999)
    missing = await client.get("/api/v1/staff/cards", params={"card_number": unknown}, headers=cashier)
    assert missing.status_code == 404
