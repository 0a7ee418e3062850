"""Console audit log: Chinese action names, paging, links to records (issue 9; R-SEC-08)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import AuditEvent
from tests.codes.conftest import Holder
from tests.factories import Demo, bearer, staff_token

ROW = re.compile(r'<tr data-action="([a-z_.]+)">')
SUBJECT = re.compile(r"<td translate=\"no\">card ([0-9a-f]{8})</td>")


async def test_r_sec_08_audit_rows_read_in_chinese_and_link_to_the_card(
    client: httpx.AsyncClient, holder: Holder, demo: Demo
) -> None:
    """An issued card's row reads 发卡 (English second) and opens the card for a role that may."""
    admin = bearer(await staff_token(client, "admin1"))
    log = await client.get("/console/audit", params={"action": "card.issue"}, headers=admin)
    assert log.status_code == 200
    assert "发卡" in log.text and "card.issue" in log.text
    link = f"/console/cards?card_id={holder.card_id}"
    assert f'href="{link}"' in log.text
    card_page = await client.get(link, headers=admin)
    assert card_page.status_code == 200 and holder.card_number[-4:] in card_page.text.replace(" ", "")

    client.cookies.set("medcard_lang", "en")
    english = await client.get("/console/audit", params={"action": "card.issue"}, headers=admin)
    client.cookies.delete("medcard_lang")
    assert "Card issued" in english.text

    reviewer = bearer(await staff_token(client, "reviewer1"))
    seen = await client.get("/console/audit", params={"action": "card.issue"}, headers=reviewer)
    assert "发卡" in seen.text and f'href="{link}"' not in seen.text  # the card page is not the reviewer's


async def test_r_sec_08_audit_log_pages_by_fifty_in_a_stable_order(
    client: httpx.AsyncClient, db: AsyncSession, demo: Demo
) -> None:
    """120 rows at the same instant: pages of 50, 50 and 20, each row on exactly one page."""
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    subjects = [str(uuid.uuid4()) for _ in range(120)]
    for subject in subjects:
        db.add(
            AuditEvent(
                at=at,
                actor_kind="staff",
                actor_id="t",
                action="card.update",
                subject_kind="card",
                subject_id=subject,
                hospital_id=demo.hospital.id,
            )
        )
    await db.commit()
    reviewer = bearer(await staff_token(client, "reviewer1"))
    seen: list[str] = []
    url: str | None = "/console/audit?action=card.update"
    sizes = []
    while url is not None:
        response = await client.get(url, headers=reviewer)
        assert response.status_code == 200
        rows = ROW.findall(response.text)
        sizes.append(len(rows))
        seen += SUBJECT.findall(response.text)
        match = re.search(r'<a class="button secondary" rel="next" href="([^"]+)"', response.text)
        url = match.group(1).replace("&amp;", "&") if match else None
        assert "修改健康卡信息" in response.text
    assert sizes == [50, 50, 20]
    assert sorted(seen) == sorted(s[:8] for s in subjects)
    back = await client.get("/console/audit?action=card.update&page=2", headers=reviewer)
    assert 'rel="prev" href="/console/audit?action=card.update&amp;page=1"' in back.text
