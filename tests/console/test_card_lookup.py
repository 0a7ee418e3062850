"""Console card lookup by ID number, phone or name, and the audited 显示全名 (issue 9; R-SEC-08, R-CARD-03)."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.models import AuditEvent
from tests.codes.conftest import Holder, make_holder
from tests.factories import Demo, bearer, staff_token


async def test_r_sec_08_lookup_by_id_phone_and_name_finds_the_card_masked(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str]
) -> None:
    """Each way finds the holder's card by blind index; the name stays masked."""
    spaced_phone = f"+86 {holder.phone[:3]} {holder.phone[3:7]} {holder.phone[7:]}"
    for by, value in (("document", holder.document_number.lower()), ("phone", spaced_phone), ("name", holder.name)):
        found = await client.post("/console/cards", data={"by": by, "q": value}, headers=cashier)
        assert found.status_code == 200, by
        assert 'id="found-card"' in found.text, by
        assert f'<span id="found-name">{holder.name}</span>' not in found.text, by  # masked until 显示全名
    none = await client.post("/console/cards", data={"by": "phone", "q": "13000000000"}, headers=cashier)
    assert 'id="lookup-none"' in none.text


async def test_r_sec_08_lookup_stays_within_the_staff_members_hospital(
    client: httpx.AsyncClient, db: AsyncSession, adapters: Adapters, demo: Demo
) -> None:
    """A card of another hospital is not found by a cashier of the first (card/rules.staff_sees_card)."""
    county = await make_holder(db, client, adapters, demo, name="钱县城")
    # make_holder issues at the first hospital; move the card to the county hospital for this rule.
    county.card.hospital_id = demo.county_hospital.id
    await db.commit()
    cashier = bearer(await staff_token(client, "cashier1"))
    found = await client.post("/console/cards", data={"by": "name", "q": "钱县城"}, headers=cashier)
    assert 'id="lookup-none"' in found.text and 'id="found-card"' not in found.text


async def test_r_sec_08_show_full_name_is_audited(
    client: httpx.AsyncClient, db: AsyncSession, holder: Holder, cashier: dict[str, str]
) -> None:
    """显示全名 shows the unmasked name and writes one card.show_name audit row."""
    found = await client.get("/console/cards", params={"card_number": holder.card_number}, headers=cashier)
    assert "显示全名" in found.text and holder.name not in found.text
    shown = await client.post(f"/console/cards/{holder.card_id}/show-name", headers=cashier)
    assert shown.status_code == 200 and f'<span id="found-name">{holder.name}</span>' in shown.text
    rows = (
        await db.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "card.show_name", AuditEvent.subject_id == str(holder.card_id)
            )
        )
    ).all()
    assert len(rows) == 1 and rows[0].actor_kind == "staff"
