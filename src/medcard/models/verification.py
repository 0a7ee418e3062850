"""Real-name verification sessions and SMS codes (R-ID-02…05)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, validates

from medcard.kit.keys import blind_index
from medcard.models.base import Base, EncryptedText

VERIFICATION_METHODS = ("face", "bank_card", "sms", "insurance")
VERIFICATION_PURPOSES = ("identity", "step_up", "pin_reset", "reactivation")


class VerificationSession(Base):
    """One attempt to prove an identity by one method. Biometrics are never stored (R-ID-04)."""

    __tablename__ = "verification_session"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(16), default="identity")
    """``identity`` makes an unverified account real-name (实名); ``step_up``, ``pin_reset`` and
    ``reactivation`` re-prove the identity the account already holds (R-SEC-03/04/05)."""
    return_to: Mapped[str | None] = mapped_column(String(200))
    """The local page the patient goes back to once a re-verification passes."""
    status: Mapped[str] = mapped_column(String(16), default="pending")
    """``pending`` → ``passed`` | ``failed`` | ``expired``."""
    document_type: Mapped[str] = mapped_column(String(24))
    document_number: Mapped[str] = mapped_column(EncryptedText("verification_session.document_number"))
    nationality: Mapped[str] = mapped_column(String(3), default="CHN")
    residence_permit_number: Mapped[str | None] = mapped_column(
        EncryptedText("verification_session.residence_permit_number")
    )
    name: Mapped[str] = mapped_column(EncryptedText("verification_session.name"))
    phone: Mapped[str | None] = mapped_column(EncryptedText("verification_session.phone"))
    attempts: Mapped[int] = mapped_column(default=0)
    max_attempts: Mapped[int] = mapped_column(default=1)
    score: Mapped[float | None]
    provider_reference: Mapped[str | None] = mapped_column(String(64))
    failure_code: Mapped[str | None] = mapped_column(String(48))
    expires_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class SmsCode(Base):
    """A 6-digit one-time code sent by SMS; only its keyed hash is stored (R-ID-05). The phone
    is encrypted at rest and found through its blind index (R-SEC-08)."""

    __tablename__ = "sms_code"

    phone: Mapped[str] = mapped_column(EncryptedText("sms_code.phone"))
    phone_index: Mapped[str] = mapped_column(String(32), index=True)
    purpose: Mapped[str] = mapped_column(String(24))
    code_hash: Mapped[str] = mapped_column(String(64))
    client_ip: Mapped[str] = mapped_column(String(45), index=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    verification_session_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("verification_session.id"))
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("account.id"), index=True)
    """The account that asked for the code: the page after the send (Post/Redirect/Get) finds the
    pending code of its own account, so no phone number travels in a URL."""

    @validates("phone")
    def _index_phone(self, _key: str, value: str) -> str:
        self.phone_index = blind_index("phone", value)
        return value
