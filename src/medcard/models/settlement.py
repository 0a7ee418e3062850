"""Payment orders (结算订单), their channel payments and refunds (R-PAY-02…07)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, UniqueConstraint, literal_column, text
from sqlalchemy.orm import Mapped, mapped_column

from medcard.models.base import Base, JSONType

ORDER_STATES = ("pending", "paid", "expired")


class PaymentOrder(Base):
    """One bill being settled: the split the rules computed (with its policy version), where
    each fen comes from (``funding``), the ledger hold, the insurance and channel steps.

    ``pending`` (holds placed; an outside step may still be missing) → ``paid`` (the hold
    posted) or ``expired`` (after 15 minutes every hold released, R-PAY-04), each once."""

    __tablename__ = "payment_order"
    __table_args__ = (
        CheckConstraint("state IN ('pending', 'paid', 'expired')", name="state"),
        # The unique key serves the account's lookups: no index of account_id alone.
        UniqueConstraint("account_id", "request_key"),
        # Partial indexes: a row enters only those it is found by, so writing an order (and moving
        # it to paid) touches 7 and 6 indexes, not 10 (ADR 0012, eighth round).
        Index(
            "ix_payment_order_pending",
            "expires_at",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        Index(
            "ix_payment_order_reimburse_on",
            "reimburse_on",
            postgresql_where=text("reimburse_on IS NOT NULL"),
            sqlite_where=text("reimburse_on IS NOT NULL"),
        ),
        Index(
            "ix_payment_order_mutual_aid_grant_id",
            "mutual_aid_grant_id",
            postgresql_where=text("mutual_aid_grant_id IS NOT NULL"),
            sqlite_where=text("mutual_aid_grant_id IS NOT NULL"),
        ),
        # A bill has at most one order that is not expired: two concurrent payments of one bill
        # (different keys, two devices) cannot both place holds.
        Index(
            "uq_payment_order_open_bill",
            "hospital_id",
            "bill_number",
            unique=True,
            postgresql_where=text("state <> 'expired'"),
            sqlite_where=text("state <> 'expired'"),
        ),
    )

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("card.id"))
    """Not indexed: no query looks orders up by card, and cards are never deleted (migration 0003)."""
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    hospital_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hospital.id"), index=True)
    binding_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("insurance_binding.id"))
    staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"))
    request_key: Mapped[str] = mapped_column(String(64))
    """The client's idempotency key (R-PAY-05): the same key never creates a second order."""
    request_digest: Mapped[str] = mapped_column(String(64))
    scenario: Mapped[str] = mapped_column(String(16))
    """``online`` (patient pages), ``counter`` (window, kiosk) or ``pharmacy`` (R-PAY-09)."""
    bill_number: Mapped[str] = mapped_column(String(40))
    bill_kind: Mapped[str] = mapped_column(String(24), default="outpatient")
    """The HIS bill's kind; an ``inpatient_deposit`` (住院预交金) is prepaid money: it goes into
    the patient's deposit at the hospital, not to the hospital's receivable."""
    visit_type: Mapped[str] = mapped_column(String(16))
    items: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    total_fen: Mapped[int] = mapped_column(BigInteger)
    fund_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    """The fund's share the rules computed (paid now, or later for a deferred scheme)."""
    deductible_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    split: Mapped[dict[str, Any]] = mapped_column(default=dict)
    funding: Mapped[dict[str, Any]] = mapped_column(default=dict)
    policy_version: Mapped[str] = mapped_column(String(120))
    state: Mapped[str] = mapped_column(String(8), default="pending")
    hold_entry_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("journal_entry.id", deferrable=True, initially="DEFERRED")
    )
    """The hold over every source. Checked at commit: the order row is written first (its
    unique index serialises two payments of one bill before any account is locked), the
    hold it names a moment later in the same transaction."""
    insurance_order_id: Mapped[str | None] = mapped_column(String(40))
    insurance_state: Mapped[str | None] = mapped_column(String(16))
    """``settled`` once 6202 (or a 6301 query) confirmed the fund and personal-account shares."""
    failure_code: Mapped[str | None] = mapped_column(String(48))
    mutual_aid_grant_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("mutual_aid_grant.id"))
    """R-FAM-08: the relative's grant whose personal account pays ``funding.family_mutual_aid_fen``
    (the hold's memo names the beneficiary too); its use is given back when the order expires
    or that share is refunded."""
    guardian_confirmation: Mapped[str | None] = mapped_column(String(12))
    """R-FAM-04: ``awaiting`` while a prescription-drug payment for a patient the account acts for
    waits for the guardian's second confirmation (holds placed, no outside step taken; the
    15-minute expiry releases it), then ``confirmed``; ``None`` when no confirmation is needed."""
    expires_at: Mapped[datetime]
    paid_at: Mapped[datetime | None]
    deferred_fund_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    reimburse_on: Mapped[date | None]
    """A deferred scheme's reimbursement day (N Chinese working days after payment, R-INS-04)."""
    reimbursed_at: Mapped[datetime | None]
    refunded: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Refunded fen per funding source so far (never above what the source gave, R-PAY-06)."""
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Every refund of the order so far (the sum of ``refunded``)."""
    fund_refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """What the pooled fund did not pay after all (refunded to it, or a deferred reimbursement
    cancelled by a full refund): this year's fund totals subtract it."""


PENDING_ORDER = PaymentOrder.state == literal_column("'pending'")
"""``state = 'pending'`` written as a literal, as ``ix_payment_order_pending``'s predicate is: a
bound parameter in its place would keep a prepared statement's generic plan off that index."""


class ChannelPayment(Base):
    """One payment through the messaging channel: at most 300 yuan (R-PAY-03). A bill's
    self-pay becomes several; a deposit top-up or credit repayment has no order."""

    __tablename__ = "channel_payment"
    __table_args__ = (CheckConstraint("amount_fen > 0 AND refunded_fen <= amount_fen", name="amounts"),)

    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payment_order.id"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"))
    """Not indexed: payments are found by order or trade number, and accounts are never deleted
    (migration 0003)."""
    purpose: Mapped[str] = mapped_column(String(16))
    """``bill``, ``top_up`` or ``repayment``."""
    out_trade_no: Mapped[str] = mapped_column(String(40), unique=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    state: Mapped[str] = mapped_column(String(16), default="created")
    """``created`` → ``paid`` | ``failed`` → ``closed``; refunds count in ``refunded_fen``."""
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)


class PaymentRefund(Base):
    """A refund of a paid order, per source (R-PAY-06), with its ledger entry."""

    __tablename__ = "payment_refund"
    __table_args__ = (UniqueConstraint("order_id", "request_key"),)

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_order.id"), index=True)
    request_key: Mapped[str] = mapped_column(String(64))
    total_fen: Mapped[int] = mapped_column(BigInteger)
    amounts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    entry_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("journal_entry.id"))
    reason: Mapped[str] = mapped_column(String(200), default="")
