"""The job worker: claim due jobs, run each in its own unit of work, retry with backoff.

Claiming is one short transaction: ``SELECT … FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite
serialises writers and needs no clause) then ``state = 'running'`` with a lease and the attempt
counted. Each job then runs in a unit of work of its own, and its completion is written in that
same transaction, conditional on the worker still holding the lease: the handler's database
effects and "done" commit together or not at all, so two workers never both apply a job (a
worker that lost its lease to another rolls its work back). A failure rolls back and puts the
job back to ``pending`` after an exponential backoff, or ``failed`` after ``max_attempts``.
Jobs are rows, so they survive restarts; a job whose worker died runs again after its lease.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from medcard.adapters import Adapters
from medcard.config import Settings
from medcard.db import unit_of_work
from medcard.jobs.registry import JobContext, Registration, load_handlers
from medcard.jobs.repository import JobRepository
from medcard.jobs.service import enqueue, retry_delay
from medcard.kit.clock import clock
from medcard.models import Job

log = structlog.get_logger(__name__)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PERIODIC_CHECK = timedelta(seconds=60)
"""How often periodic handlers are checked for this period's run, at most (a shorter period
is checked as often as it runs)."""


class LeaseLost(Exception):
    """Another worker took the job over (this one outlived its lease): our work is rolled back."""


class Worker:
    """Runs due jobs. Several workers (processes or tasks) may run side by side."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        settings: Settings,
        adapters: Adapters,
        batch: int = 10,
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.adapters = adapters
        self.batch = batch
        self.handlers: dict[str, Registration] = load_handlers()
        self._periodic_checked: datetime | None = None

    async def run_once(self) -> int:
        """Claim one batch of due jobs and run them; returns how many were claimed."""
        now = clock.now()
        async with unit_of_work(self.sessions) as session:
            lease_until = now + timedelta(seconds=self.settings.job_lease_seconds)
            jobs: Sequence[Job] = await JobRepository(session).claim(now=now, lease_until=lease_until, limit=self.batch)
        for job in jobs:
            await self._run(job)
        return len(jobs)

    async def drain(self, *, limit: int = 10_000) -> int:
        """Run every job due now (tests, ``medcard worker --once``); returns how many ran."""
        total = 0
        while total < limit:
            ran = await self.run_once()
            if not ran:
                break
            total += ran
        return total

    async def schedule_periodic(self, *, force: bool = False) -> None:
        """Enqueue this period's run of each periodic handler (a no-op once it exists)."""
        now = clock.now()
        periodic = {kind: registration.every for kind, registration in self.handlers.items() if registration.every}
        if not periodic:
            return
        check = min(PERIODIC_CHECK, *periodic.values())  # a handler due every 10 s is looked at as often
        if not force and self._periodic_checked and now - self._periodic_checked < check:
            return
        self._periodic_checked = now
        async with unit_of_work(self.sessions) as session:
            for kind, every in periodic.items():
                start = EPOCH + ((now - EPOCH) // every) * every
                await enqueue(session, kind, run_at=start, unique_key=f"{kind}@{start.isoformat()}", max_attempts=3)

    async def run(self, *, interval: float) -> None:
        """Work until cancelled, sleeping ``interval`` seconds whenever nothing is due."""
        while True:
            ran = 0
            try:
                await self.schedule_periodic()
                ran = await self.run_once()
            except Exception as error:  # noqa: BLE001 - the worker outlives a failed round (database restart)
                log.warning("job_worker_round_failed", error=type(error).__name__)
            if not ran:
                await asyncio.sleep(interval)

    async def _run(self, job: Job) -> None:
        registration = self.handlers.get(job.kind)
        try:
            async with unit_of_work(self.sessions) as session:
                if registration is None:
                    raise LookupError(f"no handler registered for job kind {job.kind!r}")
                context = JobContext(
                    session=session,
                    payload=dict(job.payload),
                    adapters=self.adapters,
                    settings=self.settings,
                    attempt=job.attempts,
                    job_id=job.id,
                )
                await registration.handler(context)
                if not await JobRepository(session).complete(job, now=clock.now()):
                    raise LeaseLost()
        except LeaseLost:
            log.warning("job_lease_lost", kind=job.kind, job=str(job.id))
        except Exception as error:  # noqa: BLE001 - any handler failure is recorded on the job and retried
            # The type only: a traceback's locals would carry settings and personal data (R-SEC-08).
            log.warning("job_failed", kind=job.kind, job=str(job.id), attempt=job.attempts, error=type(error).__name__)
            now = clock.now()
            retry_at = None if job.attempts >= job.max_attempts else now + retry_delay(job.attempts)
            async with unit_of_work(self.sessions) as session:
                await JobRepository(session).fail(
                    job, error=f"{type(error).__name__}: {error}", retry_at=retry_at, now=now
                )


@contextlib.asynccontextmanager
async def running(
    sessions: async_sessionmaker[AsyncSession], *, settings: Settings, adapters: Adapters, interval: float
) -> AsyncIterator[Worker | None]:
    """Run a worker in the background while the block runs (the app's lifespan); ``interval``
    0 disables it. Jobs left unfinished at shutdown run at the next start (they are rows)."""
    if interval <= 0:
        yield None
        return
    worker = Worker(sessions, settings=settings, adapters=adapters)
    task = asyncio.create_task(worker.run(interval=interval), name="medcard-job-worker")
    try:
        yield worker
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
