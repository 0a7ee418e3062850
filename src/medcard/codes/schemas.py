"""Payment codes and POS verification as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from medcard.codes import rules
from medcard.codes.service import CodeStatus, IssuedCode, Redemption


class PaymentCodeRequest(BaseModel):
    card_id: uuid.UUID


class PaymentCodeRead(BaseModel):
    """A dynamic payment code: 18 digits (also the QR and barcode content), valid 60 s."""

    id: uuid.UUID
    code: str
    code_grouped: str
    card_id: uuid.UUID
    issued_at: datetime
    expires_at: datetime
    ttl_seconds: int = int(rules.PAYMENT_CODE_TTL.total_seconds())

    @classmethod
    def of(cls, issued: IssuedCode) -> PaymentCodeRead:
        return cls(
            id=issued.id,
            code=issued.code,
            code_grouped=rules.grouped(issued.code),
            card_id=issued.card.id,
            issued_at=issued.issued_at,
            expires_at=issued.expires_at,
        )


class RedeemRequest(BaseModel):
    """What a POS scanned, for how much; the PIN only above the no-password amount."""

    code: str = Field(min_length=1, max_length=400)
    amount_fen: int = Field(gt=0, le=100_000_000)
    pin: str | None = Field(default=None, min_length=1, max_length=12)


class RedemptionRead(BaseModel):
    verification_code: str
    card_number: str
    holder: str
    amount_fen: int
    expires_at: datetime

    @classmethod
    def of(cls, redemption: Redemption) -> RedemptionRead:
        return cls(
            verification_code=redemption.verification_code,
            card_number=redemption.card_number,
            holder=redemption.holder,
            amount_fen=redemption.amount_fen,
            expires_at=redemption.expires_at,
        )


class VerificationCheck(BaseModel):
    verification_code: str = Field(min_length=1, max_length=600)
    amount_fen: int = Field(gt=0, le=100_000_000)


class VerificationRead(BaseModel):
    valid: bool
    card_number: str
    merchant_id: str
    ceiling_fen: int


class PinRetry(BaseModel):
    """The payment password entered again for a code a wrong PIN refused (no new scan)."""

    retry_token: str = Field(min_length=1, max_length=600)
    pin: str = Field(min_length=1, max_length=12)


class PaymentCodeStatusRead(BaseModel):
    """What became of one of my codes: ``live`` / ``expired``; ``paid`` with amount, where and
    when; ``pending`` (scanned, waiting for the payment password); ``unpaid``; ``revoked``."""

    state: Literal["live", "expired", "paid", "pending", "unpaid", "revoked"]
    amount_fen: int | None
    merchant_zh: str | None
    merchant_en: str | None
    used_at: datetime | None

    @classmethod
    def of(cls, status: CodeStatus) -> PaymentCodeStatusRead:
        zh, en = status.merchant or (None, None)
        return cls(
            state=status.state,
            amount_fen=status.amount_fen,
            merchant_zh=zh,
            merchant_en=en,
            used_at=status.used_at,
        )
