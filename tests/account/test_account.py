"""The patient's own account: the agreements asked at first login and before real-name
verification (versioned, asked again when the version changes), elder mode remembered per account
(R-A11Y-01), account deletion (注销) that keeps what the law keeps; the health-card home."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.account import rules
from medcard.adapters import Adapters
from medcard.adapters.oauth import SandboxOAuth
from medcard.models import AuditEvent, Card, Hospital
from tests.card.conftest import issue_card
from tests.factories import Demo, bearer, patient_token, staff_token, verified_account

RESIDENT = {"document_type": "resident_id", "document_number": "110101199003071234", "name": "张三", "method": "face"}


async def _fresh_login(client: httpx.AsyncClient, adapters: Adapters, openid: str | None = None) -> dict[str, str]:
    """A login through the OAuth API that has not accepted anything yet."""
    assert isinstance(adapters.oauth, SandboxOAuth)
    code = adapters.oauth.issue_code(openid=openid or adapters.oauth.new_openid(), nickname="新用户")
    response = await client.post("/api/v1/auth/oauth", json={"code": code})
    assert response.status_code == 200, response.text
    return bearer(response.json()["token"])


async def _callback(client: httpx.AsyncClient, adapters: Adapters, openid: str) -> httpx.Response:
    """The browser's return from the messaging app's consent screen."""
    assert isinstance(adapters.oauth, SandboxOAuth)
    client.cookies.set("medcard_oauth_state", "s")
    response = await client.get(
        f"/auth/callback?code={adapters.oauth.issue_code(openid=openid, nickname='甲')}&state=s"
    )
    client.cookies.clear()  # the API calls below are not a browser's
    return response


def test_consent_rule_asks_again_when_the_version_changes() -> None:
    assert rules.needs_consent(None, current="2026-11")
    assert rules.needs_consent("2026-01", current="2026-11")
    assert not rules.needs_consent("2026-11", current="2026-11")


async def test_consent_comes_before_real_name_verification(client: httpx.AsyncClient, adapters: Adapters) -> None:
    headers = await _fresh_login(client, adapters)
    refused = await client.post("/api/v1/identity/sessions", json=RESIDENT, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (403, "CONSENT_REQUIRED")
    page = await client.get("/verify", headers=headers)
    assert (page.status_code, page.headers["location"]) == (303, "/consent?next=%2Fverify")
    form = await client.get("/consent?next=/verify", headers=headers)
    assert "用户协议" in form.text and "隐私政策" in form.text and "个人信息处理授权" in form.text
    unticked = await client.post("/consent", data={"version": rules.CONSENT_VERSION}, headers=headers)
    assert unticked.status_code == 403 and "CONSENT_REQUIRED" in unticked.text
    accepted = await client.post(
        "/consent", data={"version": rules.CONSENT_VERSION, "agree": "yes", "next": "/verify"}, headers=headers
    )
    assert (accepted.status_code, accepted.headers["location"]) == (303, "/verify")
    stored = await client.get("/api/v1/me/settings", headers=headers)
    assert stored.json()["consent_version"] == rules.CONSENT_VERSION
    assert (await client.get("/verify", headers=headers)).status_code == 200


async def test_first_login_lands_on_the_agreements_and_a_new_version_asks_again(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(adapters.oauth, SandboxOAuth)
    openid = adapters.oauth.new_openid()
    first = await _callback(client, adapters, openid)
    assert first.status_code == 303 and first.headers["location"].startswith("/consent?next=")
    headers = await _fresh_login(client, adapters, openid)
    stale = await client.post("/api/v1/me/consent", json={"version": "2020-01"}, headers=headers)
    assert (stale.status_code, stale.json()["code"]) == (409, "CONSENT_VERSION_STALE")
    current = {"version": rules.CONSENT_VERSION}
    assert (await client.post("/api/v1/me/consent", json=current, headers=headers)).is_success
    again = await _callback(client, adapters, openid)
    assert not again.headers["location"].startswith("/consent")  # /me, or the step-up of a new device
    monkeypatch.setattr(rules, "CONSENT_VERSION", "2027-01")
    renewed = await _callback(client, adapters, openid)
    assert renewed.headers["location"].startswith("/consent?")
    home = await client.get("/me", headers=headers)  # a session open when the version changed
    assert (home.status_code, home.headers["location"]) == (303, "/consent?next=%2Fme")
    audit = select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "account.consent")
    assert await db.scalar(audit) == 1


async def test_r_a11y_01_elder_mode_is_remembered_per_account(client: httpx.AsyncClient, adapters: Adapters) -> None:
    assert isinstance(adapters.oauth, SandboxOAuth)
    openid = adapters.oauth.new_openid()
    headers = bearer(await patient_token(client, adapters, openid=openid))
    assert 'class="patient"' in (await client.get("/me", headers=headers)).text
    switched = await client.post("/me/elder-mode", data={"on": "1"}, headers=headers)
    assert (switched.status_code, switched.headers["location"]) == (303, "/me")
    other_device = bearer(await patient_token(client, adapters, openid=openid))
    home = await client.get("/me", headers=other_device)
    assert 'class="patient elder"' in home.text and 'aria-pressed="true"' in home.text
    await client.put("/api/v1/me/elder-mode", json={"on": False}, headers=other_device)
    assert 'class="patient"' in (await client.get("/me", headers=headers)).text


async def test_account_deletion_ends_sessions_removes_personal_data_and_keeps_the_audit(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    account = await verified_account(db, name="李注销")
    hospital = await db.scalar(select(Hospital).where(Hospital.code == "H110001"))
    assert hospital is not None
    card = await issue_card(db, adapters, account, hospital)
    headers = bearer(await patient_token(client, adapters, openid=account.openid))
    page = await client.get("/me/account", headers=headers)
    assert "审计记录" in page.text and "支付与退款记录" in page.text
    wrong = await client.post("/me/delete", data={"confirm": "好"}, headers=headers)
    assert wrong.status_code == 400 and "DELETION_NOT_CONFIRMED" in wrong.text
    deleted = await client.post("/me/delete", data={"confirm": "确认注销"}, headers=headers)
    assert (deleted.status_code, deleted.headers["location"]) == (303, "/login?deleted=1")
    assert (await client.get("/api/v1/me/settings", headers=headers)).status_code == 401
    await db.refresh(account)
    await db.refresh(card)
    assert account.status == "deleted" and account.person_id is None and account.openid.startswith("deleted:")
    assert card.status == "cancelled" and card.phone == "" and card.address == ""
    audit = select(func.count()).select_from(AuditEvent).where(AuditEvent.action.in_(["account.delete", "card.issue"]))
    assert await db.scalar(audit) == 2  # the card's issue row stays beside the deletion row


async def test_home_is_the_card_face_with_qr_payment_code_and_service_grid(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    account = await verified_account(db, name="王卡面")
    hospital = await db.scalar(select(Hospital).where(Hospital.code == "H110001"))
    assert hospital is not None
    card = await issue_card(db, adapters, account, hospital)
    headers = bearer(await patient_token(client, adapters, openid=account.openid))
    home = (await client.get("/me", headers=headers)).text
    assert 'id="card-face"' in home and "出示电子健康卡" in home and "<svg" in home and "亮度" in home
    assert " ".join(card.card_number[i : i + 4] for i in range(0, 16, 4)) in home
    assert hospital.name_zh in home and 'id="go-codes" href="/codes"' in home
    for tile in ('href="/insurance"', 'href="/bills"', 'href="/family"', 'href="/security"', 'id="tile-reports"'):
        assert tile in home
    # applying for another card is no longer the main button
    assert 'class="button secondary" id="apply-card"' in home and 'class="button primary" id="apply-card"' not in home
    assert 'id="hotline"' in home and "12320" in home


async def test_patient_footer_and_hotline_only_on_patient_pages_console_nav_by_role(
    client: httpx.AsyncClient, demo: Demo
) -> None:
    login = (await client.get("/login")).text
    assert 'id="patient-footer"' in login and "12320" in login and 'rel="icon"' in login
    console_login = (await client.get("/console/login")).text
    assert 'id="patient-footer"' not in console_login
    cashier = (await client.get("/console", headers=bearer(await staff_token(client, "cashier1")))).text
    assert 'id="console-nav"' in cashier and 'href="/console/pos"' in cashier
    assert 'href="/console/policy"' not in cashier.split('id="console-nav"')[1].split("</nav>")[0]
    admin = (await client.get("/console", headers=bearer(await staff_token(client, "admin1")))).text
    nav = admin.split('id="console-nav"')[1].split("</nav>")[0]
    assert 'href="/console/policy"' in nav and 'href="/console/audit"' in nav
    assert (await client.get("/favicon.ico")).status_code == 301


async def test_picking_a_hospital_checks_the_his_first_and_a_second_form_is_prefilled(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    from datetime import date

    returning = await verified_account(db, name="王建国", document_number="110105198001011238", birth=date(1980, 1, 1))
    headers = bearer(await patient_token(client, adapters, openid=returning.openid))
    picked = await client.get("/cards/apply?hospital=H110001&subject=self", headers=headers)
    assert picked.status_code == 303 and picked.headers["location"].startswith("/cards/existing?")
    assert "found=1" in picked.headers["location"]
    found = await client.get(picked.headers["location"], headers=headers)
    assert 'id="record-found"' in found.text and "form=1" in found.text

    account = await verified_account(db, name="赵两院")
    first = await db.scalar(select(Hospital).where(Hospital.code == "H110001"))
    assert first is not None
    await issue_card(db, adapters, account, first, address="北京市西城区两院路2号")
    other = await db.scalar(select(Hospital).where(Hospital.code != "H110001").order_by(Hospital.code).limit(1))
    assert other is not None
    headers = bearer(await patient_token(client, adapters, openid=account.openid))
    form = await client.get(f"/cards/apply?hospital={other.code}&subject=self", headers=headers)
    assert form.status_code == 200 and 'value="北京市西城区两院路2号"' in form.text
    assert await db.scalar(select(func.count()).select_from(Card).where(Card.account_id == account.id)) == 1


async def test_deleted_account_cannot_use_old_sessions(client: httpx.AsyncClient, adapters: Adapters) -> None:
    headers = bearer(await patient_token(client, adapters))
    assert (await client.post("/api/v1/me/delete", json={"confirm": "确认注销"}, headers=headers)).status_code == 204
    assert (await client.get("/me", headers=headers)).status_code in (401, 303)
    assert (await client.get("/api/v1/me/settings", headers=headers)).status_code == 401


async def test_r_a11y_02_new_pages_speak_english_when_asked(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, demo: Demo
) -> None:
    """The card home, the agreements and the account page carry no Chinese in English, apart from
    the patient's own name."""
    import re

    account = await verified_account(db, name="钱英文")
    hospital = await db.scalar(select(Hospital).where(Hospital.code == "H110001"))
    assert hospital is not None
    await issue_card(db, adapters, account, hospital)
    headers = bearer(await patient_token(client, adapters, openid=account.openid))
    client.cookies.set("medcard_lang", "en")
    try:
        for path in ("/me", "/me/account", "/consent", "/legal/terms", "/legal/privacy", "/legal/processing"):
            html = (await client.get(path, headers=headers)).text
            # The QR's SVG carries a bilingual <title> made in card/qr.py (both languages by design).
            body = re.sub(r"<svg.*?</svg>", " ", html.split("<body", 1)[1], flags=re.S)
            text = re.sub(r"<[^>]+>", " ", body).replace("*英文", "").replace("钱英文", "")
            text = text.replace("中文", "")  # the language switch names its language in that language
            assert not re.findall(r"[\u4e00-\u9fff]+", text), (path, re.findall(r"[\u4e00-\u9fff]+", text))
    finally:
        client.cookies.clear()
