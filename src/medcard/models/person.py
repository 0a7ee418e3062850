"""Real-name identities (实名) and guardianship of children."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, validates

from medcard.kit.keys import blind_index
from medcard.models.base import Base, EncryptedText

DOCUMENT_TYPES = ("resident_id", "hmt_permit", "foreign_passport")


class Person(Base):
    """A real person as proven by a document: an account holder or a ward (被监护人).

    Document number, name and phone are encrypted at rest (R-SEC-08); one person per document
    is enforced on the document number's blind index."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("document_type", "document_number_index"),)

    document_type: Mapped[str] = mapped_column(String(24))
    document_number: Mapped[str] = mapped_column(EncryptedText("person.document_number"))
    document_number_index: Mapped[str] = mapped_column(String(32))
    """HMAC-SM3 blind index of the document number (set whenever the number is)."""
    nationality: Mapped[str] = mapped_column(String(3), default="CHN")
    residence_permit_number: Mapped[str | None] = mapped_column(EncryptedText("person.residence_permit_number"))
    name: Mapped[str] = mapped_column(EncryptedText("person.name"))
    gender: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date]
    phone: Mapped[str | None] = mapped_column(EncryptedText("person.phone"))
    verified_at: Mapped[datetime | None]
    verification_method: Mapped[str | None] = mapped_column(String(16))

    @validates("document_number")
    def _index_document_number(self, _key: str, value: str) -> str:
        self.document_number_index = blind_index("document", value)
        return value


class Guardianship(Base):
    """A guardian's proven legal relationship to a ward (监护关系，R-ID-07)."""

    __tablename__ = "guardianship"
    __table_args__ = (UniqueConstraint("guardian_person_id", "ward_person_id"),)

    guardian_person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    ward_person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    proof_kind: Mapped[str] = mapped_column(String(24))
    """``household_register`` (户口本) or ``birth_certificate`` (出生证明)."""
    birth_certificate_number: Mapped[str | None] = mapped_column(EncryptedText("guardianship.birth_certificate_number"))
    proof_digest: Mapped[str] = mapped_column(String(64))
    """SM3 of the uploaded proof; the image itself is passed to the authority and not kept."""
    provider_reference: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[datetime]
