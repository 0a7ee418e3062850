"""Queries over the audit log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import AuditEvent


class AuditRepository:
    """Read access to :class:`AuditEvent` rows, newest first."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def latest(
        self,
        *,
        limit: int = 100,
        action: str | None = None,
        subject_id: str | None = None,
        hospital_id: uuid.UUID | None = None,
    ) -> Sequence[AuditEvent]:
        query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id).limit(limit)
        if action:
            query = query.where(AuditEvent.action == action)
        if subject_id:
            query = query.where(AuditEvent.subject_id == subject_id)
        if hospital_id:
            query = query.where(AuditEvent.hospital_id == hospital_id)
        return (await self.session.scalars(query)).all()
