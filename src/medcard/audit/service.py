"""Writing audit rows. Callers pass the actor and the subject object, in their transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import AuditEvent, Base


@dataclass(frozen=True)
class Actor:
    """Who acts: a patient account, a staff user or the system itself."""

    kind: str
    id: str
    label: str = ""
    hospital_id: uuid.UUID | None = None

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(kind="system", id="system", label=label)


async def record(
    session: AsyncSession,
    *,
    actor: Actor,
    action: str,
    subject: Base,
    result: str = "ok",
    hospital_id: uuid.UUID | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit row, unsealed: the sealer links it into the hash chain after it commits
    (:mod:`medcard.audit.chain`). ``details`` must never hold raw personal data (mask it first)."""
    if subject.id is None:
        await session.flush()
    event = AuditEvent(
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label,
        action=action,
        subject_kind=subject.__tablename__,
        subject_id=str(subject.id),
        result=result,
        hospital_id=hospital_id or actor.hospital_id,
        details=details or {},
    )
    session.add(event)
    await session.flush()
    return event


AUDIT_TABLE: Table = AuditEvent.metadata.tables["audit_event"]


@dataclass(frozen=True)
class Entry:
    """One audit row of a batch (see :func:`record_many`)."""

    actor: Actor
    action: str
    subject_kind: str
    subject_id: uuid.UUID
    result: str = "ok"
    details: dict[str, Any] | None = None


async def record_many(session: AsyncSession, entries: list[Entry]) -> None:
    """Append many audit rows with one INSERT (unsealed, like :func:`record`): the batched
    payment-code paths write one row per code without one round trip per row."""
    if entries:
        await session.execute(
            insert(AUDIT_TABLE),
            [
                {
                    "actor_kind": entry.actor.kind,
                    "actor_id": entry.actor.id,
                    "actor_label": entry.actor.label,
                    "action": entry.action,
                    "subject_kind": entry.subject_kind,
                    "subject_id": str(entry.subject_id),
                    "result": entry.result,
                    "hospital_id": entry.actor.hospital_id,
                    "details": entry.details or {},
                }
                for entry in entries
            ],
        )
