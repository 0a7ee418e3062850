"""Freeze from another logged-in device, hotline loss report, reactivation (R-SEC-05)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.kit.clock import clock
from medcard.models import AuditEvent, VerificationSession
from tests.codes.conftest import Holder, new_code, redeem
from tests.factories import Demo, bearer, patient_token, staff_token

LOSS = "/api/v1/security/loss-reports"


async def _second_device(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, holder: Holder
) -> dict[str, str]:
    from medcard.models import Account

    account = await db.get(Account, holder.account_id)
    assert account is not None
    return bearer(await patient_token(client, adapters, openid=account.openid))


async def test_r_sec_05_freeze_from_another_device_refuses_codes_and_ends_the_lost_session(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str], adapters: Adapters, db: AsyncSession
) -> None:
    lost_phone_code = await new_code(client, holder)
    other_device = await _second_device(client, adapters, db, holder)
    frozen = await client.post("/api/v1/security/freeze", headers=other_device)
    assert frozen.status_code == 200 and frozen.json()["frozen"] is True
    refused = await redeem(client, cashier, lost_phone_code)
    assert refused.status_code == 423 and refused.json()["code"] == "ACCOUNT_PAYMENTS_FROZEN"
    assert (await client.get("/api/v1/security", headers=holder.headers)).status_code == 401
    issue = await client.post("/api/v1/codes/payment", json={"card_id": str(holder.card_id)}, headers=other_device)
    assert issue.status_code == 423 and issue.json()["code"] == "ACCOUNT_PAYMENTS_FROZEN"


async def test_r_sec_05_reactivation_needs_a_fresh_verification(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str], db: AsyncSession
) -> None:
    assert (await client.post("/api/v1/security/freeze", headers=holder.headers)).status_code == 200
    clock.freeze(clock.now() + timedelta(seconds=1))
    verification = VerificationSession(
        account_id=holder.account_id,
        method="face",
        status="passed",
        document_type="resident_id",
        document_number=holder.document_number,
        name=holder.name,
        expires_at=clock.now() + timedelta(minutes=5),
        finished_at=clock.now(),
    )
    db.add(verification)
    await db.commit()
    verification_id = str(verification.id)
    missing = await client.post(
        "/api/v1/security/reactivate", json={"verification_id": str(holder.card_id)}, headers=holder.headers
    )
    assert missing.status_code == 403 and missing.json()["code"] == "REVERIFICATION_REQUIRED"
    ok = await client.post(
        "/api/v1/security/reactivate", json={"verification_id": verification_id}, headers=holder.headers
    )
    assert ok.status_code == 200 and ok.json()["frozen"] is False
    assert (await redeem(client, cashier, await new_code(client, holder))).status_code == 200


async def test_r_sec_05_hotline_loss_report_after_identity_questions(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str], demo: Demo, db: AsyncSession
) -> None:
    code = await new_code(client, holder)
    hotline = bearer(await staff_token(client, "hotline1"))
    answers = {
        "card_number": holder.card_number,
        "name": holder.name,
        "document_last4": holder.document_number[-4:],
        "phone_last4": holder.phone[-4:],
    }
    wrong = await client.post(LOSS, json={**answers, "phone_last4": "0000"}, headers=hotline)
    unknown = await client.post(LOSS, json={**answers, "card_number": "9" * 16}, headers=hotline)
    for response in (wrong, unknown):
        assert response.status_code == 403 and response.json()["code"] == "LOSS_REPORT_IDENTITY_FAILED"
    assert wrong.json() == {**unknown.json(), "instance": wrong.json()["instance"]}
    placed = await client.post(LOSS, json=answers, headers=hotline)
    assert placed.status_code == 200, placed.text
    refused = await redeem(client, cashier, code)
    assert refused.status_code == 423
    audit = await db.scalar(
        select(AuditEvent).where(AuditEvent.action == "security.freeze").order_by(AuditEvent.at.desc())
    )
    assert audit is not None and audit.actor_kind == "staff" and audit.details["reason"] == "loss_report"
    assert holder.document_number not in str(audit.details) and holder.phone not in str(audit.details)


async def test_r_sec_05_only_the_hotline_places_loss_reports(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str]
) -> None:
    body = {"card_number": holder.card_number, "name": holder.name, "document_last4": "0000", "phone_last4": "0000"}
    assert (await client.post(LOSS, json=body, headers=cashier)).status_code == 403
    assert (await client.post(LOSS, json=body, headers=holder.headers)).status_code == 401
