"""Scheduled family work: relations that ended by age are written down and their proofs erased."""

from __future__ import annotations

from datetime import timedelta

from medcard.family.service import expire_relations
from medcard.jobs.registry import JobContext, handles


@handles("family.expire", every=timedelta(hours=1))
async def expire(job: JobContext) -> None:
    await expire_relations(job.session)
