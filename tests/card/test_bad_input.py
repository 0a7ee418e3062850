"""Bad input on the card endpoints: a clear error naming the field, nothing half-written (R-CARD-02)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.models import AuditEvent, Card, CardDraft
from tests.card.conftest import complete_form
from tests.factories import Demo, bearer, patient_token, verified_account

HOSPITAL = "H110001"


@pytest.fixture
async def headers(client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo) -> dict[str, str]:
    account = await verified_account(db, name="张三")
    return bearer(await patient_token(client, adapters, openid=account.openid))


async def _nothing_written(db: AsyncSession) -> None:
    assert await db.scalar(select(func.count()).select_from(Card)) == 0
    assert await db.scalar(select(func.count()).select_from(CardDraft)) == 0
    assert not await db.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("card.%")))


@pytest.mark.parametrize(
    ("fields", "field", "code"),
    [
        ({"birth_date": "2999-01-01"}, "birth_date", "CARD_FIELD_INVALID"),
        ({"birth_date": "1990-13-40"}, "birth_date", "CARD_FIELD_INVALID"),
        ({"document_number": "1101011990030700111"}, "document_number", "CARD_FIELD_INVALID"),
        ({"gender": "F"}, "gender", "CARD_IDENTITY_MISMATCH"),
        ({"ethnicity": "克林贡族"}, "ethnicity", "CARD_FIELD_INVALID"),
        ({"phone": "0101234567"}, "phone", "CARD_FIELD_INVALID"),
        ({"blood_type": "Z"}, "blood_type", "CARD_FIELD_INVALID"),
    ],
)
async def test_r_card_02_submit_names_the_bad_field(
    client: httpx.AsyncClient, db: AsyncSession, headers: dict[str, str], fields: dict[str, str], field: str, code: str
) -> None:
    response = await client.post(
        "/api/v1/cards", json={"hospital": HOSPITAL, "fields": complete_form(**fields)}, headers=headers
    )
    assert response.status_code == 400, response.text
    problem = response.json()
    assert problem["code"] == code and problem["field"] == field
    assert problem["title_zh"] and problem["hint_zh"] and problem["hint"]
    await _nothing_written(db)


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "field"),
    [
        ("GET", "/api/v1/cards/drafts", {}, "hospital"),
        ("PUT", "/api/v1/cards/drafts", {"json": {"hospital": HOSPITAL}}, "fields"),
        (
            "PUT",
            "/api/v1/cards/drafts",
            {"json": {"hospital": HOSPITAL, "fields": {"address": "x" * 501}}},
            "fields.address",
        ),
        ("POST", "/api/v1/cards", {"json": {"hospital": HOSPITAL, "fields": [], "extra": 1}}, "fields"),
        ("POST", "/api/v1/cards/existing/confirm", {"json": {"hospital": HOSPITAL, "code": "12ab"}}, "code"),
        ("POST", "/api/v1/cards/existing/start", {"json": {}}, "hospital"),
        ("PATCH", "/api/v1/cards/not-a-uuid", {"json": {}}, "card_id"),
    ],
)
async def test_r_card_02_malformed_requests_are_422_naming_the_field(
    client: httpx.AsyncClient,
    db: AsyncSession,
    headers: dict[str, str],
    method: str,
    path: str,
    kwargs: dict[str, Any],
    field: str,
) -> None:
    response = await client.request(method, path, headers=headers, **kwargs)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "MALFORMED_REQUEST"
    assert field in {e["field"] for e in response.json()["errors"]}
    await _nothing_written(db)


async def test_r_card_02_personal_update_with_unknown_field_is_422(
    client: httpx.AsyncClient, db: AsyncSession, headers: dict[str, str]
) -> None:
    card = await client.post("/api/v1/cards", json={"hospital": HOSPITAL, "fields": complete_form()}, headers=headers)
    response = await client.patch(f"/api/v1/cards/{card.json()['id']}", json={"shoe_size": "42"}, headers=headers)
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "shoe_size"
