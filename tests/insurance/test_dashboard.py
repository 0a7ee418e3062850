"""The binding dashboard counts recorded attempts (R-OPS-01): success by scheme, failures by
category (R-INS-09)."""

from __future__ import annotations

import httpx

from tests.factories import Demo, bearer, staff_token
from tests.insurance.conftest import SPOOF_FACE, MakePatient


async def test_r_ops_01_binding_success_by_scheme_and_failures_by_category(
    client: httpx.AsyncClient, make_patient: MakePatient, demo: Demo
) -> None:
    employee = await make_patient(sequence=5)
    resident = await make_patient(sequence=45, name="周八")
    bind = "/api/v1/insurance/bindings"
    assert (await client.post(bind, json=employee.form(), headers=employee.headers)).status_code == 201
    await client.post(bind, json=resident.form(face_image=SPOOF_FACE), headers=resident.headers)
    await client.post(bind, json=resident.form(card_number="1"), headers=resident.headers)
    assert (await client.post(bind, json=resident.form(), headers=resident.headers)).status_code == 201
    admin = bearer(await staff_token(client, "admin1"))
    board = (await client.get("/api/v1/staff/insurance/dashboard", headers=admin)).json()
    by_scheme = {row["scheme_code"]: (row["attempts"], row["succeeded"]) for row in board["by_scheme"]}
    assert by_scheme == {"310": (1, 1), "390": (2, 1), "unknown": (1, 0)}
    categories = {row["category"]: row["failures"] for row in board["failures_by_category"]}
    assert categories == {"face": 1, "card_number": 1}
    cashier = bearer(await staff_token(client, "cashier1"))
    assert (await client.get("/api/v1/staff/insurance/dashboard", headers=cashier)).status_code == 403
