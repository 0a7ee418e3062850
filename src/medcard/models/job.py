"""Durable scheduled work: one row per job, claimed by workers with ``FOR UPDATE SKIP LOCKED``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from medcard.models.base import Base

JOB_STATES = ("pending", "running", "done", "failed", "cancelled")


class Job(Base):
    """A unit of work to run at ``run_at`` or later (a payment's 15-minute expiry, a deferred
    reimbursement, a notification). Inserted in the transaction of the change that needs it, so
    it exists exactly when that change committed; survives restarts; retried with backoff."""

    __tablename__ = "job"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'running', 'done', 'failed', 'cancelled')", name="state"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index("ix_job_state_run_at", "state", "run_at"),
    )

    kind: Mapped[str] = mapped_column(String(64))
    """Which handler runs it (``payment.expire``, ``reimbursement.pay``, …)."""
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    run_at: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=10)
    locked_until: Mapped[datetime | None] = mapped_column(default=None)
    """While ``running``: the worker's lease; a running job past it belongs to a dead worker."""
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    unique_key: Mapped[str | None] = mapped_column(String(160), default=None, unique=True)
    """Enqueueing the same key again does nothing (one expiry per order, one run per period)."""
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
