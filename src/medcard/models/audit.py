"""The audit log: one row per state change, written in the same transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from medcard.models.base import Base, utcnow


class AuditEvent(Base):
    """Who did what to which subject, when, and with what result. Never updated or deleted."""

    __tablename__ = "audit_event"
    __table_args__ = (
        # The sealer's backlog, in sealing order: small however long the sealed log grows.
        Index(
            "ix_audit_event_unsealed",
            "at",
            "id",
            postgresql_where=text("chain_seq IS NULL"),
            sqlite_where=text("chain_seq IS NULL"),
        ),
        # The chain's order; an unsealed row (NULL) takes no entry (ADR 0012, tenth round).
        Index(
            "uq_audit_event_chain_seq",
            "chain_seq",
            unique=True,
            postgresql_where=text("chain_seq IS NOT NULL"),
            sqlite_where=text("chain_seq IS NOT NULL"),
        ),
        # Vacuumed and analysed every 20,000 changed rows, whatever the log's size (migration 0004).
        {
            "postgresql_with": {
                "autovacuum_vacuum_scale_factor": 0,
                "autovacuum_vacuum_threshold": 20000,
                "autovacuum_analyze_scale_factor": 0,
                "autovacuum_analyze_threshold": 20000,
            }
        },
    )

    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_kind: Mapped[str] = mapped_column(String(16))
    """``patient``, ``staff``, ``system``."""
    actor_id: Mapped[str] = mapped_column(String(40))
    actor_label: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(48), index=True)
    subject_kind: Mapped[str] = mapped_column(String(24))
    subject_id: Mapped[str] = mapped_column(String(40), index=True)
    result: Mapped[str] = mapped_column(String(16), default="ok")
    hospital_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("hospital.id"))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    chain_seq: Mapped[int | None] = mapped_column(BigInteger)
    """Position in the SM3 hash chain, given by the sealer after commit (R-SEC-08); NULL while
    pending; gaps mean deleted rows."""
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    row_hash: Mapped[str | None] = mapped_column(String(64))
    """SM3(prev_hash + canonical row): editing or deleting a row breaks every later link."""
