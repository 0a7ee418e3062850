"""Daily reconciliation (对账, R-PAY-08): one report per run, one row per difference found."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from medcard.models.base import Base

DIFFERENCE_KINDS = ("missing_ours", "missing_theirs", "amount_mismatch", "lost_answer", "other_day")


class ReconciliationReport(Base):
    """The ledger of one China day compared with the channel's statement (交易账单) and the
    insurance platform's 3202 detail statement. Runs again make new reports (history kept)."""

    __tablename__ = "reconciliation_report"

    day: Mapped[date] = mapped_column(index=True)
    state: Mapped[str] = mapped_column(String(16))
    """``balanced`` (no difference) or ``differences``."""
    ledger_entries: Mapped[int] = mapped_column(default=0)
    channel_lines: Mapped[int] = mapped_column(default=0)
    insurance_lines: Mapped[int] = mapped_column(default=0)
    difference_count: Mapped[int] = mapped_column(default=0)
    started_by: Mapped[str] = mapped_column(String(64), default="job")


class ReconciliationDifference(Base):
    """One difference and its cause: what our ledger says (``ours_fen``) and what the outside
    system's statement says (``theirs_fen``) for one reference (an out_trade_no or payOrdId)."""

    __tablename__ = "reconciliation_difference"
    __table_args__ = (
        CheckConstraint(f"kind IN ({', '.join(repr(kind) for kind in DIFFERENCE_KINDS)})", name="kind"),
        CheckConstraint("system IN ('channel', 'insurance')", name="system"),
    )

    report_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("reconciliation_report.id"), index=True)
    system: Mapped[str] = mapped_column(String(16))
    movement: Mapped[str] = mapped_column(String(16))
    """``charge`` / ``settle`` or ``refund``."""
    kind: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment_order.id"))
    ours_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    theirs_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    cause_zh: Mapped[str] = mapped_column(String(200))
    cause_en: Mapped[str] = mapped_column(String(200))
