"""R-ID-07 on every route to a child's card: a person under 14 gets a card only through a
guardian's account, never by verifying himself on his own account."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.config import Settings
from medcard.kit.clock import clock
from medcard.models import Card
from tests.card.conftest import complete_form
from tests.factories import Demo, bearer, patient_token, verified_account
from tests.identity.helpers import face, resident_passing, start

HOSPITAL = "H110001"


def _born_years_ago(years: int) -> date:
    return date(clock.today_in_china().year - years, 1, 1)


async def test_r_id_07_a_ten_year_old_cannot_verify_himself_through_the_api(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    """R-ID-07: the 10-year-old's own verification is refused before any check runs, so he never
    holds a verified account to apply with; a 14-year-old may verify himself."""
    child = resident_passing(settings, "李小明", birth=_born_years_ago(10), region="110101")
    refused = await start(client, patient, document_number=child, name="李小明")
    assert refused.status_code == 403
    problem = refused.json()
    assert (
        problem["code"] == "ID_MINOR_NEEDS_GUARDIAN" and "14" in problem["title_zh"] and "监护人" in problem["hint_zh"]
    )
    teen = resident_passing(settings, "李大明", birth=_born_years_ago(14), region="110101")
    started = await start(client, patient, document_number=teen, name="李大明")
    assert started.status_code == 201, started.text
    assert (await face(client, patient, started.json()["id"])).json()["status"] == "passed"


async def test_r_id_07_a_ten_year_old_cannot_verify_himself_on_the_page(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    """R-ID-07: the verify page shows the refusal next to the document number."""
    child = resident_passing(settings, "王小红", birth=_born_years_ago(10), region="110101")
    form = {"method": "face", "document_type": "resident_id", "name": "王小红", "document_number": child}
    page = await client.post("/verify", data=form, headers=patient)
    assert page.status_code == 403 and "未满 14 周岁不能本人实名认证" in page.text
    assert "/verify/" not in page.headers.get("location", "")


async def test_r_id_07_an_account_already_verified_as_a_child_gets_no_card_through_the_api(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    """R-ID-07: an account verified as a 10-year-old (before the rule held at verification) is
    refused at the card API — submit, draft and existing-patient binding alike — and no card exists."""
    child = await verified_account(db, name="赵小刚", birth=_born_years_ago(10))
    headers = bearer(await patient_token(client, adapters, openid=child.openid))
    submitted = await client.post(
        "/api/v1/cards", json={"hospital": HOSPITAL, "fields": complete_form()}, headers=headers
    )
    assert submitted.status_code == 403 and submitted.json()["code"] == "CARD_MINOR_NEEDS_GUARDIAN"
    draft = await client.get("/api/v1/cards/drafts", params={"hospital": HOSPITAL}, headers=headers)
    assert draft.status_code == 403 and draft.json()["code"] == "CARD_MINOR_NEEDS_GUARDIAN"
    existing = await client.post(
        "/api/v1/cards/existing/start", json={"hospital": HOSPITAL, "fields": complete_form()}, headers=headers
    )
    assert existing.status_code == 403 and existing.json()["code"] == "CARD_MINOR_NEEDS_GUARDIAN"
    assert await db.scalar(select(func.count()).select_from(Card)) == 0


async def test_r_id_07_an_account_already_verified_as_a_child_gets_no_card_on_the_pages(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    """R-ID-07: the apply pages refuse the child's own account with the guardian hint."""
    child = await verified_account(db, name="钱小丽", birth=_born_years_ago(10))
    headers = bearer(await patient_token(client, adapters, openid=child.openid))
    form_page = await client.get(f"/cards/apply?hospital={HOSPITAL}", headers=headers)
    assert form_page.status_code == 403 and "未满 14 周岁须由监护人代为申领" in form_page.text
    submitted = await client.post(
        f"/cards/apply?hospital={HOSPITAL}&subject=self", data=complete_form(), headers=headers
    )
    assert submitted.status_code == 403 and "监护人" in submitted.text
    assert await db.scalar(select(func.count()).select_from(Card)) == 0
