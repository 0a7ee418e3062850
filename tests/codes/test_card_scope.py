"""Where a card pays and who may act on it (R-CARD-05): a hospital-scoped card identifies and
pays only at its own hospital, a regional card at every hospital of its region; staff act only
on cards of their hospital."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.demo import DEMO_PASSWORD
from medcard.kit.crypto import hash_password
from medcard.models import Hospital, Region, StaffUser
from tests.codes.conftest import Holder, make_holder, new_code, redeem
from tests.factories import Demo, bearer, staff_token

LOSS = "/api/v1/security/loss-reports"


async def _county_staff(client: httpx.AsyncClient, db: AsyncSession, demo: Demo, role: str) -> dict[str, str]:
    username = f"county-{role}"
    db.add(
        StaffUser(
            username=username,
            display_name=f"县医院{role}",
            password_hash=hash_password(DEMO_PASSWORD),
            role=role,
            hospital_id=demo.county_hospital.id,
        )
    )
    await db.commit()
    return bearer(await staff_token(client, username))


async def test_r_card_05_hospital_card_pays_at_its_own_hospital(
    client: httpx.AsyncClient, holder: Holder, pharmacy: dict[str, str]
) -> None:
    """R-CARD-05: the issuing hospital's pharmacy takes the card."""
    paid = await redeem(client, pharmacy, await new_code(client, holder))
    assert paid.status_code == 200, paid.text


async def test_r_card_05_hospital_card_is_refused_at_another_hospital_of_the_region(
    client: httpx.AsyncClient, holder: Holder, demo: Demo, db: AsyncSession
) -> None:
    """R-CARD-05: a pharmacy of hospital B cannot redeem a hospital-A card (clear code)."""
    assert demo.county_hospital.region_id == demo.hospital.region_id
    county_pharmacy = await _county_staff(client, db, demo, "pharmacy")
    refused = await redeem(client, county_pharmacy, await new_code(client, holder))
    assert refused.status_code == 403
    problem = refused.json()
    assert problem["code"] == "CODE_CARD_OTHER_HOSPITAL" and "本院" in problem["title_zh"]
    assert problem["hint"] and problem["hint_zh"]


async def test_r_card_05_regional_card_pays_across_the_region(
    client: httpx.AsyncClient, adapters: Adapters, demo: Demo, db: AsyncSession
) -> None:
    """R-CARD-05: on a regional platform a card issued at hospital A pays at hospital B."""
    region = await db.get(Region, demo.hospital.region_id)
    assert region is not None
    region.card_scope = "region"
    await db.flush()
    regional = await make_holder(db, client, adapters, demo, name="钱区域")
    assert regional.card.scope == f"R:{region.code}"
    county_pharmacy = await _county_staff(client, db, demo, "pharmacy")
    paid = await redeem(client, county_pharmacy, await new_code(client, regional))
    assert paid.status_code == 200, paid.text


async def test_r_card_05_regional_card_is_refused_outside_its_region(
    client: httpx.AsyncClient, adapters: Adapters, demo: Demo, db: AsyncSession
) -> None:
    """R-CARD-05: a regional card does not pay at a hospital of another region."""
    region = await db.get(Region, demo.hospital.region_id)
    assert region is not None
    region.card_scope = "region"
    await db.flush()
    regional = await make_holder(db, client, adapters, demo, name="孙区域")
    other_region = Region(code="120000", name_zh="天津市", name_en="Tianjin", card_scope="region")
    db.add(other_region)
    await db.flush()
    county = await db.get(Hospital, demo.county_hospital.id)
    assert county is not None
    county.region_id = other_region.id
    await db.flush()
    county_pharmacy = await _county_staff(client, db, demo, "pharmacy")
    refused = await redeem(client, county_pharmacy, await new_code(client, regional))
    assert refused.status_code == 403 and refused.json()["code"] == "CODE_CARD_OTHER_HOSPITAL"


async def test_r_card_05_hotline_of_another_hospital_cannot_report_a_card_lost(
    client: httpx.AsyncClient, holder: Holder, demo: Demo, db: AsyncSession, pharmacy: dict[str, str]
) -> None:
    """R-CARD-05 / R-SEC-05: a hotline operator of hospital B placing a loss report on a
    hospital-A card with every answer right is refused exactly like a wrong answer, and the
    account stays unfrozen."""
    answers = {
        "card_number": holder.card_number,
        "name": holder.name,
        "document_last4": holder.document_number[-4:],
        "phone_last4": holder.phone[-4:],
    }
    county_hotline = await _county_staff(client, db, demo, "hotline")
    elsewhere = await client.post(LOSS, json=answers, headers=county_hotline)
    wrong = await client.post(LOSS, json={**answers, "phone_last4": "0000"}, headers=county_hotline)
    assert elsewhere.status_code == 403 and elsewhere.json()["code"] == "LOSS_REPORT_IDENTITY_FAILED"
    assert {**elsewhere.json(), "instance": ""} == {**wrong.json(), "instance": ""}
    assert (await redeem(client, pharmacy, await new_code(client, holder))).status_code == 200
    own_hotline = bearer(await staff_token(client, "hotline1"))
    assert (await client.post(LOSS, json=answers, headers=own_hotline)).status_code == 200
