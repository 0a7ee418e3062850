"""Electronic health cards (电子健康卡 / 就诊卡), their drafts and physical cards."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from medcard.kit.keys import blind_index
from medcard.models.base import Base, EncryptedJSON, EncryptedText, utcnow
from medcard.models.person import Person
from medcard.models.region import Hospital

CARD_STATUSES = ("pending_activation", "active", "frozen", "cancelled")


class CardDraft(Base):
    """The application form as last autosaved (R-CARD-04); one per account, hospital and subject."""

    __tablename__ = "card_draft"
    __table_args__ = (UniqueConstraint("account_id", "hospital_id", "subject_key"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    hospital_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hospital.id"))
    subject_key: Mapped[str] = mapped_column(String(40))
    """``self`` or the ward's person id."""
    data: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON("card_draft.data"), default=dict)
    """The form so far; it holds names, numbers and phones, so the whole object is encrypted."""
    last_field: Mapped[str | None] = mapped_column(String(32))
    revision: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Card(Base):
    """A patient's electronic health card at one hospital (or region): the 18 form fields,
    the card number (R-CARD-06) and the display-QR version (R-CARD-07). Personal fields are
    encrypted at rest (R-SEC-08); the document number has a blind index for lookups."""

    __tablename__ = "card"
    __table_args__ = (UniqueConstraint("scope", "person_id"),)

    card_number: Mapped[str] = mapped_column(String(20), unique=True)
    hospital_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("hospital.id"), index=True)
    scope: Mapped[str] = mapped_column(String(48))
    """``H:<hospital code>`` or ``R:<region code>``: one card per person per scope (R-CARD-05)."""
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    status: Mapped[str] = mapped_column(String(24), default="active")
    qr_version: Mapped[int] = mapped_column(default=1)
    his_patient_id: Mapped[str] = mapped_column(String(32))
    linked_existing_record: Mapped[bool] = mapped_column(default=False)
    activated_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    name: Mapped[str] = mapped_column(EncryptedText("card.name"))
    gender: Mapped[str] = mapped_column(String(1))
    ethnicity: Mapped[str] = mapped_column(String(16))
    birth_date: Mapped[date]
    document_type: Mapped[str] = mapped_column(String(24))
    document_number: Mapped[str] = mapped_column(EncryptedText("card.document_number"))
    document_number_index: Mapped[str] = mapped_column(String(32), index=True)
    nationality: Mapped[str] = mapped_column(String(3))
    phone: Mapped[str] = mapped_column(EncryptedText("card.phone"))
    phone_index: Mapped[str] = mapped_column(String(32), index=True, default="")
    name_index: Mapped[str] = mapped_column(String(32), index=True, default="")
    """Blind indexes for the console's lookup by phone or exact name (issue 9, R-SEC-08)."""
    region_code: Mapped[str] = mapped_column(String(6))
    address: Mapped[str] = mapped_column(EncryptedText("card.address"))
    postal_code: Mapped[str] = mapped_column(String(6))
    occupation: Mapped[str] = mapped_column(String(32))
    employer: Mapped[str] = mapped_column(String(100))
    marital_status: Mapped[str] = mapped_column(String(16))
    education: Mapped[str] = mapped_column(String(16))
    emergency_name: Mapped[str] = mapped_column(EncryptedText("card.emergency_name"))
    emergency_phone: Mapped[str] = mapped_column(EncryptedText("card.emergency_phone"))
    emergency_relation: Mapped[str] = mapped_column(String(16))
    allergy_history: Mapped[str | None] = mapped_column(EncryptedText("card.allergy_history"))
    blood_type: Mapped[str | None] = mapped_column(String(8))

    hospital: Mapped[Hospital] = relationship(lazy="joined")
    person: Mapped[Person] = relationship(lazy="joined")

    @validates("document_number")
    def _index_document_number(self, _key: str, value: str) -> str:
        self.document_number_index = blind_index("document", value)
        return value

    @validates("phone")
    def _index_phone(self, _key: str, value: str) -> str:
        self.phone_index = blind_index("phone", value)
        return value

    @validates("name")
    def _index_name(self, _key: str, value: str) -> str:
        self.name_index = blind_index("name", value)
        return value


class PhysicalCard(Base):
    """A physical card issued at a kiosk from the e-card's QR code (R-CARD-08)."""

    __tablename__ = "physical_card"

    card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("card.id"), index=True)
    serial: Mapped[str] = mapped_column(String(24), unique=True)
    issued_by_staff_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("staff_user.id"))
    fee_fen: Mapped[int]
    fee_status: Mapped[str] = mapped_column(String(16), default="unpaid")
    """``paid`` (channel or deposit, before the card left the kiosk), ``deferred`` (to be paid at
    the window, chosen at the kiosk), ``waived`` (free); ``unpaid`` only on cards issued before
    the kiosk collected fees (R-CARD-08)."""
    status: Mapped[str] = mapped_column(String(16), default="issued")
