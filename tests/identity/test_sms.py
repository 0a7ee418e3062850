"""SMS verification (R-ID-05): 6 digits, single use, expiry, rate limits per phone and per IP."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from medcard.adapters import Adapters
from medcard.adapters.sms import SandboxSms
from medcard.config import Settings
from medcard.kit.clock import clock
from tests.identity.helpers import resident_passing, start

PHONE = "13700001111"


def _code(adapters: Adapters, phone: str = PHONE) -> str:
    assert isinstance(adapters.sms, SandboxSms)
    message = adapters.sms.last_to(phone)
    assert message is not None
    match = re.search(r"验证码 (\d+)", message.text)
    assert match is not None
    return match.group(1)


async def _sms_session(
    client: httpx.AsyncClient, headers: dict[str, str], settings: Settings, phone: str = PHONE, name: str = "张伟"
) -> str:
    response = await start(
        client, headers, method="sms", phone=phone, name=name, document_number=resident_passing(settings, name)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _send(client: httpx.AsyncClient, headers: dict[str, str], session_id: str) -> httpx.Response:
    return await client.post(f"/api/v1/identity/sessions/{session_id}/sms-code", headers=headers)


async def _confirm(client: httpx.AsyncClient, headers: dict[str, str], session_id: str, code: str) -> httpx.Response:
    return await client.post(
        f"/api/v1/identity/sessions/{session_id}/confirm", json={"method": "sms", "code": code}, headers=headers
    )


@pytest.fixture(autouse=True)
def _frozen() -> None:
    clock.freeze(datetime(2026, 11, 23, 3, 0, tzinfo=UTC))


async def test_r_id_05_six_digit_code_verifies_the_account(
    client: httpx.AsyncClient, patient: dict[str, str], adapters: Adapters, settings: Settings
) -> None:
    session_id = await _sms_session(client, patient, settings)
    sent = await _send(client, patient, session_id)
    assert (sent.status_code, sent.json()["sent_to"]) == (202, "137****1111")
    code = _code(adapters)
    assert re.fullmatch(r"\d{6}", code)
    assert "http" not in adapters.sms.last_to(PHONE).text  # type: ignore[attr-defined, union-attr]
    done = await _confirm(client, patient, session_id, code)
    assert (done.status_code, done.json()["status"]) == (200, "passed")
    me = (await client.get("/api/v1/identity/me", headers=patient)).json()
    assert me["person"]["verification_method"] == "sms"


async def test_r_id_05_code_is_single_use(
    client: httpx.AsyncClient,
    patient: dict[str, str],
    other_patient: dict[str, str],
    adapters: Adapters,
    settings: Settings,
) -> None:
    first = await _sms_session(client, patient, settings)
    await _send(client, patient, first)
    code = _code(adapters)
    assert (await _confirm(client, patient, first, code)).status_code == 200
    # Someone else with the same phone replays the used code.
    second = await _sms_session(client, other_patient, settings, name="李娜")
    replay = await _confirm(client, other_patient, second, code)
    assert (replay.status_code, replay.json()["code"]) == (400, "SMS_CODE_INVALID")


async def test_r_id_05_code_expires(
    client: httpx.AsyncClient, patient: dict[str, str], adapters: Adapters, settings: Settings
) -> None:
    session_id = await _sms_session(client, patient, settings)
    await _send(client, patient, session_id)
    code = _code(adapters)
    clock.advance(timedelta(seconds=settings.sms_code_ttl_seconds + 1))
    late = await _confirm(client, patient, session_id, code)
    assert (late.status_code, late.json()["code"]) == (400, "SMS_CODE_INVALID")
    assert "5 分钟" in late.json()["hint_zh"]
    await _send(client, patient, session_id)  # a new code still works within the session
    assert (await _confirm(client, patient, session_id, _code(adapters))).status_code == 200


async def test_r_id_05_wrong_code_keeps_the_session_open(
    client: httpx.AsyncClient, patient: dict[str, str], adapters: Adapters, settings: Settings
) -> None:
    session_id = await _sms_session(client, patient, settings)
    await _send(client, patient, session_id)
    code = _code(adapters)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert (await _confirm(client, patient, session_id, wrong)).json()["code"] == "SMS_CODE_INVALID"
    assert (await _confirm(client, patient, session_id, code)).status_code == 200


async def test_r_id_05_code_must_have_six_digits(
    client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    session_id = await _sms_session(client, patient, settings)
    response = await _confirm(client, patient, session_id, "12345")
    assert (response.status_code, response.json()["code"]) == (422, "MALFORMED_REQUEST")


async def test_r_id_05_rate_limited_per_phone(
    client: httpx.AsyncClient, patient: dict[str, str], adapters: Adapters, settings: Settings
) -> None:
    session_id = await _sms_session(client, patient, settings)
    for _ in range(settings.sms_per_phone_per_hour):
        assert (await _send(client, patient, session_id)).status_code == 202
    limited = await _send(client, patient, session_id)
    assert (limited.status_code, limited.json()["code"]) == (429, "SMS_RATE_LIMITED")
    clock.advance(timedelta(hours=1, seconds=1))
    fresh = await _sms_session(client, patient, settings)  # the first session has expired meanwhile
    assert (await _send(client, patient, fresh)).status_code == 202


async def test_r_id_05_rate_limited_per_ip(
    app: FastAPI, client: httpx.AsyncClient, patient: dict[str, str], settings: Settings
) -> None:
    app.state.settings = settings.model_copy(update={"sms_per_ip_per_hour": 2})
    for index in range(2):
        session_id = await _sms_session(client, patient, settings, phone=f"1370000200{index}")
        assert (await _send(client, patient, session_id)).status_code == 202
    other_phone = await _sms_session(client, patient, settings, phone="13700002009")
    limited = await _send(client, patient, other_phone)
    assert (limited.status_code, limited.json()["code"]) == (429, "SMS_RATE_LIMITED")
