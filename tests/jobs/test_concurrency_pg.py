"""PostgreSQL: two workers (separate connections) draining the same queue never run a job
twice and leave none behind (``FOR UPDATE SKIP LOCKED``)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from medcard.adapters import sandbox_adapters
from medcard.config import Settings
from medcard.db import make_sessionmaker, unit_of_work
from medcard.jobs.registry import JobContext, handles
from medcard.jobs.service import enqueue
from medcard.jobs.worker import Worker
from medcard.models import Job

pytestmark = pytest.mark.postgres
RUNS: Counter[int] = Counter()


@handles("test.concurrent")
async def count_run(job: JobContext) -> None:
    RUNS[job.payload["index"]] += 1
    await asyncio.sleep(0)  # let the other worker interleave


async def test_r_pay_04_two_concurrent_workers_never_run_the_same_job_twice(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    RUNS.clear()
    sessions = make_sessionmaker(isolated_engine)
    async with unit_of_work(sessions) as session:
        for index in range(300):
            await enqueue(session, "test.concurrent", {"index": index})
    adapters = sandbox_adapters(settings)
    workers = [Worker(sessions, settings=settings, adapters=adapters, batch=5) for _ in range(2)]
    ran = await asyncio.gather(*(worker.drain() for worker in workers))
    assert sum(ran) == 300
    assert all(count > 0 for count in ran)  # both took part
    assert len(RUNS) == 300
    assert set(RUNS.values()) == {1}
    async with sessions() as session:
        states = dict((await session.execute(select(Job.state, func.count()).group_by(Job.state))).all())
    assert states == {"done": 300}
