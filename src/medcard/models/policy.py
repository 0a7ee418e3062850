"""Versioned policy data (政策数据): regions, insurance schemes and the working-day calendar."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medcard.models.base import Base

POLICY_KINDS = ("region", "zone", "scheme", "calendar")


class PolicyVersion(Base):
    """One version of one policy document, never edited in place.

    ``kind`` + ``key`` name the document (``region``/``310000``, ``scheme``/``390``,
    ``calendar``/``2026``). The version in force on a day is the newest one whose
    ``effective_from`` is on or before that day, so a future-dated version takes over on
    its date. Every edit records who, when (``created_at``) and why.
    """

    __tablename__ = "policy_version"
    __table_args__ = (UniqueConstraint("kind", "key", "version"),)

    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(16))
    version: Mapped[int]
    effective_from: Mapped[date]
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    author: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(200))
