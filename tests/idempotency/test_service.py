"""The idempotency key store without an endpoint (R-PAY-05, R-PAY-07): claim, replay, reuse
with another body, in flight, crash recovery, release after a failure."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.db import driver_connection
from medcard.errors import MedCardError
from medcard.idempotency.errors import (
    IdempotencyInFlight,
    IdempotencyKeyInvalid,
    IdempotencyKeyReused,
    IdempotentReplay,
)
from medcard.idempotency.repository import IdempotencyRepository
from medcard.idempotency.service import begin, fingerprint, purge
from medcard.kit.clock import clock
from medcard.models import IdempotencyKey

BODY = b'{"amount": 1500, "bill": "B-1"}'


async def start(db: AsyncSession, *, key: str = "k-1", body: bytes = BODY, actor: str = "account:1"):  # type: ignore[no-untyped-def]
    return await begin(db, actor=actor, key=key, method="POST", path="/api/v1/payments", body=body, lock_seconds=60)


class Transient(MedCardError):
    status = 409
    code = "TEST_TRANSIENT"


async def test_r_pay_05_same_key_same_body_replays_the_stored_response_without_a_second_effect(
    db: AsyncSession,
) -> None:
    effects: list[int] = []

    async def charge() -> dict[str, int]:
        effects.append(1500)
        return {"payment": len(effects)}

    first = await start(db)
    assert await first.run(charge, status_code=201) == {"payment": 1}
    with pytest.raises(IdempotentReplay) as replay:
        await start(db, body=b'{"bill":"B-1",  "amount":1500}')  # same JSON, other spacing and order
    assert (replay.value.status_code, replay.value.body) == (201, {"payment": 1})
    assert effects == [1500]


async def test_r_pay_05_same_key_different_body_is_refused_422(db: AsyncSession) -> None:
    request = await start(db)

    async def noop() -> dict[str, bool]:
        return {"ok": True}

    await request.run(noop)
    with pytest.raises(IdempotencyKeyReused) as reused:
        await start(db, body=b'{"amount": 1600, "bill": "B-1"}')
    assert (reused.value.status, reused.value.code) == (422, "IDEMPOTENCY_KEY_REUSED")


async def test_r_pay_05_same_key_while_the_first_is_in_flight_is_refused_409(db: AsyncSession) -> None:
    await start(db)  # claimed, never finished: still running
    with pytest.raises(IdempotencyInFlight) as in_flight:
        await start(db)
    assert (in_flight.value.status, in_flight.value.code) == (409, "IDEMPOTENCY_IN_FLIGHT")


async def test_r_pay_05_keys_are_scoped_to_the_actor(db: AsyncSession) -> None:
    await start(db, actor="account:1")
    other = await start(db, actor="account:2")
    assert not other.resumed


async def test_r_pay_05_a_crashed_request_is_resumed_at_its_recovery_point_after_the_lock_timeout(
    db: AsyncSession,
) -> None:
    clock.freeze(clock.now())
    crashed = await start(db)
    await crashed.checkpoint("channel_order_created")
    clock.advance(timedelta(seconds=30))
    with pytest.raises(IdempotencyInFlight):
        await start(db)
    clock.advance(timedelta(seconds=31))
    resumed = await start(db)
    assert (resumed.resumed, resumed.recovery_point, resumed.key_id) == (True, "channel_order_created", crashed.key_id)
    with pytest.raises(IdempotencyInFlight):
        await start(db)  # the resumed request holds the lock now


async def test_r_pay_07_a_failed_attempt_releases_the_key_so_the_retry_runs_again(db: AsyncSession) -> None:
    attempts: list[str] = []

    async def transient() -> dict[str, str]:
        attempts.append("refused")
        raise Transient()

    async def succeeds() -> dict[str, str]:
        attempts.append("paid")
        return {"state": "paid"}

    with pytest.raises(Transient):
        await (await start(db)).run(transient)
    count = select(func.count()).select_from(IdempotencyKey).where(IdempotencyKey.key == "k-1")
    assert await db.scalar(count) == 0  # nothing committed under it: forgotten
    assert await (await start(db)).run(succeeds) == {"state": "paid"}
    with pytest.raises(IdempotentReplay):
        await start(db)
    assert attempts == ["refused", "paid"]


async def test_a_failure_after_a_committed_phase_unlocks_at_that_phase(db: AsyncSession) -> None:
    request = await start(db)
    await request.checkpoint("insurance_settled")

    async def fails() -> None:
        raise Transient()

    with pytest.raises(Transient):
        await request.run(fails)
    retry = await start(db)
    assert (retry.resumed, retry.recovery_point) == (True, "insurance_settled")


async def test_keys_must_be_visible_ascii_up_to_255(db: AsyncSession) -> None:
    for bad in ("", "x" * 256, "键"):
        with pytest.raises(IdempotencyKeyInvalid):
            await start(db, key=bad)


async def test_finished_keys_are_purged_after_retention(db: AsyncSession) -> None:
    clock.freeze(clock.now())

    async def noop() -> dict[str, bool]:
        return {"ok": True}

    await (await start(db, key="old")).run(noop)
    await db.flush()
    await start(db, key="running")
    clock.advance(timedelta(hours=25))
    assert await purge(db, retention=timedelta(hours=24)) == 1
    keys = set(await db.scalars(select(IdempotencyKey.key).where(IdempotencyKey.key.in_(["old", "running"]))))
    assert keys == {"running"}


def test_fingerprint_covers_method_path_and_body() -> None:
    base = fingerprint("POST", "/a", b'{"x": 1}')
    assert base == fingerprint("post", "/a", b'{ "x":1 }')
    assert base != fingerprint("POST", "/b", b'{"x": 1}')
    assert base != fingerprint("PUT", "/a", b'{"x": 1}')
    assert base != fingerprint("POST", "/a", b'{"x": 2}')
    assert fingerprint("POST", "/a", b"raw=1") != fingerprint("POST", "/a", b"raw=2")


async def test_finishing_a_key_rewrites_none_of_its_index_entries(db: AsyncSession) -> None:
    """Finishing a key (alone: the ORM's update; in a payment batch: ``finish_many``) changes no
    indexed column, so PostgreSQL updates the row in place (HOT: no new index entries) where its
    page has room — migration 0003 fills the pages to 20% for that (ADR 0012, tenth round).
    Counted by the transaction's own statistics; fails if ``finished_at`` (or anything else the
    finish writes) were indexed again."""
    driver = await driver_connection(db)
    if driver is None:
        pytest.skip("HOT updates are PostgreSQL's")

    async def answer() -> dict[str, bool]:
        return {"ok": True}

    await (await start(db, key="hot-alone")).run(answer)
    batch = await start(db, key="hot-batch")
    answers = {batch.key_id: {"body": {"ok": True}}}
    await IdempotencyRepository(db).finish_many(answers, status_code=200, now=clock.now())
    await db.flush()
    (updated, in_place), *_ = await driver.fetch(
        "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'idempotency_key'"
    )
    assert updated >= 2 and in_place == updated
