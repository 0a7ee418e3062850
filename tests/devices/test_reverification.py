"""The fresh verification behind a new device's step-up (R-SEC-04) and a reactivation after a
freeze (R-SEC-05) is startable by the verified account itself: a re-verification for that
purpose, of the account's own identity, through the API. One purpose does not stand in for
another."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.oauth import SandboxOAuth
from medcard.config import Settings
from tests.devices.conftest import GUANGZHOU, SHANGHAI, URUMQI, ClientAt, login
from tests.identity.helpers import face, resident_passing, start

STEP_UP = "/api/v1/devices/step-up"
NAME = "周设备"


async def _verify(http: httpx.AsyncClient, headers: dict[str, str], number: str, purpose: str | None = None) -> str:
    extra = {"purpose": purpose} if purpose else {}
    started = await start(http, headers, document_number=number, name=NAME, **extra)
    assert started.status_code == 201, started.text
    passed = await face(http, headers, started.json()["id"])
    assert passed.json()["status"] == "passed", passed.text
    return str(started.json()["id"])


def _openid(adapters: Adapters) -> str:
    assert isinstance(adapters.oauth, SandboxOAuth)
    return adapters.oauth.new_openid()


async def test_r_sec_04_new_device_steps_up_with_a_step_up_reverification(
    client_at: ClientAt, adapters: Adapters, settings: Settings, db: AsyncSession
) -> None:
    openid = _openid(adapters)
    number = resident_passing(settings, NAME, birth=date(1979, 7, 7))
    async with client_at(SHANGHAI) as first_phone:
        first = await login(first_phone, adapters, openid)
        await _verify(first_phone, first.headers, number)
    async with client_at(URUMQI) as new_phone:
        second = await login(new_phone, adapters, openid)
        assert "new_device" in second.step_up_required
        plain = await start(new_phone, second.headers, document_number=number, name=NAME)
        assert plain.json()["code"] == "ACCOUNT_ALREADY_VERIFIED"

        pin_reset = await _verify(new_phone, second.headers, number, "pin_reset")
        other_purpose = await new_phone.post(
            f"{STEP_UP}/verification", json={"verification_id": pin_reset}, headers=second.headers
        )
        assert other_purpose.json()["code"] == "REVERIFICATION_REQUIRED"

        step_up = await _verify(new_phone, second.headers, number, "step_up")
        done = await new_phone.post(
            f"{STEP_UP}/verification", json={"verification_id": step_up}, headers=second.headers
        )
        assert done.status_code == 200 and done.json()["required"] is False


async def test_r_sec_05_reactivation_with_a_reactivation_reverification(
    client_at: ClientAt, adapters: Adapters, settings: Settings
) -> None:
    openid = _openid(adapters)
    number = resident_passing(settings, NAME, birth=date(1979, 7, 8))
    async with client_at(SHANGHAI) as first_phone:
        first = await login(first_phone, adapters, openid)
        await _verify(first_phone, first.headers, number)
    async with client_at(GUANGZHOU) as new_phone:
        fresh = await login(new_phone, adapters, openid)
        assert (await new_phone.post("/api/v1/security/freeze", headers=fresh.headers)).status_code == 200
        step_up = await _verify(new_phone, fresh.headers, number, "step_up")
        refused = await new_phone.post(
            "/api/v1/security/reactivate", json={"verification_id": step_up}, headers=fresh.headers
        )
        assert refused.json()["code"] == "REVERIFICATION_REQUIRED"
        reactivation = await _verify(new_phone, fresh.headers, number, "reactivation")
        reactivated = await new_phone.post(
            "/api/v1/security/reactivate", json={"verification_id": reactivation}, headers=fresh.headers
        )
        assert reactivated.status_code == 200 and reactivated.json()["frozen"] is False
        devices = (await new_phone.get("/api/v1/devices", headers=fresh.headers)).json()
        assert [d["current"] for d in devices] == [True]  # the old device is unbound
