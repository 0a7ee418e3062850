"""A binding made before a policy edit still shows the version it was made under (R-INS-03)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx

from medcard.kit.clock import clock
from tests.factories import Demo, bearer, staff_token
from tests.insurance.conftest import MakePatient


async def test_r_ins_03_binding_keeps_its_policy_version_after_an_edit(
    client: httpx.AsyncClient, make_patient: MakePatient, demo: Demo
) -> None:
    clock.freeze(datetime(2026, 3, 2, 22, 0, tzinfo=UTC))
    early = await make_patient(sequence=11)
    made = (await client.post("/api/v1/insurance/bindings", json=early.form(), headers=early.headers)).json()
    token = await staff_token(client, "admin1")
    current = (await client.get("/api/v1/policy/region/110000/versions")).json()[0]["data"]
    edit = {"data": {**current, "min_client_version": "7.5.0"}, "effective_from": "2026-03-03", "reason": "升级要求"}
    edited = await client.post("/api/v1/staff/policy/region/110000/versions", json=edit, headers=bearer(token))
    assert edited.status_code == 201
    clock.freeze(datetime(2026, 3, 3, 1, 0, tzinfo=UTC))  # within the early session's lifetime
    late = await make_patient(sequence=12, name="赵六")
    too_old = await client.post("/api/v1/insurance/bindings", json=late.form(), headers=late.headers)
    assert too_old.json()["code"] == "INS_CLIENT_TOO_OLD"
    form = late.form(client_version="7.5.0")
    newer = await client.post("/api/v1/insurance/bindings", json=form, headers=late.headers)
    assert newer.json()["policy_version"] == 2
    kept = (await client.get(f"/api/v1/insurance/bindings/{made['id']}", headers=early.headers)).json()
    assert kept["policy_version"] == 1
