"""Security pages: PIN, freeze, settings; console loss report and audit chain (R-SEC-03, 05, 07, 08)."""

from __future__ import annotations

import httpx
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.audit import chain
from medcard.audit.repository import AuditRepository
from medcard.config import Settings
from medcard.models import AuditEvent
from tests.codes.conftest import Holder
from tests.factories import Demo, bearer, staff_token


async def test_r_sec_03_page_sets_the_pin_and_names_a_bad_one(client: httpx.AsyncClient, holder: Holder) -> None:
    bad = await client.post("/security/pin", data={"pin": "12345"}, headers=holder.headers)
    assert bad.status_code == 400 and "6 位数字" in bad.text and 'aria-invalid="true"' in bad.text
    ok = await client.post("/security/pin", data={"pin": "135790"}, headers=holder.headers, follow_redirects=True)
    assert [r.status_code for r in ok.history] == [303] and "支付密码已保存" in ok.text  # Post/Redirect/Get
    reset = await client.post("/security/pin", data={"pin": "975310"}, headers=holder.headers)
    assert reset.status_code == 403 and "重新进行实名认证" in reset.text


async def test_r_sec_05_page_freezes(client: httpx.AsyncClient, holder: Holder) -> None:
    frozen = await client.post("/security/freeze", headers=holder.headers, follow_redirects=True)
    assert [r.status_code for r in frozen.history] == [303] and 'data-frozen="1"' in frozen.text
    code_page = await client.post(f"/codes/fresh?card_id={holder.card_id}", headers=holder.headers)
    assert 'data-code="ACCOUNT_PAYMENTS_FROZEN"' in code_page.text


async def test_r_sec_07_page_saves_permission_settings(client: httpx.AsyncClient, holder: Holder) -> None:
    saved = await client.post(
        "/security/settings",
        data={"bill_visibility": "family", "family_scope": "cards_and_bills"},
        headers=holder.headers,
        follow_redirects=True,
    )
    assert saved.status_code == 200 and "权限设置已保存" in saved.text
    assert '<option value="family" selected>' in saved.text


async def test_r_sec_05_console_loss_report_page(client: httpx.AsyncClient, holder: Holder, demo: Demo) -> None:
    hotline = bearer(await staff_token(client, "hotline1"))
    form = {
        "card_number": holder.card_number,
        "name": holder.name,
        "document_last4": holder.document_number[-4:],
        "phone_last4": "0000",
    }
    refused = await client.post("/console/security/loss-report", data=form, headers=hotline)
    assert refused.status_code == 403 and "身份核验未通过" in refused.text
    placed = await client.post(
        "/console/security/loss-report", data={**form, "phone_last4": holder.phone[-4:]}, headers=hotline
    )
    assert placed.status_code == 303  # Post/Redirect/Get (issue 9)
    shown = await client.get(placed.headers["location"], headers=hotline)
    assert 'id="loss-placed"' in shown.text and holder.card_number in shown.text


async def test_r_sec_08_console_audit_chain_page_detects_an_edit(
    client: httpx.AsyncClient, db: AsyncSession, holder: Holder, demo: Demo
) -> None:
    reviewer = bearer(await staff_token(client, "reviewer1"))
    before = await client.get("/console/security/audit-chain", headers=reviewer)
    assert 'data-pending="0"' not in before.text and "待封存" in before.text  # the login, not sealed yet
    pending = await client.post("/console/security/audit-chain", headers=reviewer)
    assert pending.status_code == 200 and 'data-intact="1"' in pending.text and "条待封存" in pending.text
    sealed = await client.post("/console/security/audit-chain/checkpoint", headers=reviewer, follow_redirects=True)
    assert sealed.history[0].status_code == 303
    assert 'data-intact="1"' in sealed.text and 'data-pending="0"' in sealed.text
    await db.execute(update(AuditEvent).where(AuditEvent.action == "auth.login").values(actor_label="mallory"))
    broken = await client.post("/console/security/audit-chain", headers=reviewer)
    assert 'data-intact="0"' in broken.text and "审计链已被破坏" in broken.text


async def test_r_sec_08_console_audit_log_shows_sealed_and_pending_counts(
    client: httpx.AsyncClient, db: AsyncSession, demo: Demo, settings: Settings
) -> None:
    """R-SEC-08: the console's audit log shows how many rows are sealed and how many pending."""
    reviewer = bearer(await staff_token(client, "reviewer1"))
    log = await client.get("/console/audit", headers=reviewer)
    state = await AuditRepository(db).seal_state()
    assert state.pending >= 1  # the reviewer's own login
    assert f'data-sealed="{state.sealed}" data-pending="{state.pending}"' in log.text
    await chain.seal_and_checkpoint(db, secret=settings.secret_key)
    await db.commit()
    after = await client.get("/console/audit", headers=reviewer)
    assert f'data-sealed="{state.sealed + state.pending}" data-pending="0"' in after.text
