"""Versioned policy data: shipped version 1, console edits with who/when/why, future-dated
versions taking over on their date, and bindings keeping the version they were made under."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.kit.clock import clock
from medcard.models import AuditEvent, PolicyVersion
from medcard.policy.service import load_shipped, region_policy
from tests.factories import Demo, bearer, staff_token

SHANGHAI = "/api/v1/staff/policy/region/310000/versions"


async def shanghai_edit(client: httpx.AsyncClient, demo: Demo, **changes: object) -> httpx.Response:
    token = await staff_token(client, "admin1")
    history = (await client.get("/api/v1/policy/region/310000/versions")).json()
    data = {**history[0]["data"], **changes.pop("data", {})}  # type: ignore[dict-item]
    body = {"data": data, "effective_from": "2026-03-10", "reason": "市医保局通知：最低版本调整", **changes}
    return await client.post(SHANGHAI, json=body, headers=bearer(token))


async def test_r_ins_03_shipped_policy_loads_once(db: AsyncSession) -> None:
    # Counted relative to what is there: PostgreSQL concurrency tests commit demo data for real.
    before = await db.scalar(select(func.count()).select_from(PolicyVersion))
    first = await load_shipped(db)
    again = await load_shipped(db)
    assert again == 0
    assert await db.scalar(select(func.count()).select_from(PolicyVersion)) == before + first
    shanghai = await region_policy(db, "310104", on=date(2026, 3, 2))
    assert (shanghai.version.version, shanghai.version.author) == (1, "shipped-data")


async def test_r_ins_03_future_dated_version_takes_over_on_its_date(
    client: httpx.AsyncClient, db: AsyncSession, demo: Demo
) -> None:
    clock.freeze(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    response = await shanghai_edit(client, demo, data={"min_client_version": "7.2.0"})
    assert response.status_code == 201, response.text
    assert response.json()["version"] == 2
    assert response.json()["author"] == "admin:admin1"
    before = await region_policy(db, "310104", on=date(2026, 3, 9))
    after = await region_policy(db, "310104", on=date(2026, 3, 10))
    assert (before.policy.min_client_version, before.version.version) == ("7.0.3", 1)
    assert (after.policy.min_client_version, after.version.version) == ("7.2.0", 2)
    history = (await client.get("/api/v1/policy/region/310000/versions")).json()
    assert (history[0]["version"], history[0]["reason"]) == (2, "市医保局通知：最低版本调整")
    assert await db.scalar(select(AuditEvent).where(AuditEvent.action == "policy.version")) is not None


async def test_r_ins_03_versions_in_force_are_never_rewritten(client: httpx.AsyncClient, demo: Demo) -> None:
    clock.freeze(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    response = await shanghai_edit(client, demo, effective_from="2026-03-01")
    assert response.status_code == 409
    assert response.json()["code"] == "POLICY_BACKDATED"


async def test_r_ins_03_invalid_policy_data_is_refused(client: httpx.AsyncClient, demo: Demo) -> None:
    clock.freeze(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    response = await shanghai_edit(client, demo, data={"hmt_residents": "sometimes"})
    assert response.status_code == 422
    assert response.json()["code"] == "POLICY_INVALID"


async def test_r_ins_03_only_admins_edit_policy(client: httpx.AsyncClient, demo: Demo, db: AsyncSession) -> None:
    await load_shipped(db)
    token = await staff_token(client, "cashier1")
    body = {"data": {}, "effective_from": "2030-01-01", "reason": "try"}
    response = await client.post(SHANGHAI, json=body, headers=bearer(token))
    assert response.status_code == 403


async def test_r_ins_04_admin_extends_the_working_day_calendar(client: httpx.AsyncClient, demo: Demo) -> None:
    clock.freeze(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    token = await staff_token(client, "admin1")
    data = {"holidays": ["2027-01-01"], "workdays": []}
    body = {"data": data, "effective_from": "2026-03-02", "reason": "2027 假期安排"}
    response = await client.post("/api/v1/staff/policy/calendar/2027/versions", json=body, headers=bearer(token))
    assert response.status_code == 201, response.text
    assert response.json()["version"] == 1
    wrong_year = {**body, "data": {"holidays": ["2028-01-01"]}}
    refused = await client.post("/api/v1/staff/policy/calendar/2027/versions", json=wrong_year, headers=bearer(token))
    assert refused.json()["code"] == "POLICY_INVALID"


async def test_r_ins_03_policy_data_with_wrong_shapes_is_refused_not_crashed(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    clock.freeze(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    token = await staff_token(client, "admin1")
    for data in ({"key": "employee", "ratio_bp": {"tertiary": "x"}}, {"name_zh": "a\x00b"}):
        body = {"data": data, "effective_from": "2026-03-02", "reason": "fuzz"}
        response = await client.post("/api/v1/staff/policy/scheme/310/versions", json=body, headers=bearer(token))
        assert response.json()["code"] == "POLICY_INVALID", data
