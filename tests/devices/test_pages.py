"""Device pages: the devices list on /security, the step-up page and its fallback, unbinding
and the refusals a new device sees (R-SEC-04, R-SEC-06)."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.oauth import SandboxOAuth
from medcard.models import Account
from tests.codes.conftest import Holder
from tests.devices.conftest import SHANGHAI, ClientAt, fresh_verification, login


async def test_r_sec_04_security_page_lists_this_device(client: httpx.AsyncClient, holder: Holder) -> None:
    """R-SEC-04: /security shows the bound device with its region and offers fingerprint enrolment."""
    page = await client.get("/security", headers=holder.headers)
    assert page.status_code == 200
    assert 'data-current="1"' in page.text and "上海" in page.text and "python-httpx" in page.text
    assert 'id="register-authenticator"' in page.text and 'id="step-up-banner"' not in page.text
    assert '<script src="/static/webauthn.js"' in page.text
    assert (await client.get("/static/webauthn.js")).status_code == 200


async def test_r_sec_06_new_device_pages_ask_for_step_up_then_accept_the_fallback(
    client: httpx.AsyncClient, client_at: ClientAt, holder: Holder, adapters: Adapters, db: AsyncSession
) -> None:
    """R-SEC-06 / R-SEC-04: a new device sees the banner, PIN and settings forms refuse with the
    step-up message, the step-up page offers re-verification, which then lets it unbind the old phone."""
    account = await db.get(Account, holder.account_id)
    assert account is not None
    async with client_at(SHANGHAI) as phone:
        second = await login(phone, adapters, account.openid)
        security = await phone.get("/security", headers=second.headers)
        assert 'id="step-up-banner"' in security.text and 'id="register-authenticator"' not in security.text
        pin = await phone.post("/security/pin", data={"pin": "135790"}, headers=second.headers)
        assert pin.status_code == 403 and 'data-code="STEP_UP_REQUIRED"' in pin.text
        settings = await phone.post(
            "/security/settings", data={"bill_visibility": "family", "family_scope": "none"}, headers=second.headers
        )
        assert settings.status_code == 403 and 'data-code="STEP_UP_REQUIRED"' in settings.text
        codes = await phone.get("/codes", headers=second.headers)
        assert codes.status_code == 403 and 'id="step-up-link"' in codes.text
        step_up = await phone.get("/security/step-up", headers=second.headers)
        assert "新设备登录" in step_up.text and 'id="no-authenticator"' in step_up.text
        too_early = await phone.post("/security/step-up/verification", headers=second.headers)
        assert too_early.status_code == 403 and 'data-code="REVERIFICATION_REQUIRED"' in too_early.text
        await fresh_verification(db, holder.account_id, holder.document_number, holder.name)
        done = await phone.post("/security/step-up/verification", headers=second.headers, follow_redirects=True)
        assert done.status_code == 200 and 'data-stepped-up="1"' in done.text
        devices = await phone.get("/api/v1/devices", headers=second.headers)
        old = next(d for d in devices.json() if not d["current"])
        unbound = await phone.post(
            f"/security/devices/{old['id']}/unbind", headers=second.headers, follow_redirects=True
        )
        assert unbound.status_code == 200 and "设备已解绑" in unbound.text
    assert (await client.get("/security", headers=holder.headers)).status_code == 303


async def test_r_sec_06_oauth_callback_sends_an_abnormal_login_to_the_step_up_page(
    client: httpx.AsyncClient, client_at: ClientAt, holder: Holder, adapters: Adapters, db: AsyncSession
) -> None:
    """R-SEC-06: the browser login of a new device lands on /security/step-up and keeps a device cookie."""
    account = await db.get(Account, holder.account_id)
    assert account is not None
    assert isinstance(adapters.oauth, SandboxOAuth)
    async with client_at(SHANGHAI) as phone:
        phone.cookies.set("medcard_oauth_state", "state-1")
        code = adapters.oauth.issue_code(openid=account.openid, nickname="x")
        landed = await phone.get("/auth/callback", params={"code": code, "state": "state-1"})
        assert landed.status_code == 303 and landed.headers["location"] == "/security/step-up"
        device_cookie = next(c for c in landed.headers.get_list("set-cookie") if c.startswith("medcard_device="))
        assert "httponly" in device_cookie.lower()
