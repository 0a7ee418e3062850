"""A double-submitted card application (a second tap, a resent request) shows the success page
of the card the first submission issued, not CARD_ALREADY_ISSUED (R-CARD-01, issue 9); a later
application for the same hospital is still refused (R-CARD-05)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.kit.clock import clock
from medcard.models import Card
from tests.card.conftest import complete_form
from tests.factories import Demo, bearer, patient_token, verified_account

WHERE = "hospital=H110001&subject=self"


async def test_r_card_01_a_double_submitted_application_lands_on_the_success_page(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    clock.freeze(datetime(2026, 11, 30, 2, 0, tzinfo=UTC))
    account = await verified_account(db)
    headers = bearer(await patient_token(client, adapters, openid=account.openid))
    first = await client.post(f"/cards/apply?{WHERE}", data=complete_form(), headers=headers)
    second = await client.post(f"/cards/apply?{WHERE}", data=complete_form(), headers=headers)
    assert first.status_code == second.status_code == 303
    assert second.headers["location"] == first.headers["location"]
    assert first.headers["location"].endswith("?issued=1")
    assert await db.scalar(select(func.count()).select_from(Card)) == 1
    page = await client.get(second.headers["location"], headers=headers)
    assert "办卡成功" in page.text and "CARD_ALREADY_ISSUED" not in page.text

    clock.advance(timedelta(minutes=11))  # no longer a double submit: the one-card rule answers
    later = await client.post(f"/cards/apply?{WHERE}", data=complete_form(), headers=headers)
    assert later.status_code == 409 and 'data-code="CARD_ALREADY_ISSUED"' in later.text
