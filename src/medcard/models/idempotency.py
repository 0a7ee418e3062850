"""Idempotency keys (R-PAY-05, R-PAY-07): one row per client key and actor."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medcard.models.base import Base


class IdempotencyKey(Base):
    """A client's ``Idempotency-Key`` for one mutating request (幂等键), as Stripe keeps them:
    the request's fingerprint, a lock while it runs, a recovery point between atomic phases,
    and the final response replayed to every retry. Claimed with ``INSERT … ON CONFLICT DO
    NOTHING`` so two concurrent first requests cannot both run."""

    __tablename__ = "idempotency_key"
    __table_args__ = (
        UniqueConstraint("actor", "key"),
        # Purged by when it was first used (written once), not by when it finished: finishing a
        # key then changes no indexed column, and with its pages filled to 20% by inserts it
        # finds room for its answer (~1 kB) beside it — an in-place (HOT) update on PostgreSQL,
        # no new index entries (migration 0003; ADR 0012, tenth round).
        Index("ix_idempotency_key_created_at", "created_at"),
        {"postgresql_with": {"fillfactor": 20}},
    )

    actor: Mapped[str] = mapped_column(String(80))
    """Whose key it is (``account:<id>``, ``staff:<id>``): keys are scoped to the caller."""
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    """SM3 of method, path and the canonical body: the same key with another body is refused."""
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(255))
    locked_at: Mapped[datetime | None] = mapped_column(default=None)
    """Set while a request holds the key; a lock older than the timeout belongs to a crashed request."""
    recovery_point: Mapped[str] = mapped_column(String(32), default="started")
    """The last atomic phase committed (``started`` … ``finished``); a resumed request continues there."""
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
