"""Settlement as the API shows it. Amounts are integer fen; bills come from the HIS, so no
request carries an amount to charge."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from medcard.adapters.his import HisBill
from medcard.models import PaymentOrder, PaymentRefund
from medcard.settlement.service import Quote
from medcard.settlement.wallet import Wallet


class BillRead(BaseModel):
    """A HIS bill (待缴费账单) with its items."""

    bill_number: str
    kind: str
    department: str
    total_fen: int
    status: str
    items: list[dict[str, Any]]

    @classmethod
    def of(cls, bill: HisBill) -> BillRead:
        items = [
            {"code": i.code, "name": i.name, "category": i.category, "amount_fen": i.amount, "quantity": i.quantity}
            for i in bill.items
        ]
        return cls(
            bill_number=bill.bill_no,
            kind=bill.kind,
            department=bill.department,
            total_fen=bill.total,
            status=bill.status,
            items=items,
        )


class BillRequest(BaseModel):
    card_id: uuid.UUID
    bill_number: str = Field(min_length=1, max_length=40)


class QuoteRead(BaseModel):
    """The split shown before the patient confirms (R-PAY-02/03)."""

    bill: BillRead
    split: dict[str, Any]
    funding: dict[str, int]
    channel_payments_fen: list[int]

    @classmethod
    def of(cls, quote: Quote) -> QuoteRead:
        return cls(
            bill=BillRead.of(quote.bill),
            split=quote.split.as_dict(),
            funding=quote.funding.as_dict(),
            channel_payments_fen=quote.payments,
        )


class OrderRead(BaseModel):
    id: uuid.UUID
    state: str
    scenario: str
    bill_number: str
    total_fen: int
    funding: dict[str, int]
    split: dict[str, Any]
    policy_version: str
    failure_code: str | None
    guardian_confirmation: str | None = None
    created_at: datetime
    expires_at: datetime
    paid_at: datetime | None
    reimburse_on: date | None
    reimbursed_at: datetime | None
    refunded: dict[str, int]

    @classmethod
    def of(cls, order: PaymentOrder) -> OrderRead:
        return cls.of_row({name: getattr(order, name) for name in cls.model_fields})

    @classmethod
    def of_row(cls, row: Mapping[str, Any]) -> OrderRead:
        """From the order's values by attribute (the payment gateway's rows); absent ones are None."""
        values = {name: row.get(name) for name in cls.model_fields}
        values["funding"] = {k: int(v) for k, v in row["funding"].items()}
        values["refunded"] = {k: int(v) for k, v in (row.get("refunded") or {}).items()}
        return cls(**values)


class PosChargeRequest(BaseModel):
    """What the POS sends after redeeming the payment code: the signed verification code and
    the HIS bill to charge (its amount must be within the code's ceiling)."""

    verification_code: str = Field(min_length=1, max_length=600)
    bill_number: str = Field(min_length=1, max_length=40)


class RefundRequest(BaseModel):
    amount_fen: int | None = Field(default=None, gt=0, le=100_000_000)
    """None: refund everything still refundable."""
    reason: str = Field(default="", max_length=200)


class RefundRead(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    total_fen: int
    amounts: dict[str, int]
    created_at: datetime

    @classmethod
    def of(cls, refund: PaymentRefund) -> RefundRead:
        amounts = {k: int(v) for k, v in refund.amounts.items()}
        return cls(
            id=refund.id,
            order_id=refund.order_id,
            total_fen=refund.total_fen,
            amounts=amounts,
            created_at=refund.created_at,
        )


class CashRequest(BaseModel):
    """A deposit top-up or credit repayment through the channel."""

    card_id: uuid.UUID
    amount_fen: int = Field(gt=0, le=10_000_000)


class WalletRead(BaseModel):
    deposit_fen: int
    credit_enabled: bool
    credit_limit_fen: int
    credit_owed_fen: int
    personal_account_fen: int | None

    @classmethod
    def of(cls, wallet: Wallet) -> WalletRead:
        return cls(
            deposit_fen=wallet.deposit_fen,
            credit_enabled=wallet.credit_enabled,
            credit_limit_fen=wallet.credit_limit_fen,
            credit_owed_fen=wallet.credit_owed_fen,
            personal_account_fen=wallet.personal_account_fen,
        )
