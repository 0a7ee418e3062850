"""Kiosk API: scan the e-card QR, issue the physical card (R-CARD-08), show deposit and credit
settings (R-CARD-09/10), activate in person (R-ID-06), services needing the physical card (R-CARD-11)."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from medcard.adapters import Adapters
from medcard.card import qr
from medcard.card import service as card_service
from medcard.config import Settings
from medcard.models import Account, AuditEvent, KioskServiceRequest, PhysicalCard
from tests.factories import Demo, bearer, staff_token
from tests.kiosk.conftest import IssuedCard, make_staff
from tests.support import statements

SCAN = "/api/v1/kiosk/scan"
ISSUE = "/api/v1/kiosk/physical-cards"
ACTIVATE = "/api/v1/kiosk/activate"


def service_url(name: str) -> str:
    return f"/api/v1/kiosk/services/{name}"


async def physical_cards(db: AsyncSession, issued: IssuedCard) -> list[PhysicalCard]:
    query = select(PhysicalCard).where(PhysicalCard.card_id == issued.card_id).order_by(PhysicalCard.created_at)
    return list((await db.scalars(query)).all())


async def audit_rows(db: AsyncSession, action: str, subject_id: object) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.action == action, AuditEvent.subject_id == str(subject_id))
    return list((await db.scalars(query)).all())


@pytest.fixture
async def county_kiosk(client: httpx.AsyncClient, db: AsyncSession, demo: Demo) -> dict[str, str]:
    await make_staff(db, username="kiosk-county", role="kiosk", hospital=demo.county_hospital)
    return bearer(await staff_token(client, "kiosk-county"))


# --- scan: who holds the card, and the hospital's settings --------------------------------------


async def test_r_card_08_scan_shows_masked_holder_and_physical_card_fee(
    client: httpx.AsyncClient, kiosk: dict[str, str], issued: IssuedCard
) -> None:
    response = await client.post(SCAN, json={"code": issued.code}, headers=kiosk)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["card"]["holder_name"] == "*小明"
    assert body["card"]["document_number"] == issued.document_number[:4] + "*" * 10 + issued.document_number[-4:]
    assert body["card"]["status"] == "active"
    assert body["hospital"]["physical_card_fee_fen"] == 1000
    assert body["physical_card"] is None
    assert "王小明" not in response.text and issued.document_number not in response.text


async def test_r_card_09_scan_shows_the_deposit_requirement(
    client: httpx.AsyncClient, county_kiosk: dict[str, str], pending: IssuedCard
) -> None:
    body = (await client.post(SCAN, json={"code": pending.code}, headers=county_kiosk)).json()
    assert body["hospital"]["deposit_required"] is True
    assert body["hospital"]["deposit_min_fen"] == 1000


async def test_r_card_10_scan_shows_the_credit_setting(
    client: httpx.AsyncClient, kiosk: dict[str, str], issued: IssuedCard
) -> None:
    body = (await client.post(SCAN, json={"code": issued.code}, headers=kiosk)).json()
    assert body["hospital"]["credit_enabled"] is True
    assert body["hospital"]["credit_limit_fen"] == 200_000


# --- R-CARD-08: issuing the physical card -------------------------------------------------------


async def test_r_card_08_kiosk_issues_physical_card_with_the_hospital_fee_deferred_to_the_window(
    client: httpx.AsyncClient, db: AsyncSession, kiosk: dict[str, str], issued: IssuedCard
) -> None:
    response = await client.post(ISSUE, json={"code": issued.code, "fee_payment": "window"}, headers=kiosk)
    assert response.status_code == 201, response.text
    physical = response.json()["physical_card"]
    assert physical["serial"].startswith("PC") and len(physical["serial"]) == 17
    assert (physical["fee_fen"], physical["fee_yuan"], physical["fee_status"]) == (1000, "10.00", "deferred")
    assert physical["status"] == "issued"
    [stored] = await physical_cards(db, issued)
    assert stored.serial == physical["serial"]
    [event] = await audit_rows(db, "physical_card.issue", stored.id)
    assert event.actor_label == "kiosk:kiosk1" and event.details["fee_fen"] == 1000


async def test_r_card_08_free_physical_card_is_waived(
    client: httpx.AsyncClient, db: AsyncSession, demo: Demo, kiosk: dict[str, str], issued: IssuedCard
) -> None:
    demo.hospital.physical_card_fee_fen = 0
    await db.flush()
    physical = (await client.post(ISSUE, json={"code": issued.code, "fee_payment": "window"}, headers=kiosk)).json()[
        "physical_card"
    ]
    assert (physical["fee_fen"], physical["fee_status"]) == (0, "waived")


async def test_r_card_08_second_physical_card_needs_a_reason_and_replaces_the_first(
    client: httpx.AsyncClient, db: AsyncSession, kiosk: dict[str, str], issued: IssuedCard
) -> None:
    first = (await client.post(ISSUE, json={"code": issued.code, "fee_payment": "window"}, headers=kiosk)).json()[
        "physical_card"
    ]
    again = await client.post(ISSUE, json={"code": issued.code, "fee_payment": "window"}, headers=kiosk)
    assert again.status_code == 409
    assert again.json()["code"] == "PHYSICAL_CARD_REISSUE_REASON_REQUIRED"
    assert again.json()["field"] == "reason" and again.json()["hint_zh"]
    replaced = await client.post(
        ISSUE, json={"code": issued.code, "reason": "lost", "fee_payment": "window"}, headers=kiosk
    )
    assert replaced.status_code == 201
    assert replaced.json()["replaced"]["serial"] == first["serial"]
    assert replaced.json()["replaced"]["status"] == "replaced"
    statuses = [(card.serial, card.status) for card in await physical_cards(db, issued)]
    assert statuses == [(first["serial"], "replaced"), (replaced.json()["physical_card"]["serial"], "issued")]
    old = (await physical_cards(db, issued))[0]
    [event] = await audit_rows(db, "physical_card.replace", old.id)
    assert event.details["reason"] == "lost"


async def test_r_card_08_database_keeps_one_issued_physical_card_per_e_card(
    db: AsyncSession, demo: Demo, issued: IssuedCard
) -> None:
    staff_id = demo.staff["kiosk"].id
    db.add(PhysicalCard(card_id=issued.card.id, serial="PCX1", issued_by_staff_id=staff_id, fee_fen=0))
    await db.flush()
    async with db.begin_nested():
        db.add(PhysicalCard(card_id=issued.card.id, serial="PCX2", issued_by_staff_id=staff_id, fee_fen=0))
        with pytest.raises(IntegrityError):
            await db.flush()


async def test_r_card_08_stale_display_code_is_refused_after_a_personal_data_change(
    client: httpx.AsyncClient, db: AsyncSession, kiosk: dict[str, str], issued: IssuedCard
) -> None:
    account = await db.get(Account, issued.card.account_id)
    assert account is not None
    await card_service.update_personal_info(
        db, account=account, card=issued.card, changes={"address": "北京市西城区新街口5号"}
    )
    await db.commit()
    for url in (SCAN, ISSUE):
        response = await client.post(url, json={"code": issued.code}, headers=kiosk)
        assert response.status_code == 410, response.text
        assert response.json()["code"] == "CARD_QR_STALE" and response.json()["title_zh"] and response.json()["hint"]
    assert await physical_cards(db, issued) == []


async def test_r_card_08_forged_display_code_is_refused(
    client: httpx.AsyncClient, db: AsyncSession, kiosk: dict[str, str], issued: IssuedCard
) -> None:
    forged = qr.issue(secret="not-the-platform-" + "k" * 32, card_number=issued.card_number, version=1)
    prefix, body, mac = issued.code.split(".")
    altered = mac[:-1] + ("B" if mac.endswith("A") else "A")  # always differs from the real MAC
    for text in (forged, f"{prefix}.{body}.{altered}", "hello", "MCQR1.."):
        response = await client.post(ISSUE, json={"code": text, "fee_payment": "window"}, headers=kiosk)
        assert response.status_code == 400, text
        assert response.json()["code"] == "CARD_QR_INVALID" and response.json()["field"] == "code"
    assert await physical_cards(db, issued) == []


@pytest.mark.parametrize("status", ["frozen", "cancelled"])
async def test_r_card_08_frozen_or_cancelled_card_gets_no_physical_card(
    client: httpx.AsyncClient, db: AsyncSession, kiosk: dict[str, str], issued: IssuedCard, status: str
) -> None:
    issued.card.status = status
    await db.commit()
    response = await client.post(ISSUE, json={"code": issued.code, "fee_payment": "window"}, headers=kiosk)
    assert response.status_code == 409
    assert response.json()["code"] == "CARD_NOT_ACTIVE"
    assert {"frozen": "已冻结", "cancelled": "已注销"}[status] in response.json()["title_zh"]
    assert await physical_cards(db, issued) == []


async def test_r_card_08_card_of_a_frozen_account_gets_no_physical_card(
    client: httpx.AsyncClient, db: AsyncSession, kiosk: dict[str, str], issued: IssuedCard
) -> None:
    account = await db.get(Account, issued.card.account_id)
    assert account is not None
    account.status = "frozen"
    await db.commit()
    response = await client.post(ISSUE, json={"code": issued.code, "fee_payment": "window"}, headers=kiosk)
    assert response.status_code == 403 and response.json()["code"] == "ACCOUNT_FROZEN"


async def test_r_card_08_kiosk_of_another_hospital_gets_404(
    client: httpx.AsyncClient, db: AsyncSession, county_kiosk: dict[str, str], issued: IssuedCard
) -> None:
    for url in (SCAN, ISSUE, service_url("print_records")):
        response = await client.post(url, json={"code": issued.code}, headers=county_kiosk)
        assert response.status_code == 404, url
        assert response.json()["code"] == "CARD_NOT_FOUND"
    assert await physical_cards(db, issued) == []


async def test_r_card_08_platform_admin_may_issue_at_any_hospital(
    client: httpx.AsyncClient, demo: Demo, pending: IssuedCard, issued: IssuedCard
) -> None:
    admin = bearer(await staff_token(client, "admin1"))
    assert (
        await client.post(ISSUE, json={"code": issued.code, "fee_payment": "window"}, headers=admin)
    ).status_code == 201
    assert (await client.post(SCAN, json={"code": pending.code}, headers=admin)).status_code == 200


@pytest.mark.parametrize("username", ["cashier1", "pharmacy1", "hotline1", "reviewer1"])
async def test_kiosk_api_needs_the_kiosk_role(
    client: httpx.AsyncClient, demo: Demo, issued: IssuedCard, username: str
) -> None:
    headers = bearer(await staff_token(client, username))
    response = await client.post(ISSUE, json={"code": issued.code, "fee_payment": "window"}, headers=headers)
    assert response.status_code == 403 and response.json()["code"] == "FORBIDDEN"


async def test_kiosk_api_needs_a_staff_login(client: httpx.AsyncClient, issued: IssuedCard) -> None:
    response = await client.post(SCAN, json={"code": issued.code})
    assert response.status_code == 401 and response.json()["code"] == "AUTH_REQUIRED"


# --- R-ID-06: in-person activation with the original ID card ------------------------------------


async def test_r_id_06_pending_card_gets_no_physical_card_before_activation(
    client: httpx.AsyncClient, db: AsyncSession, county_kiosk: dict[str, str], pending: IssuedCard
) -> None:
    assert pending.card.status == "pending_activation"
    scan = await client.post(SCAN, json={"code": pending.code}, headers=county_kiosk)
    assert scan.status_code == 200 and scan.json()["card"]["status"] == "pending_activation"
    response = await client.post(ISSUE, json={"code": pending.code}, headers=county_kiosk)
    assert response.status_code == 409
    assert response.json()["code"] == "CARD_PENDING_ACTIVATION" and "身份证" in response.json()["hint_zh"]
    assert await physical_cards(db, pending) == []


async def test_r_id_06_kiosk_activates_a_card_with_the_matching_id_card(
    client: httpx.AsyncClient, db: AsyncSession, county_kiosk: dict[str, str], pending: IssuedCard
) -> None:
    typed = pending.document_number.lower()
    response = await client.post(ACTIVATE, json={"code": pending.code, "document_number": typed}, headers=county_kiosk)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "active" and response.json()["activated_at"]
    [event] = await audit_rows(db, "card.activate", pending.card_id)
    assert event.result == "ok" and event.details["method"] == "kiosk_id_card"
    issue = await client.post(ISSUE, json={"code": pending.code, "fee_payment": "window"}, headers=county_kiosk)
    assert issue.status_code == 201
    assert issue.json()["physical_card"]["fee_fen"] == 500


async def test_r_id_06_another_persons_id_card_is_refused_and_the_attempt_audited(
    client: httpx.AsyncClient, db: AsyncSession, county_kiosk: dict[str, str], pending: IssuedCard
) -> None:
    other = "11010519491231002X"
    response = await client.post(ACTIVATE, json={"code": pending.code, "document_number": other}, headers=county_kiosk)
    assert response.status_code == 403
    body = response.json()
    assert body["code"] == "ACTIVATION_DOCUMENT_MISMATCH" and body["field"] == "document_number"
    assert body["title_zh"] and body["hint"]
    await db.refresh(pending.card)
    assert pending.card.status == "pending_activation" and pending.card.activated_at is None
    [event] = await audit_rows(db, "card.activate", pending.card_id)
    assert event.result == "refused" and event.details["reason"] == "document_mismatch"
    assert other not in str(event.details)


async def test_r_id_06_an_active_card_needs_no_activation(
    client: httpx.AsyncClient, kiosk: dict[str, str], issued: IssuedCard
) -> None:
    body = {"code": issued.code, "document_number": issued.document_number}
    response = await client.post(ACTIVATE, json=body, headers=kiosk)
    assert response.status_code == 409 and response.json()["code"] == "CARD_ALREADY_ACTIVE"


async def test_r_id_06_hospital_flag_turned_on_makes_new_cards_wait_for_the_kiosk(
    client: httpx.AsyncClient,
    db: AsyncSession,
    adapters: Adapters,
    settings: Settings,
    demo: Demo,
    kiosk: dict[str, str],
) -> None:
    admin = bearer(await staff_token(client, "admin1"))
    flag = {"requires_kiosk_activation": True}
    assert (await client.patch(f"/api/v1/hospitals/{demo.hospital.id}", json=flag, headers=admin)).status_code == 200
    from tests.kiosk.conftest import make_card

    new = await make_card(db, adapters, settings, demo.hospital, name="赵六")
    assert new.card.status == "pending_activation"
    body = {"code": new.code, "document_number": new.document_number}
    assert (await client.post(ACTIVATE, json=body, headers=kiosk)).json()["status"] == "active"


# --- R-CARD-11: services that still need the physical card --------------------------------------


@pytest.mark.parametrize("name", ["print_records", "special_exam_registration", "print_insurance_fee_list"])
async def test_r_card_11_service_without_a_physical_card_is_refused_with_a_hint(
    client: httpx.AsyncClient, db: AsyncSession, kiosk: dict[str, str], issued: IssuedCard, name: str
) -> None:
    response = await client.post(service_url(name), json={"code": issued.code}, headers=kiosk)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "PHYSICAL_CARD_REQUIRED"
    assert "实体" in body["title_zh"] and "制卡" in body["hint_zh"]
    assert await db.scalar(select(func.count()).select_from(KioskServiceRequest)) == 0


@pytest.mark.parametrize("name", ["print_records", "special_exam_registration", "print_insurance_fee_list"])
async def test_r_card_11_service_with_a_physical_card_is_recorded_and_audited(
    client: httpx.AsyncClient, db: AsyncSession, kiosk: dict[str, str], issued: IssuedCard, name: str
) -> None:
    physical = (await client.post(ISSUE, json={"code": issued.code, "fee_payment": "window"}, headers=kiosk)).json()[
        "physical_card"
    ]
    response = await client.post(service_url(name), json={"code": issued.code}, headers=kiosk)
    assert response.status_code == 201, response.text
    assert response.json()["service"] == name and response.json()["status"] == "requested"
    assert response.json()["physical_card_id"] == physical["id"]
    [event] = await audit_rows(db, "kiosk.service_request", response.json()["id"])
    assert event.details["service"] == name


async def test_r_card_11_pending_card_cannot_use_kiosk_services(
    client: httpx.AsyncClient, county_kiosk: dict[str, str], pending: IssuedCard
) -> None:
    response = await client.post(service_url("print_records"), json={"code": pending.code}, headers=county_kiosk)
    assert response.status_code == 409 and response.json()["code"] == "CARD_PENDING_ACTIVATION"


async def test_r_card_11_unknown_kiosk_service_is_404(
    client: httpx.AsyncClient, kiosk: dict[str, str], issued: IssuedCard
) -> None:
    response = await client.post(service_url("print_money"), json={"code": issued.code}, headers=kiosk)
    assert response.status_code == 404 and response.json()["code"] == "KIOSK_SERVICE_UNKNOWN"


# --- malformed input -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        (SCAN, {}, "code"),
        (SCAN, {"code": ""}, "code"),
        (SCAN, {"code": "x" * 513}, "code"),
        (SCAN, {"code": "x", "card_id": "1"}, "card_id"),
        (ISSUE, {"code": 12345}, "code"),
        (ISSUE, {"code": "x", "reason": "stolen"}, "reason"),
        (ACTIVATE, {"code": "x"}, "document_number"),
        (ACTIVATE, {"code": "x", "document_number": "123"}, "document_number"),
        (ACTIVATE, {"code": "x", "document_number": "1101<script>0021"}, "document_number"),
        (ACTIVATE, {"code": "x", "document_number": "1" * 33}, "document_number"),
        (service_url("print_records"), {}, "code"),
        (service_url("x" * 33), {"code": "x"}, "service_name"),
    ],
)
async def test_kiosk_api_malformed_input_is_422_naming_the_field(
    client: httpx.AsyncClient, kiosk: dict[str, str], url: str, body: dict[str, object], field: str
) -> None:
    response = await client.post(url, json=body, headers=kiosk)
    assert response.status_code == 422
    assert response.json()["code"] == "MALFORMED_REQUEST"
    assert field in {error["field"] for error in response.json()["errors"]}


async def test_r_card_08_a_kiosk_scan_reads_the_login_once(
    client: httpx.AsyncClient, engine: AsyncEngine, kiosk: dict[str, str], issued: IssuedCard
) -> None:
    """R-CARD-08 (a hot read at every kiosk and POS): the staff login and its user come from one
    statement, and the scan costs a fixed, small number of statements."""
    with statements(engine) as sent:
        assert (await client.post(SCAN, json={"code": issued.code}, headers=kiosk)).status_code == 200
    logins = [statement for statement in sent if "FROM auth_session" in statement]
    assert len(logins) == 1 and "staff_user" in logins[0]
    assert not [statement for statement in sent if statement.lstrip().startswith("SELECT staff_user")]
    assert len(sent) <= 4, "\n".join(sent)
    accounts = [statement for statement in sent if "FROM account" in statement]
    assert len(accounts) == 1 and "person" not in accounts[0]  # the frozen check reads one column
