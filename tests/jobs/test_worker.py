"""Durable scheduled work: enqueued with the caller's transaction, run when due, retried with
backoff, taken over after a dead worker's lease, deduplicated, cancelled (R-PAY-04, R-INS-04)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from medcard.db import unit_of_work
from medcard.jobs.registry import JobContext, handles
from medcard.jobs.repository import JobRepository
from medcard.jobs.service import cancel, enqueue, retry_delay
from medcard.jobs.worker import Worker
from medcard.kit.clock import clock
from medcard.models import Job

RAN: list[tuple[str, int]] = []


@handles("test.record")
async def record(job: JobContext) -> None:
    RAN.append((job.payload["name"], job.attempt))


@handles("test.flaky")
async def flaky(job: JobContext) -> None:
    RAN.append((job.payload["name"], job.attempt))
    await enqueue(job.session, "test.record", {"name": "side effect of a failed attempt"})
    if job.attempt < job.payload["succeed_on"]:
        raise RuntimeError("channel unavailable")


@pytest.fixture(autouse=True)
def _fresh() -> None:
    RAN.clear()
    clock.freeze(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))


async def jobs(sessions: async_sessionmaker[AsyncSession], kind: str) -> list[Job]:
    async with sessions() as session:
        found = await session.scalars(select(Job).where(Job.kind == kind).order_by(Job.created_at))
        return list(found)


async def test_r_pay_04_an_expiry_enqueued_with_the_order_runs_after_15_minutes(
    sessions: async_sessionmaker[AsyncSession], worker: Worker
) -> None:
    async with unit_of_work(sessions) as session:
        await enqueue(session, "test.record", {"name": "expire"}, run_at=clock.now() + timedelta(minutes=15))
    assert await worker.drain() == 0
    clock.advance(timedelta(minutes=14, seconds=59))
    assert await worker.drain() == 0
    clock.advance(timedelta(seconds=1))
    assert await worker.drain() == 1
    assert RAN == [("expire", 1)]
    assert await worker.drain() == 0
    (job,) = await jobs(sessions, "test.record")
    assert (job.state, job.attempts, job.finished_at) == ("done", 1, clock.now())


async def test_r_pay_04_a_job_exists_only_if_its_transaction_commits(
    sessions: async_sessionmaker[AsyncSession], worker: Worker
) -> None:
    async def failed_payment() -> None:
        async with unit_of_work(sessions) as session:
            await enqueue(session, "test.record", {"name": "rolled back"})
            raise RuntimeError("the payment failed")

    with pytest.raises(RuntimeError):
        await failed_payment()
    assert await worker.drain() == 0
    assert RAN == []


async def test_failures_retry_with_backoff_and_roll_back_their_effects(
    sessions: async_sessionmaker[AsyncSession], worker: Worker
) -> None:
    async with unit_of_work(sessions) as session:
        await enqueue(session, "test.flaky", {"name": "flaky", "succeed_on": 3})
    assert await worker.drain() == 1
    (job,) = await jobs(sessions, "test.flaky")
    assert (job.state, job.attempts, job.run_at) == ("pending", 1, clock.now() + retry_delay(1))
    assert job.last_error == "RuntimeError: channel unavailable"
    clock.advance(retry_delay(1))
    await worker.drain()
    clock.advance(retry_delay(2))
    await worker.drain()
    (job,) = await jobs(sessions, "test.flaky")
    assert (job.state, job.attempts, job.last_error) == ("done", 3, None)
    assert [attempt for name, attempt in RAN if name == "flaky"] == [1, 2, 3]
    # Only the successful attempt's enqueue committed.
    assert len(await jobs(sessions, "test.record")) == 1
    assert (retry_delay(1), retry_delay(2), retry_delay(30)) == (
        timedelta(seconds=5),
        timedelta(seconds=10),
        timedelta(hours=1),
    )


async def test_a_job_failing_every_attempt_ends_failed(
    sessions: async_sessionmaker[AsyncSession], worker: Worker
) -> None:
    async with unit_of_work(sessions) as session:
        await enqueue(session, "test.flaky", {"name": "hopeless", "succeed_on": 99}, max_attempts=2)
    await worker.drain()
    clock.advance(timedelta(hours=1))
    await worker.drain()
    clock.advance(timedelta(hours=1))
    assert await worker.drain() == 0
    (job,) = await jobs(sessions, "test.flaky")
    assert (job.state, job.attempts) == ("failed", 2)


async def test_an_unknown_kind_waits_for_its_handler(
    sessions: async_sessionmaker[AsyncSession], worker: Worker
) -> None:
    async with unit_of_work(sessions) as session:
        await enqueue(session, "test.not-deployed-yet")
    await worker.drain()
    (job,) = await jobs(sessions, "test.not-deployed-yet")
    assert job.state == "pending"
    assert "no handler" in (job.last_error or "")


async def test_a_dead_workers_job_runs_again_after_its_lease(
    sessions: async_sessionmaker[AsyncSession], worker: Worker
) -> None:
    """Survives restarts: a worker claimed the job and died; after the lease another runs it."""
    async with unit_of_work(sessions) as session:
        await enqueue(session, "test.record", {"name": "orphan"})
    async with unit_of_work(sessions) as session:
        lease = clock.now() + timedelta(seconds=300)
        claimed = await JobRepository(session).claim(now=clock.now(), lease_until=lease, limit=10)
    assert len(claimed) == 1  # ... and the process is killed here
    assert await worker.drain() == 0
    clock.advance(timedelta(seconds=301))
    assert await worker.drain() == 1
    assert RAN == [("orphan", 2)]


async def test_a_worker_that_lost_its_lease_rolls_its_work_back(
    sessions: async_sessionmaker[AsyncSession], worker: Worker
) -> None:
    async with unit_of_work(sessions) as session:
        await enqueue(session, "test.record", {"name": "slow"})
    async with unit_of_work(sessions) as session:
        (stale,) = await JobRepository(session).claim(now=clock.now(), lease_until=clock.now(), limit=1)
    clock.advance(timedelta(seconds=1))
    assert await worker.drain() == 1  # another worker takes it over and finishes it
    async with unit_of_work(sessions) as session:
        assert not await JobRepository(session).complete(stale, now=clock.now())
    (job,) = await jobs(sessions, "test.record")
    assert (job.state, job.attempts) == ("done", 2)


async def test_a_unique_key_enqueues_once_and_cancels(
    sessions: async_sessionmaker[AsyncSession], worker: Worker
) -> None:
    async with unit_of_work(sessions) as session:
        first = await enqueue(session, "test.record", {"name": "a"}, unique_key="order-1:expire")
        second = await enqueue(session, "test.record", {"name": "b"}, unique_key="order-1:expire")
        await enqueue(session, "test.record", {"name": "c"}, unique_key="order-2:expire")
    assert first is not None
    assert second is None
    async with unit_of_work(sessions) as session:
        assert await cancel(session, unique_key="order-2:expire")
        assert not await cancel(session, unique_key="order-9:expire")
    assert await worker.drain() == 1
    assert RAN == [("a", 1)]
    async with unit_of_work(sessions) as session:
        assert not await cancel(session, unique_key="order-1:expire")  # already ran


async def test_periodic_housekeeping_is_enqueued_once_per_period(
    sessions: async_sessionmaker[AsyncSession], worker: Worker
) -> None:
    await worker.schedule_periodic(force=True)
    await worker.schedule_periodic(force=True)
    assert len(await jobs(sessions, "idempotency.purge")) == 1
    assert await worker.drain() >= 2
    assert {job.state for job in await jobs(sessions, "jobs.purge")} == {"done"}
    clock.advance(timedelta(hours=1))
    await worker.schedule_periodic(force=True)
    assert len(await jobs(sessions, "idempotency.purge")) == 2


async def test_r_pay_04_the_expiry_sweep_is_scheduled_every_ten_seconds_by_the_running_worker(
    sessions: async_sessionmaker[AsyncSession], worker: Worker
) -> None:
    """The run loop's periodic check (not forced) looks as often as the shortest period: the
    10-second expiry sweep gets a run each period, the hourly purge one per hour."""
    await worker.schedule_periodic()
    assert len(await jobs(sessions, "settlement.expire")) == 1
    clock.advance(timedelta(seconds=5))
    await worker.schedule_periodic()  # checked 5 s ago: nothing new
    assert len(await jobs(sessions, "settlement.expire")) == 1
    clock.advance(timedelta(seconds=6))
    await worker.schedule_periodic()
    assert len(await jobs(sessions, "settlement.expire")) == 2
    assert len(await jobs(sessions, "idempotency.purge")) == 1
