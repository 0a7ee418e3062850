"""Periodic housekeeping jobs: forget old idempotency keys and finished jobs."""

from __future__ import annotations

from datetime import timedelta

from medcard.idempotency.service import purge as purge_idempotency_keys
from medcard.jobs.registry import JobContext, handles
from medcard.jobs.repository import JobRepository
from medcard.kit.clock import clock

FINISHED_JOB_RETENTION = timedelta(days=7)


@handles("idempotency.purge", every=timedelta(hours=1))
async def purge_keys(job: JobContext) -> None:
    """Finished idempotency keys older than ``idempotency_retention_hours`` (R-PAY-05)."""
    await purge_idempotency_keys(job.session, retention=timedelta(hours=job.settings.idempotency_retention_hours))


@handles("jobs.purge", every=timedelta(days=1))
async def purge_jobs(job: JobContext) -> None:
    """Done and cancelled jobs a week after they finished (failed ones stay for a person to read)."""
    await JobRepository(job.session).purge(finished_before=clock.now() - FINISHED_JOB_RETENTION)
