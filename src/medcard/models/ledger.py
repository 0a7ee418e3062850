"""The double-entry ledger (R-PAY-01): accounts, journal entries and their postings.

Money is integer fen. A posting's amount is signed: positive raises its account's balance,
negative lowers it; the postings of one entry sum to zero. ``balance_fen`` is maintained by
the ledger service only (always equal to the sum of the posted postings, a test proves it);
``held_fen`` is what pending entries (holds) have reserved. The database refuses an account
whose available money (balance − held) falls below what its kind allows.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from medcard.models.base import Base

ACCOUNT_KINDS = (
    "fund_pool",
    "personal_account",
    "deposit",
    "credit_line",
    "channel_clearing",
    "hospital_receivable",
    "refunds",
    "world",
)
CREDIT_LINE_FLOOR_FEN = -200_000
"""R-CARD-10: at most 2000 yuan outstanding on a credit line, whatever a hospital sets."""
ENTRY_STATES = ("pending", "posted", "voided")


class LedgerAccount(Base):
    """One account of the journal (账户). ``key`` names it uniquely, e.g.
    ``fund_pool:110000:310`` (pooled fund 统筹基金 per coordinating region and scheme),
    ``personal_account:<person>`` (个人账户, a mirror of the platform's balance),
    ``deposit:<hospital>:<person>`` (预交金), ``credit_line:<hospital>:<person>`` (先诊疗后付费),
    ``channel_clearing``, ``hospital_receivable:<hospital>``, ``refunds``, ``world``."""

    __tablename__ = "ledger_account"
    __table_args__ = (
        CheckConstraint(f"kind IN ({', '.join(repr(kind) for kind in ACCOUNT_KINDS)})", name="kind"),
        CheckConstraint(
            "kind NOT IN ('personal_account', 'deposit') OR balance_fen - held_fen >= 0", name="never_negative"
        ),
        CheckConstraint(f"kind <> 'credit_line' OR balance_fen - held_fen >= {CREDIT_LINE_FLOOR_FEN}", name="credit"),
        CheckConstraint("floor_fen IS NULL OR balance_fen - held_fen >= floor_fen", name="floor"),
        CheckConstraint("held_fen >= 0", name="held"),
    )

    kind: Mapped[str] = mapped_column(String(24))
    key: Mapped[str] = mapped_column(String(120), unique=True)
    hospital_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("hospital.id"))
    person_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("person.id"), index=True)
    floor_fen: Mapped[int | None] = mapped_column(BigInteger)
    """The lowest available balance allowed (0 for deposits, −limit for a credit line); None: unbounded."""
    balance_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    held_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class JournalEntry(Base):
    """One balanced movement of money (分录). ``pending`` is a hold (two-phase: its negative
    postings are reserved on their accounts); it becomes ``posted`` or ``voided`` exactly once.
    A posted entry is never edited: a correction or refund is a new entry (``reverses_id``)."""

    __tablename__ = "journal_entry"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'posted', 'voided')", name="state"),
        Index("ix_journal_entry_reference", "reference_kind", "reference_id"),
    )

    kind: Mapped[str] = mapped_column(String(32))
    """``payment``, ``refund``, ``top_up``, ``repayment``, ``reimbursement``, ``mirror``, ``reversal``."""
    state: Mapped[str] = mapped_column(String(8))
    reference_kind: Mapped[str | None] = mapped_column(String(32))
    reference_id: Mapped[uuid.UUID | None]
    reverses_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("journal_entry.id"))
    memo: Mapped[dict[str, Any]] = mapped_column(default=dict)
    resolved_at: Mapped[datetime | None]


class Posting(Base):
    """One leg of an entry: a signed amount on one account, tagged with its funding source
    (``fund``, ``personal_account``, ``deposit``, ``credit_line``, ``channel``, ``hospital`` …)
    so refunds can be limited per source (R-PAY-06)."""

    __tablename__ = "posting"
    __table_args__ = (CheckConstraint("amount_fen <> 0", name="nonzero"),)

    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("journal_entry.id"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_account.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(24))
