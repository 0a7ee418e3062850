"""Payment password: 6 digits, peppered hash, 5 tries then a 3-hour lock, reset needs a fresh
identity verification (R-SEC-03)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.kit.clock import clock
from medcard.models import SecurityProfile, VerificationSession
from tests.codes.conftest import Holder

PIN = "/api/v1/security/pin"
CHECK = "/api/v1/security/pin/check"
T0 = datetime(2026, 11, 23, 2, 0, 0, tzinfo=UTC)


async def _set(client: httpx.AsyncClient, holder: Holder, pin: str = "135790", **extra: str) -> httpx.Response:
    return await client.put(PIN, json={"pin": pin, **extra}, headers=holder.headers)


async def _check(client: httpx.AsyncClient, holder: Holder, pin: str) -> httpx.Response:
    return await client.post(CHECK, json={"pin": pin}, headers=holder.headers)


async def _passed_verification(db: AsyncSession, holder: Holder, *, minutes_ago: int = 0) -> uuid.UUID:
    verification = VerificationSession(
        account_id=holder.account_id,
        method="face",
        status="passed",
        document_type="resident_id",
        document_number=holder.document_number,
        name=holder.name,
        expires_at=clock.now() + timedelta(minutes=5),
        finished_at=clock.now() - timedelta(minutes=minutes_ago),
    )
    db.add(verification)
    await db.commit()
    return verification.id


async def test_r_sec_03_pin_must_be_six_digits_and_not_trivial(client: httpx.AsyncClient, holder: Holder) -> None:
    for bad in ("12345", "1234567", "12a456", "111111", "123456"):
        response = await _set(client, holder, bad)
        assert response.status_code == 400, bad
        assert response.json()["code"] == "PIN_FORMAT_INVALID" and response.json()["field"] == "pin"
    assert (await _set(client, holder, "135790")).json()["pin_set"] is True


async def test_r_sec_03_pin_is_stored_only_as_a_keyed_hash(
    client: httpx.AsyncClient, holder: Holder, db: AsyncSession
) -> None:
    await _set(client, holder, "135790")
    profile = await db.scalar(select(SecurityProfile).where(SecurityProfile.account_id == holder.account_id))
    assert profile is not None and profile.pin_hash is not None
    assert "135790" not in profile.pin_hash and len(profile.pin_hash) == 64


async def test_r_sec_03_five_wrong_pins_lock_for_three_hours(client: httpx.AsyncClient, holder: Holder) -> None:
    clock.freeze(T0)
    await _set(client, holder, "135790")
    for left in (4, 3, 2, 1):
        wrong = await _check(client, holder, "246802")
        assert wrong.status_code == 403 and wrong.json()["code"] == "PIN_WRONG"
        assert f"还可尝试 {left} 次" in wrong.json()["title_zh"]
    fifth = await _check(client, holder, "246802")
    assert fifth.status_code == 423 and fifth.json()["code"] == "PIN_LOCKED"
    right_but_locked = await _check(client, holder, "135790")
    assert right_but_locked.status_code == 423
    clock.advance(timedelta(hours=2, minutes=59))
    assert (await _check(client, holder, "135790")).status_code == 423
    clock.advance(timedelta(minutes=1))
    assert (await _check(client, holder, "135790")).status_code == 200


async def test_r_sec_03_a_right_pin_resets_the_counter(client: httpx.AsyncClient, holder: Holder) -> None:
    await _set(client, holder, "135790")
    for _ in range(4):
        await _check(client, holder, "246802")
    assert (await _check(client, holder, "135790")).status_code == 200
    again = await _check(client, holder, "246802")
    assert "还可尝试 4 次" in again.json()["title_zh"]


async def test_r_sec_03_reset_needs_a_fresh_identity_verification(
    client: httpx.AsyncClient, holder: Holder, db: AsyncSession
) -> None:
    clock.freeze(T0)
    await _set(client, holder, "135790")
    without = await _set(client, holder, "975310")
    assert without.status_code == 403 and without.json()["code"] == "REVERIFICATION_REQUIRED"
    clock.advance(timedelta(minutes=1))
    stale = await _passed_verification(db, holder)
    clock.advance(timedelta(minutes=10, seconds=1))
    assert (await _set(client, holder, "975310", verification_id=str(stale))).status_code == 403
    fresh = await _passed_verification(db, holder)
    clock.advance(timedelta(minutes=9))
    assert (await _set(client, holder, "975310", verification_id=str(fresh))).status_code == 200
    assert (await _check(client, holder, "975310")).status_code == 200
    reused = await _set(client, holder, "864200", verification_id=str(fresh))
    assert reused.status_code == 403 and reused.json()["code"] == "REVERIFICATION_REQUIRED"


async def test_r_sec_03_reset_after_verification_lifts_the_lock(
    client: httpx.AsyncClient, holder: Holder, db: AsyncSession
) -> None:
    clock.freeze(T0)
    await _set(client, holder, "135790")
    clock.advance(timedelta(seconds=1))
    for _ in range(5):
        await _check(client, holder, "246802")
    assert (await _check(client, holder, "135790")).status_code == 423
    fresh = await _passed_verification(db, holder)
    assert (await _set(client, holder, "975310", verification_id=str(fresh))).status_code == 200
    assert (await _check(client, holder, "975310")).status_code == 200


async def test_r_sec_03_someone_elses_verification_does_not_reset(
    client: httpx.AsyncClient,
    holder: Holder,
    db: AsyncSession,
    adapters,
    demo,  # type: ignore[no-untyped-def]
) -> None:
    from tests.codes.conftest import make_holder

    other = await make_holder(db, client, adapters, demo, name="孙其他")
    clock.freeze(T0)
    await _set(client, holder, "135790")
    clock.advance(timedelta(seconds=1))
    foreign = await _passed_verification(db, other)
    response = await _set(client, holder, "975310", verification_id=str(foreign))
    assert response.status_code == 403 and response.json()["code"] == "REVERIFICATION_REQUIRED"
