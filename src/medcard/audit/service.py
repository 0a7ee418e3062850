"""Writing audit rows. Callers pass the actor and the subject object, in their transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.audit.repository import ENTRY_COLUMNS
from medcard.db import driver_connection, json_text
from medcard.kit.clock import clock
from medcard.kit.ids import new_id
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


AUDIT_TABLE: Table = AuditEvent.metadata.tables["audit_event"]


@dataclass(frozen=True)
class Entry:
    """One audit row to write (:func:`record` for one subject, :func:`record_many` for a batch)."""

    actor: Actor
    action: str
    subject_kind: str
    subject_id: uuid.UUID
    result: str = "ok"
    details: dict[str, Any] | None = None
    hospital_id: uuid.UUID | None = None
    """The hospital the row belongs to, when not the actor's (a patient's payment at one)."""

    def values(self, *, hospital_id: uuid.UUID | None = None) -> dict[str, Any]:
        """The row's columns (the hospital defaults to the actor's)."""
        return {
            "actor_kind": self.actor.kind,
            "actor_id": self.actor.id,
            "actor_label": self.actor.label,
            "action": self.action,
            "subject_kind": self.subject_kind,
            "subject_id": str(self.subject_id),
            "result": self.result,
            "hospital_id": hospital_id or self.hospital_id or self.actor.hospital_id,
            "details": self.details or {},
        }


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
    entry = Entry(actor, action, subject.__tablename__, subject.id, result, details)
    event = AuditEvent(**entry.values(hospital_id=hospital_id))
    session.add(event)
    await session.flush()
    return event


async def record_many(session: AsyncSession, entries: list[Entry]) -> None:
    """Append many audit rows with one INSERT (unsealed, like :func:`record`): the batched
    payment-code paths write one row per code without one round trip per row."""
    if not entries:
        return
    driver = await driver_connection(session)
    if driver is None:
        await session.execute(insert(AUDIT_TABLE), [entry.values() for entry in entries])
        return
    # PostgreSQL: one prepared statement for any batch size, no SQLAlchemy work per row.
    now = clock.now()
    rows = [entry.values() for entry in entries]
    await driver.write(
        _INSERT_MANY,
        [new_id() for _ in rows],
        now,
        *([row[name] for row in rows] for name in ENTRY_COLUMNS[:-1]),
        [json_text(row["details"]) for row in rows],
    )


_INSERT_MANY = (
    "INSERT INTO audit_event (id, created_at, at, actor_kind, actor_id, actor_label, action, subject_kind,"
    " subject_id, result, hospital_id, details) SELECT id, $2, $2, actor_kind, actor_id, actor_label, action,"
    " subject_kind, subject_id, result, hospital_id, details FROM unnest($1::uuid[], $3::text[], $4::text[],"
    " $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::uuid[], $11::jsonb[])"
    " AS t(id, actor_kind, actor_id, actor_label, action, subject_kind, subject_id, result, hospital_id, details)"
)
