"""The audit log: one row per state change, written in the same transaction."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from medcard.models.base import Base, utcnow


class AuditEvent(Base):
    """Who did what to which subject, when, and with what result. Never updated or deleted."""

    __tablename__ = "audit_event"

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
