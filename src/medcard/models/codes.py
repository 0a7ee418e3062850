"""Dynamic payment codes (付款码，R-SEC-02): issued by the backend, valid 60 s, single use."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from medcard.models.base import Base


class PaymentCode(Base):
    """One issued dynamic payment code. Only the keyed hash of its 18 digits is stored, so a
    database reader cannot replay a live code. Consumed at most once (the consume is one
    conditional UPDATE), even when the payment it started then fails."""

    __tablename__ = "payment_code"
    # The per-card issue rate (codes issued in the last minute) and the per-account velocity and
    # daily-limit sums (codes paid since a moment) read a range of one card's / account's newest
    # rows: composite indexes keep those reads constant as a card's history grows. Their leading
    # columns also serve the foreign keys.
    __table_args__ = (
        Index("ix_payment_code_card_issued", "card_id", "issued_at"),
        Index("ix_payment_code_account_consumed", "account_id", "consumed_at"),
    )

    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("card.id"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    issued_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="issued")
    """``issued`` → ``consumed`` | ``revoked`` (a freeze revokes every live code)."""
    consumed_at: Mapped[datetime | None]
    merchant_id: Mapped[str | None] = mapped_column(String(40))
    """The hospital (or pharmacy) whose POS consumed it."""
    amount_fen: Mapped[int | None]
