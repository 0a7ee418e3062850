"""Regions and hospitals (tenants of a deployment, R-OPS-02)."""

from __future__ import annotations

import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medcard.models.base import Base


class Region(Base):
    """An administrative region (行政区划), keyed by its GB/T 2260 code."""

    __tablename__ = "region"

    code: Mapped[str] = mapped_column(String(6), unique=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    card_scope: Mapped[str] = mapped_column(String(16), default="hospital")
    """``hospital``: one card per person per hospital; ``region``: one per region (R-CARD-05)."""


class Hospital(Base):
    """A hospital served by this deployment, with its card settings (R-ID-06/08, R-CARD-08…10)."""

    __tablename__ = "hospital"

    code: Mapped[str] = mapped_column(String(16), unique=True)
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str] = mapped_column(String(128))
    region_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("region.id"))
    level: Mapped[str] = mapped_column(String(16))
    """``tertiary`` (三级), ``secondary`` (二级) or ``primary`` (一级)."""
    is_county: Mapped[bool] = mapped_column(default=False)
    physical_card_fee_fen: Mapped[int] = mapped_column(default=1000)
    deposit_required: Mapped[bool] = mapped_column(default=False)
    deposit_min_fen: Mapped[int] = mapped_column(default=1000)
    credit_enabled: Mapped[bool] = mapped_column(default=False)
    credit_limit_fen: Mapped[int] = mapped_column(default=200_000)
    requires_kiosk_activation: Mapped[bool] = mapped_column(default=False)
    foreigner_insurance: Mapped[bool] = mapped_column(default=False)

    region: Mapped[Region] = relationship(lazy="joined")
