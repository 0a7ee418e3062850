"""Enqueue and cancel jobs in the caller's transaction; deferred run times in working days."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.jobs.repository import JobRepository
from medcard.kit.clock import CHINA, clock
from medcard.kit.ids import new_id
from medcard.policy import rules as policy_rules
from medcard.policy import service as policy

RETRY_BASE_SECONDS = 5
RETRY_CAP_SECONDS = 3600


async def enqueue(
    session: AsyncSession,
    kind: str,
    payload: dict[str, Any] | None = None,
    *,
    run_at: datetime | None = None,
    unique_key: str | None = None,
    max_attempts: int = 10,
) -> uuid.UUID | None:
    """Add a job in the caller's transaction (it exists iff the caller commits). With
    ``unique_key``, a job with that key already enqueued (in any state) makes this a no-op
    and ``None`` is returned."""
    now = clock.now()
    values = {
        "id": new_id(),
        "created_at": now,
        "kind": kind,
        "payload": payload or {},
        "run_at": run_at or now,
        "state": "pending",
        "attempts": 0,
        "max_attempts": max_attempts,
        "unique_key": unique_key,
    }
    return await JobRepository(session).insert(values)


async def cancel(session: AsyncSession, *, unique_key: str) -> bool:
    """Cancel a pending job by its key (a paid order's expiry); False if it ran or never was."""
    return await JobRepository(session).cancel(unique_key, now=clock.now())


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the ``attempts``-th failure: 5 s, 10 s, 20 s … capped at 1 h."""
    return timedelta(seconds=min(RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0), RETRY_CAP_SECONDS))


def working_days_after(start: date, days: int, calendar: policy_rules.Calendar) -> date:
    """The ``days``-th Chinese working day after ``start`` (holidays and make-up working days
    from the policy calendar, R-INS-04)."""
    return policy_rules.add_working_days(start, days, calendar)


async def run_at_after_working_days(
    session: AsyncSession, *, after: datetime, days: int, at: time = time(9, 0)
) -> datetime:
    """When a deferred job should run: ``at`` (China time) on the ``days``-th working day after
    ``after``'s China date, using the policy calendar in force (R-INS-04: resident 3, new rural 5)."""
    start = after.astimezone(CHINA).date()
    calendar = await policy.calendar(session, on=start)
    day = working_days_after(start, days, calendar)
    return datetime.combine(day, at, tzinfo=CHINA)
