"""Console pages for hospital card settings: amounts typed in yuan, refusals next to the field."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import Hospital
from tests.factories import Demo, bearer, staff_token

FORM = {
    "physical_card_fee": "10.00",
    "deposit_min": "10.00",
    "credit_limit": "2000.00",
    "credit_enabled": "on",
}


@pytest.fixture
async def admin(client: httpx.AsyncClient, demo: Demo) -> dict[str, str]:
    return bearer(await staff_token(client, "admin1"))


async def test_admin_sees_every_hospital_with_its_settings(
    client: httpx.AsyncClient, demo: Demo, admin: dict[str, str]
) -> None:
    response = await client.get("/console/hospitals", headers=admin)
    assert response.status_code == 200
    assert "京华大学第一医院" in response.text and "密云县人民医院" in response.text
    assert f'id="edit-{demo.county_hospital.code}"' in response.text
    assert "≥ 10.00 元" in response.text and "≤ 2000.00 元" in response.text


async def test_console_home_links_the_settings_for_admins(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    assert 'id="menu-hospitals"' in (await client.get("/console", headers=admin)).text


async def test_r_card_08_admin_saves_a_new_fee_in_yuan(
    client: httpx.AsyncClient, db: AsyncSession, demo: Demo, admin: dict[str, str]
) -> None:
    hospital_id = demo.hospital.id
    form = {**FORM, "physical_card_fee": "12.5", "requires_kiosk_activation": "on"}
    response = await client.post(f"/console/hospitals/{hospital_id}", data=form, headers=admin)
    assert response.status_code == 303 and response.headers["location"].endswith("?saved=1")
    stored = await db.get(Hospital, hospital_id, populate_existing=True)
    assert stored is not None
    assert (stored.physical_card_fee_fen, stored.requires_kiosk_activation) == (1250, True)
    page = await client.get(response.headers["location"], headers=admin)
    assert 'id="saved-notice"' in page.text and 'value="12.50"' in page.text


async def test_r_card_08_fee_of_3_yuan_is_refused_next_to_the_field(
    client: httpx.AsyncClient, db: AsyncSession, demo: Demo, admin: dict[str, str]
) -> None:
    hospital_id = demo.hospital.id
    response = await client.post(
        f"/console/hospitals/{hospital_id}", data={**FORM, "physical_card_fee": "3"}, headers=admin
    )
    assert response.status_code == 422
    assert "实体卡工本费须为 0 元或 5–20 元" in response.text
    assert 'id="physical_card_fee" name="physical_card_fee"' in response.text
    assert 'value="3"' in response.text and 'aria-invalid="true"' in response.text
    stored = await db.get(Hospital, hospital_id, populate_existing=True)
    assert stored is not None and stored.physical_card_fee_fen == 1000


async def test_r_card_09_required_deposit_of_5_yuan_is_refused_on_the_page(
    client: httpx.AsyncClient, demo: Demo, admin: dict[str, str]
) -> None:
    form = {**FORM, "deposit_required": "on", "deposit_min": "5"}
    response = await client.post(f"/console/hospitals/{demo.hospital.id}", data=form, headers=admin)
    assert response.status_code == 422 and "DEPOSIT_MINIMUM_TOO_LOW" in response.text


async def test_r_card_10_credit_of_3000_yuan_is_refused_on_the_page(
    client: httpx.AsyncClient, demo: Demo, admin: dict[str, str]
) -> None:
    form = {**FORM, "credit_limit": "3000"}
    response = await client.post(f"/console/hospitals/{demo.hospital.id}", data=form, headers=admin)
    assert response.status_code == 422 and "先诊疗后付费额度须在 0–2000 元之间" in response.text


@pytest.mark.parametrize("amount", ["abc", "-1", "1.234", ""])
async def test_amount_that_is_not_yuan_is_refused_on_the_page(
    client: httpx.AsyncClient, demo: Demo, admin: dict[str, str], amount: str
) -> None:
    form = {**FORM, "deposit_min": amount}
    response = await client.post(f"/console/hospitals/{demo.hospital.id}", data=form, headers=admin)
    assert response.status_code == 422
    assert "金额格式不正确" in response.text or "MALFORMED_REQUEST" in response.text


async def test_missing_form_field_is_422(client: httpx.AsyncClient, demo: Demo, admin: dict[str, str]) -> None:
    form = {"physical_card_fee": "10"}
    response = await client.post(f"/console/hospitals/{demo.hospital.id}", data=form, headers=admin)
    assert response.status_code == 422 and "MALFORMED_REQUEST" in response.text


async def test_hospital_pages_are_for_admins_only(client: httpx.AsyncClient, demo: Demo) -> None:
    kiosk = bearer(await staff_token(client, "kiosk1"))
    one = f"/console/hospitals/{demo.hospital.id}"
    assert (await client.get("/console/hospitals", headers=kiosk)).status_code == 403
    assert (await client.get(one, headers=kiosk)).status_code == 403
    assert (await client.post(one, data=FORM, headers=kiosk)).status_code == 403
