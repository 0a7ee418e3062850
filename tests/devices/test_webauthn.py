"""WebAuthn step-up with a platform authenticator on a bound device (R-SEC-04), driven by a
software authenticator that signs like a phone's secure element."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.config import Settings
from medcard.models import Account, WebAuthnCredential
from tests.codes.conftest import Holder
from tests.devices.authenticator import SoftAuthenticator
from tests.devices.conftest import GUANGZHOU, SHANGHAI, URUMQI, ClientAt, fresh_verification, login

REGISTER = "/api/v1/devices/webauthn/registration"
STEP_UP = "/api/v1/devices/step-up/webauthn"


def _authenticator(settings: Settings) -> SoftAuthenticator:
    rp_id, origins = settings.relying_party
    return SoftAuthenticator(rp_id=rp_id, origin=origins[0])


async def _register(
    client: httpx.AsyncClient, headers: dict[str, str], authenticator: SoftAuthenticator
) -> httpx.Response:
    options = await client.post(f"{REGISTER}/options", headers=headers)
    assert options.status_code == 200, options.text
    body: dict[str, Any] = options.json()
    assert body["authenticatorSelection"]["authenticatorAttachment"] == "platform"
    assert body["authenticatorSelection"]["userVerification"] == "required"
    return await client.post(REGISTER, json={"credential": authenticator.create(body)}, headers=headers)


async def _step_up(
    client: httpx.AsyncClient, headers: dict[str, str], authenticator: SoftAuthenticator, **kwargs: Any
) -> httpx.Response:
    options = await client.post(f"{STEP_UP}/options", headers=headers)
    assert options.status_code == 200, options.text
    return await client.post(STEP_UP, json={"credential": authenticator.get(options.json(), **kwargs)}, headers=headers)


async def _moved(client_at: ClientAt, client: httpx.AsyncClient, adapters: Adapters, openid: str, ip: str) -> Any:
    async with client_at(ip) as far:
        return await login(far, adapters, openid, device_key=client.cookies["medcard_device"])


async def _openid(db: AsyncSession, holder: Holder) -> str:
    account = await db.get(Account, holder.account_id)
    assert account is not None
    return account.openid


async def test_r_sec_04_register_then_step_up_with_fingerprint_after_a_new_region(
    client: httpx.AsyncClient,
    client_at: ClientAt,
    holder: Holder,
    adapters: Adapters,
    db: AsyncSession,
    settings: Settings,
) -> None:
    """R-SEC-04: a trusted session registers this device's platform authenticator (credential id,
    public key, sign count, device); a later abnormal login on the same device steps up with it."""
    authenticator = _authenticator(settings)
    registered = await _register(client, holder.headers, authenticator)
    assert registered.status_code == 201, registered.text
    stored = await db.scalar(select(WebAuthnCredential).where(WebAuthnCredential.account_id == holder.account_id))
    assert stored is not None and stored.device_id is not None and stored.sign_count == 0 and stored.public_key
    moved = await _moved(client_at, client, adapters, await _openid(db, holder), URUMQI)
    assert "new_region" in moved.step_up_required
    async with client_at(URUMQI) as far:
        refused = await far.post("/api/v1/codes/payment", json={"card_id": str(holder.card_id)}, headers=moved.headers)
        assert refused.json()["code"] == "STEP_UP_REQUIRED"
        passed = await _step_up(far, moved.headers, authenticator)
        assert passed.status_code == 200, passed.text
        assert passed.json()["required"] is False and passed.json()["method"] == "webauthn"
        issued = await far.post("/api/v1/codes/payment", json={"card_id": str(holder.card_id)}, headers=moved.headers)
    assert issued.status_code == 200
    await db.refresh(stored)
    assert stored.sign_count == 1 and stored.last_used_at is not None


async def test_r_sec_04_sign_count_regression_is_refused(
    client: httpx.AsyncClient,
    client_at: ClientAt,
    holder: Holder,
    adapters: Adapters,
    db: AsyncSession,
    settings: Settings,
) -> None:
    """R-SEC-04: an assertion whose counter does not grow (a cloned authenticator) is refused
    and audited, and the session stays refused."""
    authenticator = _authenticator(settings)
    assert (await _register(client, holder.headers, authenticator)).status_code == 201
    openid = await _openid(db, holder)
    first = await _moved(client_at, client, adapters, openid, URUMQI)
    async with client_at(URUMQI) as far:
        assert (await _step_up(far, first.headers, authenticator, sign_count=7)).status_code == 200
    second = await _moved(client_at, client, adapters, openid, GUANGZHOU)
    async with client_at(GUANGZHOU) as south:
        cloned = await _step_up(south, second.headers, authenticator, sign_count=7)
        assert cloned.status_code == 403 and cloned.json()["code"] == "WEBAUTHN_SIGN_COUNT_REGRESSED"
        state = (await south.get("/api/v1/devices/step-up", headers=second.headers)).json()
        assert state["required"] is True
        assert (await _step_up(south, second.headers, authenticator, sign_count=8)).status_code == 200


async def test_r_sec_04_a_forged_signature_or_replayed_challenge_is_refused(
    client: httpx.AsyncClient,
    client_at: ClientAt,
    holder: Holder,
    adapters: Adapters,
    db: AsyncSession,
    settings: Settings,
) -> None:
    """R-SEC-04: another key's signature fails; a challenge answers one verify call only."""
    authenticator = _authenticator(settings)
    assert (await _register(client, holder.headers, authenticator)).status_code == 201
    moved = await _moved(client_at, client, adapters, await _openid(db, holder), URUMQI)
    impostor = _authenticator(settings)
    impostor.credential_id = authenticator.credential_id
    async with client_at(URUMQI) as far:
        forged = await _step_up(far, moved.headers, impostor)
        assert forged.status_code == 403 and forged.json()["code"] == "STEP_UP_FAILED"
        options = (await far.post(f"{STEP_UP}/options", headers=moved.headers)).json()
        answer = authenticator.get(options)
        assert (await far.post(STEP_UP, json={"credential": answer}, headers=moved.headers)).status_code == 200
        replay = await far.post(STEP_UP, json={"credential": answer}, headers=moved.headers)
    assert replay.status_code == 409 and replay.json()["code"] == "WEBAUTHN_CHALLENGE_MISSING"


async def test_r_sec_04_an_untrusted_session_cannot_enrol_an_authenticator(
    client_at: ClientAt, holder: Holder, adapters: Adapters, db: AsyncSession
) -> None:
    """R-SEC-04: a thief's new device cannot register its own fingerprint to pass the step-up."""
    async with client_at(SHANGHAI) as thief:
        stolen = await login(thief, adapters, await _openid(db, holder))
        refused = await thief.post(f"{REGISTER}/options", headers=stolen.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "STEP_UP_REQUIRED"


async def test_r_sec_04_an_authenticator_only_steps_up_its_own_device(
    client: httpx.AsyncClient,
    client_at: ClientAt,
    holder: Holder,
    adapters: Adapters,
    db: AsyncSession,
    settings: Settings,
) -> None:
    """R-SEC-04: a platform authenticator never leaves its device: another device's session gets
    no options for it and its assertion is refused there."""
    authenticator = _authenticator(settings)
    assert (await _register(client, holder.headers, authenticator)).status_code == 201
    options = (await client.post(f"{STEP_UP}/options", headers=holder.headers)).json()
    async with client_at(SHANGHAI) as other:
        second = await login(other, adapters, await _openid(db, holder))
        none = await other.post(f"{STEP_UP}/options", headers=second.headers)
        assert none.status_code == 409
        borrowed = await other.post(STEP_UP, json={"credential": authenticator.get(options)}, headers=second.headers)
    assert borrowed.status_code in (403, 409) and borrowed.json()["code"] in (
        "STEP_UP_FAILED",
        "WEBAUTHN_CHALLENGE_MISSING",
    )


async def test_r_sec_05_reactivation_revokes_the_old_devices_authenticators(
    client: httpx.AsyncClient,
    client_at: ClientAt,
    holder: Holder,
    adapters: Adapters,
    db: AsyncSession,
    settings: Settings,
) -> None:
    """R-SEC-05: reactivation on a new device revokes the lost phone's WebAuthn credential."""
    assert (await _register(client, holder.headers, _authenticator(settings))).status_code == 201
    async with client_at(SHANGHAI) as new_phone:
        fresh = await login(new_phone, adapters, await _openid(db, holder))
        assert (await new_phone.post("/api/v1/security/freeze", headers=fresh.headers)).status_code == 200
        verification_id = await fresh_verification(db, holder.account_id, holder.document_number, holder.name)
        done = await new_phone.post(
            "/api/v1/security/reactivate", json={"verification_id": verification_id}, headers=fresh.headers
        )
    assert done.status_code == 200, done.text
    stored = await db.scalar(select(WebAuthnCredential).where(WebAuthnCredential.account_id == holder.account_id))
    assert stored is not None
    await db.refresh(stored)
    assert stored.revoked_at is not None
    assert (await client.get("/api/v1/security", headers=holder.headers)).status_code == 401


async def test_r_sec_04_malformed_authenticator_answers_are_refused_not_crashes(
    client: httpx.AsyncClient, holder: Holder, settings: Settings
) -> None:
    """R-SEC-04: a malformed registration or assertion is a clear refusal (the challenge is spent)."""
    for broken in ({}, {"id": "a", "rawId": "a", "type": "public-key", "response": {"clientDataJSON": "!!"}}):
        assert (await client.post(f"{REGISTER}/options", headers=holder.headers)).status_code == 200
        refused = await client.post(REGISTER, json={"credential": broken}, headers=holder.headers)
        assert refused.status_code == 400 and refused.json()["code"] == "WEBAUTHN_REGISTRATION_FAILED"
    assert (await _register(client, holder.headers, _authenticator(settings))).status_code == 201
    assert (await client.post(f"{STEP_UP}/options", headers=holder.headers)).status_code == 200
    refused = await client.post(STEP_UP, json={"credential": {"id": 5}}, headers=holder.headers)
    assert refused.status_code == 403 and refused.json()["code"] == "STEP_UP_FAILED"
