"""Queries over the audit log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, Table, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import AuditEvent


@dataclass(frozen=True)
class SealState:
    """How much of the log the sealer has linked into the chain (R-SEC-08)."""

    sealed: int
    """The head's ``chain_seq``: rows linked so far (deleted ones included, which verify reports)."""
    pending: int
    oldest_pending_at: datetime | None


class AuditRepository:
    """Read access to :class:`AuditEvent` rows, newest first, and to the chain's head and backlog."""

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

    async def page(
        self, *, offset: int, limit: int, action: str | None = None, hospital_id: uuid.UUID | None = None
    ) -> Sequence[AuditEvent]:
        """One page of the log, newest first in a stable order (time, then id, both descending), so
        a row appears on exactly one page while no rows are added; ask for one more than shown to
        learn whether a next page exists."""
        query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).offset(offset).limit(limit)
        if action:
            query = query.where(AuditEvent.action == action)
        if hospital_id:
            query = query.where(AuditEvent.hospital_id == hospital_id)
        return (await self.session.scalars(query)).all()

    async def since(
        self, actions: Sequence[str], since: datetime, *, hospital_id: uuid.UUID | None, limit: int
    ) -> Sequence[AuditEvent]:
        """Rows of ``actions`` at or after ``since``, newest first, at most ``limit``; with a
        hospital, that hospital's rows and the patient-side rows that belong to no hospital."""
        query = (
            select(AuditEvent)
            .where(AuditEvent.action.in_(actions), AuditEvent.at >= since)
            .order_by(AuditEvent.at.desc(), AuditEvent.id)
            .limit(limit)
        )
        if hospital_id:
            query = query.where(or_(AuditEvent.hospital_id == hospital_id, AuditEvent.hospital_id.is_(None)))
        return (await self.session.scalars(query)).all()

    async def head(self) -> tuple[int, str] | None:
        """The last sealed row's ``chain_seq`` and ``row_hash``, or ``None`` for an empty chain."""
        row = (
            await self.session.execute(
                select(AuditEvent.chain_seq, AuditEvent.row_hash)
                .where(AuditEvent.chain_seq.is_not(None))
                .order_by(AuditEvent.chain_seq.desc())
                .limit(1)
            )
        ).first()
        if row is None or row[0] is None or row[1] is None:
            return None
        return int(row[0]), str(row[1])

    async def unsealed_rows(self, *, limit: int) -> Sequence[Row[Any]]:
        """The oldest committed rows not yet in the chain, in sealing order (``at``, then id), as
        Core rows: what the sealer hashes, with no ORM instance per row."""
        table: Table = AuditEvent.metadata.tables["audit_event"]
        query = select(table).where(table.c.chain_seq.is_(None)).order_by(table.c.at, table.c.id).limit(limit)
        return (await self.session.execute(query)).all()

    async def seal_state(self) -> SealState:
        """Sealed rows (the head's position) and the backlog; both use indexes, never a full scan."""
        pending, oldest = (
            await self.session.execute(
                select(func.count(), func.min(AuditEvent.at)).where(AuditEvent.chain_seq.is_(None))
            )
        ).one()
        head = await self.head()
        return SealState(sealed=head[0] if head else 0, pending=int(pending), oldest_pending_at=oldest)

    async def pending_before(self, moment: datetime) -> int:
        """Unsealed rows written before ``moment`` (stale when ``moment`` is now minus the grace)."""
        query = select(func.count()).where(AuditEvent.chain_seq.is_(None), AuditEvent.at < moment)
        return int(await self.session.scalar(query) or 0)

    async def unsealed_with_hash(self) -> int:
        """Rows with a hash but no chain position: the sealer never leaves one (tampering does)."""
        query = select(func.count()).where(
            AuditEvent.chain_seq.is_(None), (AuditEvent.row_hash.is_not(None)) | (AuditEvent.prev_hash.is_not(None))
        )
        return int(await self.session.scalar(query) or 0)
