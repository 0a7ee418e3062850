"""Queries over the audit log."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from medcard.db import driver_connection
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

    async def unsealed_rows(self, *, limit: int) -> Sequence[Any]:
        """The oldest committed rows not yet in the chain, in sealing order (``at``, then id), as
        plain rows of the columns a hash covers (no ORM objects: this is the sealer's per-row
        cost), read through the backlog's partial index ``ix_audit_event_unsealed``."""
        driver = await driver_connection(self.session)
        if driver is not None:
            await driver.execute(_BACKLOG_PLAN)
            # SQLAlchemy's asyncpg set-up decodes jsonb to Python objects on the connection.
            rows = await driver.fetch(_UNSEALED, limit)
            await driver.execute(_PLAN_RESET)  # not after a failure: the rollback undoes the SET LOCAL
            return [_Pending(**dict(row.items())) for row in rows]
        query = (
            select(*(_AUDIT.c[name] for name in _PENDING_COLUMNS))
            .where(_AUDIT.c.chain_seq.is_(None))
            .order_by(_AUDIT.c.at, _AUDIT.c.id)
            .limit(limit)
        )
        return [_Pending(**row._mapping) for row in await self.session.execute(query)]

    async def link(self, links: Sequence[tuple[Any, int, str, str]]) -> None:
        """Write the chain positions and hashes (id, seq, prev_hash, row_hash) in one statement;
        objects of these rows already in the session get the values too."""
        if not links:
            return
        driver = await driver_connection(self.session)
        if driver is not None:
            ids, seqs, prevs, hashes = (list(column) for column in zip(*links, strict=True))
            await driver.execute(_LINK, ids, seqs, prevs, hashes)
        else:
            await self.session.execute(
                update(_AUDIT)
                .where(_AUDIT.c.id == bindparam("b_id"))
                .values(chain_seq=bindparam("b_seq"), prev_hash=bindparam("b_prev"), row_hash=bindparam("b_hash")),
                [{"b_id": id_, "b_seq": seq, "b_prev": prev, "b_hash": row_hash} for id_, seq, prev, row_hash in links],
                execution_options={"synchronize_session": False},
            )
        identity = self.session.sync_session.identity_map
        if identity:
            for id_, seq, prev, row_hash in links:
                event = identity.get(identity_key(AuditEvent, id_))
                if event is not None:
                    set_committed_value(event, "chain_seq", seq)
                    set_committed_value(event, "prev_hash", prev)
                    set_committed_value(event, "row_hash", row_hash)

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


_AUDIT: Table = AuditEvent.metadata.tables["audit_event"]
ENTRY_COLUMNS = (
    "actor_kind",
    "actor_id",
    "actor_label",
    "action",
    "subject_kind",
    "subject_id",
    "result",
    "hospital_id",
    "details",
)
"""What an audit row says (``audit.service.Entry.values``), beside its id, time and chain columns."""
_PENDING_COLUMNS = ("id", "chain_seq", "at", *ENTRY_COLUMNS)


@dataclass(frozen=True)
class _Pending:
    """An unsealed row as the chain hashes it (:class:`medcard.audit.chain.ChainRow`)."""

    id: uuid.UUID
    chain_seq: int | None
    at: datetime
    actor_kind: str
    actor_id: str
    actor_label: str
    action: str
    subject_kind: str
    subject_id: str
    result: str
    hospital_id: uuid.UUID | None
    details: Any


_UNSEALED = (
    "SELECT id, chain_seq, at, actor_kind, actor_id, actor_label, action, subject_kind, subject_id, result,"
    " hospital_id, details FROM audit_event WHERE chain_seq IS NULL ORDER BY at, id LIMIT $1"
)
_BACKLOG_PLAN = "SET LOCAL enable_sort = off; SET LOCAL enable_incremental_sort = off"
"""For the sealer's read: only the backlog's partial index gives ``_UNSEALED`` its order
without a sort. With statistics taken while thousands of rows waited (ANALYZE runs when it
does), PostgreSQL 15 prefers the ``at`` index and an incremental sort, which walks every sealed
row of the log to find the few unsealed ones at its end — 20 ms for 30,000 rows, a full scan of
the log on a deployment's millions (ADR 0012, tenth round)."""
_PLAN_RESET = "RESET enable_sort; RESET enable_incremental_sort"
"""The rest of the transaction plans as usual (``seal`` may run inside someone else's)."""
_LINK = (
    "UPDATE audit_event SET chain_seq = t.seq, prev_hash = t.prev, row_hash = t.hash"
    " FROM unnest($1::uuid[], $2::bigint[], $3::text[], $4::text[]) AS t(id, seq, prev, hash)"
    " WHERE audit_event.id = t.id"
)
