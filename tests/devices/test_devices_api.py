"""Device binding at login, abnormal-login step-up and its fallback, unbinding, reactivation
(R-SEC-04, R-SEC-05, R-SEC-06) through the API."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.kit.clock import clock
from medcard.models import Account, AuditEvent, Device
from tests.codes.conftest import Holder
from tests.devices.conftest import GUANGZHOU, SHANGHAI, URUMQI, ClientAt, fresh_verification, login

CODES = "/api/v1/codes/payment"
STEP_UP = "/api/v1/devices/step-up"


async def _openid(db: AsyncSession, holder: Holder) -> str:
    account = await db.get(Account, holder.account_id)
    assert account is not None
    return account.openid


async def _issue(client: httpx.AsyncClient, holder: Holder, headers: dict[str, str]) -> httpx.Response:
    return await client.post(CODES, json={"card_id": str(holder.card_id)}, headers=headers)


async def test_r_sec_06_first_device_is_bound_and_trusted(client: httpx.AsyncClient, holder: Holder) -> None:
    """R-SEC-06: the account's first login binds its device with the login region and needs no step-up."""
    devices = (await client.get("/api/v1/devices", headers=holder.headers)).json()
    assert len(devices) == 1
    assert devices[0]["current"] is True and devices[0]["trusted"] is True and devices[0]["region"] == "shanghai"
    state = (await client.get(STEP_UP, headers=holder.headers)).json()
    assert state["required"] is False and state["reasons"] == []
    assert (await _issue(client, holder, holder.headers)).status_code == 200


async def test_r_sec_06_device_key_is_stored_only_as_a_hash(
    client: httpx.AsyncClient, holder: Holder, db: AsyncSession
) -> None:
    """R-SEC-06: the device key lives in an HttpOnly cookie; the database keeps only its HMAC."""
    key = client.cookies.get("medcard_device")
    assert key
    device = await db.scalar(select(Device).where(Device.account_id == holder.account_id))
    assert device is not None and key not in device.key_hash and len(device.key_hash) == 64


async def test_r_sec_06_a_second_device_must_step_up_before_sensitive_actions(
    client: httpx.AsyncClient, client_at: ClientAt, holder: Holder, adapters: Adapters, db: AsyncSession
) -> None:
    """R-SEC-06 / R-SEC-04: a new device is recognised; code issue, PIN, permissions and unbinding
    are refused with STEP_UP_REQUIRED, freezing is not."""
    openid = await _openid(db, holder)
    async with client_at(SHANGHAI) as phone:
        second = await login(phone, adapters, openid)
        assert second.step_up_required == ["new_device"]
        refusals = [
            await _issue(phone, holder, second.headers),
            await phone.put("/api/v1/security/pin", json={"pin": "135790"}, headers=second.headers),
            await phone.put("/api/v1/security/settings", json={"bill_visibility": "family"}, headers=second.headers),
        ]
        first_device = (await phone.get("/api/v1/devices", headers=second.headers)).json()
        old = next(d for d in first_device if not d["current"])
        refusals.append(await phone.post(f"/api/v1/devices/{old['id']}/unbind", headers=second.headers))
        for refused in refusals:
            assert refused.status_code == 403 and refused.json()["code"] == "STEP_UP_REQUIRED", refused.text
            assert "二次验证" in refused.json()["title_zh"]
        frozen = await phone.post("/api/v1/security/freeze", headers=second.headers)
        assert frozen.status_code == 200 and frozen.json()["frozen"] is True


async def test_r_sec_06_new_region_and_impossible_travel_on_a_known_device(
    client: httpx.AsyncClient, client_at: ClientAt, holder: Holder, adapters: Adapters, db: AsyncSession
) -> None:
    """R-SEC-06: the same device logging in from Urumqi minutes after Shanghai (3,270 km) is a
    new region and impossible travel."""
    openid = await _openid(db, holder)
    key = client.cookies["medcard_device"]
    async with client_at(URUMQI) as far:
        moved = await login(far, adapters, openid, device_key=key)
    assert moved.step_up_required == ["new_region", "impossible_travel"]
    async with client_at(URUMQI) as far:
        assert (await _issue(far, holder, moved.headers)).json()["code"] == "STEP_UP_REQUIRED"


async def test_r_sec_06_impossible_travel_between_known_regions(
    client: httpx.AsyncClient, client_at: ClientAt, holder: Holder, adapters: Adapters, db: AsyncSession
) -> None:
    """R-SEC-06: Guangzhou becomes a known region after a step-up; a login from Shanghai ten
    minutes later (1,200 km) is still impossible travel, though device and region are known."""
    openid = await _openid(db, holder)
    key = client.cookies["medcard_device"]
    start = clock.now() + timedelta(days=1)
    clock.freeze(start)
    async with client_at(GUANGZHOU) as south:
        trip = await login(south, adapters, openid, device_key=key)
        assert trip.step_up_required == ["new_region"]
        verification_id = await fresh_verification(db, holder.account_id, holder.document_number, holder.name)
        clock.freeze(start + timedelta(seconds=5))
        done = await south.post(
            f"{STEP_UP}/verification", json={"verification_id": verification_id}, headers=trip.headers
        )
    assert done.status_code == 200, done.text
    clock.freeze(start + timedelta(minutes=10))
    back = await login(client, adapters, openid)
    assert back.step_up_required == ["impossible_travel"]
    clock.freeze(start + timedelta(hours=3))
    later = await login(client, adapters, openid)
    assert later.step_up_required == []


async def test_r_sec_04_fresh_verification_is_the_fallback_step_up(
    client: httpx.AsyncClient, client_at: ClientAt, holder: Holder, adapters: Adapters, db: AsyncSession
) -> None:
    """R-SEC-04: a device without a platform authenticator steps up with a fresh identity
    verification done after the login; the device is then trusted for the next login."""
    openid = await _openid(db, holder)
    earlier = await fresh_verification(db, holder.account_id, holder.document_number, holder.name)
    clock.freeze(clock.now() + timedelta(minutes=2))  # the login comes after that verification
    async with client_at(SHANGHAI) as phone:
        second = await login(phone, adapters, openid)
        no_key = await phone.post(f"{STEP_UP}/webauthn/options", headers=second.headers)
        assert no_key.status_code == 409 and no_key.json()["code"] == "WEBAUTHN_NONE_ON_DEVICE"
        stale = await phone.post(f"{STEP_UP}/verification", json={"verification_id": earlier}, headers=second.headers)
        assert stale.status_code == 403 and stale.json()["code"] == "REVERIFICATION_REQUIRED"
        verification_id = await fresh_verification(db, holder.account_id, holder.document_number, holder.name)
        ok = await phone.post(
            f"{STEP_UP}/verification", json={"verification_id": verification_id}, headers=second.headers
        )
        assert ok.status_code == 200 and ok.json()["required"] is False and ok.json()["method"] == "verification"
        assert (await _issue(phone, holder, second.headers)).status_code == 200
        again = await login(phone, adapters, openid)
    assert again.step_up_required == []
    audit = await db.scalar(select(AuditEvent).where(AuditEvent.action == "device.step_up"))
    assert audit is not None and audit.details == {"method": "verification"}


async def test_r_sec_04_unbinding_a_device_ends_its_sessions(
    client: httpx.AsyncClient, client_at: ClientAt, holder: Holder, adapters: Adapters, db: AsyncSession
) -> None:
    """R-SEC-04: the trusted device unbinds another one; that device's session stops working
    and its next login is a new device again."""
    openid = await _openid(db, holder)
    async with client_at(SHANGHAI) as phone:
        second = await login(phone, adapters, openid)
        devices = (await client.get("/api/v1/devices", headers=holder.headers)).json()
        other = next(d for d in devices if not d["current"])
        assert other["trusted"] is False
        unbound = await client.post(f"/api/v1/devices/{other['id']}/unbind", headers=holder.headers)
        assert unbound.status_code == 204
        assert (await phone.get("/api/v1/security", headers=second.headers)).status_code == 401
        assert [d["id"] for d in (await client.get("/api/v1/devices", headers=holder.headers)).json()] != [other["id"]]
        assert len((await client.get("/api/v1/devices", headers=holder.headers)).json()) == 1
        back = await login(phone, adapters, openid)
    assert back.step_up_required == ["new_device"]


async def test_r_sec_04_another_accounts_device_cannot_be_unbound(
    client: httpx.AsyncClient, client_at: ClientAt, holder: Holder, adapters: Adapters
) -> None:
    """R-SEC-04: a device id of another account answers 404 like a missing one."""
    devices = (await client.get("/api/v1/devices", headers=holder.headers)).json()
    async with client_at(SHANGHAI) as stranger_phone:
        stranger = await login(stranger_phone, adapters, "o-stranger-device-test")
        theirs = await stranger_phone.post(f"/api/v1/devices/{devices[0]['id']}/unbind", headers=stranger.headers)
        missing = await stranger_phone.post(
            "/api/v1/devices/00000000-0000-0000-0000-000000000000/unbind", headers=stranger.headers
        )
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["code"] == missing.json()["code"] == "NOT_FOUND"


async def test_r_sec_05_reactivation_on_a_new_device_unbinds_the_old_one(
    client: httpx.AsyncClient, client_at: ClientAt, holder: Holder, adapters: Adapters, db: AsyncSession
) -> None:
    """R-SEC-05: after a freeze, reactivating on a new device (fresh verification) unbinds every
    other device, ends its sessions and revokes its authenticators; the new device is trusted."""
    openid = await _openid(db, holder)
    async with client_at(GUANGZHOU) as new_phone:
        fresh = await login(new_phone, adapters, openid)
        assert {"new_device", "new_region"} <= set(fresh.step_up_required)
        assert (await new_phone.post("/api/v1/security/freeze", headers=fresh.headers)).status_code == 200
        verification_id = await fresh_verification(db, holder.account_id, holder.document_number, holder.name)
        reactivated = await new_phone.post(
            "/api/v1/security/reactivate", json={"verification_id": verification_id}, headers=fresh.headers
        )
        assert reactivated.status_code == 200 and reactivated.json()["frozen"] is False
        devices = (await new_phone.get("/api/v1/devices", headers=fresh.headers)).json()
        assert [d["current"] for d in devices] == [True] and devices[0]["trusted"] is True
        assert (await new_phone.get(STEP_UP, headers=fresh.headers)).json()["required"] is False
        assert (await _issue(new_phone, holder, fresh.headers)).status_code == 200
    old = await login(client, adapters, openid)
    assert "new_device" in old.step_up_required
    audit = await db.scalar(select(AuditEvent).where(AuditEvent.action == "security.reactivate"))
    assert audit is not None and audit.details == {"devices_unbound": 1}
