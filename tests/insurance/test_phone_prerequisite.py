"""R-INS-01 (phone can receive SMS): a patient verified by face has no phone on record, so the
bind is refused with INS_PHONE_REQUIRED; the bind page offers the way out — add a phone and
confirm it with a texted code (R-ID-05) — and the bind then succeeds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.insurance import SandboxInsurancePlatform
from medcard.adapters.oauth import SandboxOAuth
from medcard.adapters.sms import SandboxSms
from medcard.config import Settings
from medcard.models import Account
from tests.card.conftest import issue_card
from tests.factories import Demo, bearer, patient_token
from tests.identity.helpers import face, resident_passing, start
from tests.insurance.conftest import LIVE_FACE, SCHEME_BY_CODE

BIND = "/api/v1/insurance/bindings"
PHONE = "13655556666"


@dataclass
class FaceVerified:
    headers: dict[str, str]
    form: dict[str, str]


@pytest.fixture
async def face_verified(
    db: AsyncSession, client: httpx.AsyncClient, adapters: Adapters, settings: Settings, demo: Demo, policy: None
) -> FaceVerified:
    """Verified by face through the API (so no phone is stored), with a health card."""
    assert isinstance(adapters.oauth, SandboxOAuth)
    openid = adapters.oauth.new_openid()
    headers = bearer(await patient_token(client, adapters, openid=openid))
    number = resident_passing(settings, "孙明", birth=date(1984, 8, 8))
    session_id = (await start(client, headers, document_number=number, name="孙明")).json()["id"]
    assert (await face(client, headers, session_id)).json()["status"] == "passed"
    account = await db.scalar(select(Account).where(Account.openid == openid))
    assert account is not None and account.person is not None and account.person.phone is None
    card = await issue_card(db, adapters, account, demo.hospital)
    await db.commit()
    platform = adapters.insurance
    assert isinstance(platform, SandboxInsurancePlatform)
    truth = platform.person(number, "孙明")
    form = {
        "card_id": str(card.id),
        "card_number": truth.card_number,
        "scheme": SCHEME_BY_CODE.get(truth.scheme_code or "", "employee"),
        "region_code": "110000",
        "client_version": "7.1.0",
        "face_image": LIVE_FACE,
    }
    return FaceVerified(headers, form)


def _texted_code(adapters: Adapters, phone: str = PHONE) -> str:
    assert isinstance(adapters.sms, SandboxSms)
    message = adapters.sms.last_to(phone)
    assert message is not None
    match = re.search(r"验证码 (\d+)", message.text)
    assert match is not None
    return match.group(1)


async def test_r_ins_01_face_verified_patient_adds_a_phone_then_binds(
    client: httpx.AsyncClient, face_verified: FaceVerified, adapters: Adapters
) -> None:
    headers = face_verified.headers
    refused = await client.post(BIND, json=face_verified.form, headers=headers)
    assert refused.json()["code"] == "INS_PHONE_REQUIRED"
    assert "手机号码" in refused.json()["hint_zh"]

    sent = await client.post("/api/v1/identity/phone/code", json={"phone": PHONE}, headers=headers)
    assert (sent.status_code, sent.json()["sent_to"]) == (202, "136****6666")
    code = _texted_code(adapters)
    wrong = "000000" if code != "000000" else "111111"
    bad = await client.put("/api/v1/identity/phone", json={"phone": PHONE, "code": wrong}, headers=headers)
    assert bad.json()["code"] == "SMS_CODE_INVALID"
    other_phone = await client.put(
        "/api/v1/identity/phone", json={"phone": "13711112222", "code": code}, headers=headers
    )
    assert other_phone.json()["code"] == "SMS_CODE_NOT_SENT"  # the code proves only the phone it was sent to
    confirmed = await client.put("/api/v1/identity/phone", json={"phone": PHONE, "code": code}, headers=headers)
    assert confirmed.status_code == 200 and confirmed.json()["phone_masked"] == "136****6666"
    reused = await client.put("/api/v1/identity/phone", json={"phone": PHONE, "code": code}, headers=headers)
    assert reused.json()["code"] == "SMS_CODE_INVALID"  # single use (R-ID-05)

    bound = await client.post(BIND, json=face_verified.form, headers=headers)
    assert bound.status_code == 201, bound.text


async def test_r_ins_01_bind_page_offers_adding_a_phone(client: httpx.AsyncClient, face_verified: FaceVerified) -> None:
    page = await client.get("/insurance/bind", headers=face_verified.headers)
    assert 'id="add-phone"' in page.text and 'href="/me/phone?next=/insurance/bind"' in page.text
    phone_page = await client.get("/me/phone?next=/insurance/bind", headers=face_verified.headers)
    assert 'name="next" value="/insurance/bind"' in phone_page.text
    assert 'value="139' in phone_page.text  # the phone on the health card is offered


async def test_r_id_05_an_unverified_account_cannot_add_a_phone(client: httpx.AsyncClient, adapters: Adapters) -> None:
    headers = bearer(await patient_token(client, adapters))
    refused = await client.post("/api/v1/identity/phone/code", json={"phone": PHONE}, headers=headers)
    assert (refused.status_code, refused.json()["code"]) == (403, "PHONE_NEEDS_IDENTITY")


async def test_r_id_05_phone_page_sends_then_redirects_so_a_reload_sends_nothing(
    client: httpx.AsyncClient, adapters: Adapters, face_verified: FaceVerified
) -> None:
    """Post/Redirect/Get (issue 9): 获取验证码 answers 303 to the code form, which a reload shows
    again without texting a second code; the phone never stands in the URL; confirming returns
    to the task."""
    headers = face_verified.headers
    data = {"phone": PHONE, "next": "/insurance/bind"}
    sent = await client.post("/me/phone/code", data=data, headers=headers)
    assert sent.status_code == 303
    location = sent.headers["location"]
    assert location.startswith("/me/phone?") and "sent=1" in location and PHONE not in location
    for _reload in range(2):
        shown = await client.get(location, headers=headers)
        assert 'id="phone-sent"' in shown.text and "136****6666" in shown.text
        assert f'name="phone" value="{PHONE}"' in shown.text and 'name="next" value="/insurance/bind"' in shown.text
    assert isinstance(adapters.sms, SandboxSms)
    assert len([m for m in adapters.sms.outbox if m.phone == PHONE]) == 1
    message = adapters.sms.last_to(PHONE)
    assert message is not None
    code = re.search(r"(\d{6})", message.text)
    assert code is not None
    confirmed = await client.post(
        "/me/phone", data={"phone": PHONE, "code": code.group(1), "next": "/insurance/bind"}, headers=headers
    )
    assert (confirmed.status_code, confirmed.headers["location"]) == (303, "/insurance/bind")
    used = await client.get(location, headers=headers)  # the code is used: the page offers a new send
    assert 'id="phone-sent"' not in used.text
