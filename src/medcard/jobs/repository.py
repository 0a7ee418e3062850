"""Every statement on the job table."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import Job


class JobRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def insert(self, values: dict[str, Any]) -> uuid.UUID | None:
        """One row; with a ``unique_key`` already present, nothing (``ON CONFLICT DO NOTHING``)."""
        dialect = self.session.bind.dialect.name if self.session.bind else "sqlite"
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(Job).values(**values)
        if values.get("unique_key") is not None:
            statement = statement.on_conflict_do_nothing(index_elements=["unique_key"])
        inserted: uuid.UUID | None = (await self.session.execute(statement.returning(Job.id))).scalar_one_or_none()
        return inserted

    async def claim(self, *, now: datetime, lease_until: datetime, limit: int) -> Sequence[Job]:
        """Lock up to ``limit`` due jobs no other worker holds (``FOR UPDATE SKIP LOCKED``; SQLite
        serialises writers instead and ignores the clause), mark them running under a lease."""
        due = or_(
            and_(Job.state == "pending", Job.run_at <= now),
            and_(Job.state == "running", Job.locked_until < now),
        )
        ids = list(
            await self.session.scalars(
                select(Job.id).where(due).order_by(Job.run_at).limit(limit).with_for_update(skip_locked=True)
            )
        )
        if not ids:
            return []
        await self.session.execute(
            update(Job)
            .where(Job.id.in_(ids))
            .values(state="running", locked_until=lease_until, attempts=Job.attempts + 1)
        )
        statement = select(Job).where(Job.id.in_(ids)).order_by(Job.run_at)
        return list(await self.session.scalars(statement.execution_options(populate_existing=True)))

    async def complete(self, job: Job, *, now: datetime) -> bool:
        """Mark done if this worker still holds the job (its attempt is the current one)."""
        result = await self.session.execute(
            update(Job)
            .where(Job.id == job.id, Job.state == "running", Job.attempts == job.attempts)
            .values(state="done", locked_until=None, finished_at=now, last_error=None)
        )
        return bool(getattr(result, "rowcount", 0))

    async def fail(self, job: Job, *, error: str, retry_at: datetime | None, now: datetime) -> None:
        """Back to pending at ``retry_at``, or ``failed`` for good when ``retry_at`` is None."""
        values: dict[str, Any] = {"locked_until": None, "last_error": error[:2000]}
        if retry_at is None:
            values.update(state="failed", finished_at=now)
        else:
            values.update(state="pending", run_at=retry_at)
        await self.session.execute(
            update(Job).where(Job.id == job.id, Job.state == "running", Job.attempts == job.attempts).values(**values)
        )

    async def cancel(self, unique_key: str, *, now: datetime) -> bool:
        result = await self.session.execute(
            update(Job)
            .where(Job.unique_key == unique_key, Job.state == "pending")
            .values(state="cancelled", finished_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def purge(self, *, finished_before: datetime) -> int:
        result = await self.session.execute(
            delete(Job).where(Job.state.in_(("done", "cancelled")), Job.finished_at < finished_before)
        )
        return int(getattr(result, "rowcount", 0))

    async def counts(self) -> list[tuple[str, str, int]]:
        """(kind, state, how many) over the whole queue."""
        statement = (
            select(Job.kind, Job.state, func.count()).group_by(Job.kind, Job.state).order_by(Job.kind, Job.state)
        )
        return [(kind, state, int(count)) for kind, state, count in (await self.session.execute(statement)).all()]

    async def failed(self, *, limit: int) -> Sequence[Job]:
        statement = select(Job).where(Job.state == "failed").order_by(Job.finished_at.desc()).limit(limit)
        return list(await self.session.scalars(statement))

    async def retry(self, job_id: uuid.UUID, *, now: datetime) -> bool:
        """A failed job back to pending now, with a fresh round of attempts."""
        result = await self.session.execute(
            update(Job)
            .where(Job.id == job_id, Job.state == "failed")
            .values(state="pending", run_at=now, attempts=0, finished_at=None)
        )
        return bool(getattr(result, "rowcount", 0))
