"""Real-name identities (实名) and guardianship of children."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from medcard.models.base import Base

DOCUMENT_TYPES = ("resident_id", "hmt_permit", "foreign_passport")


class Person(Base):
    """A real person as proven by a document: an account holder or a ward (被监护人)."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("document_type", "document_number"),)

    document_type: Mapped[str] = mapped_column(String(24))
    document_number: Mapped[str] = mapped_column(String(32))
    nationality: Mapped[str] = mapped_column(String(3), default="CHN")
    residence_permit_number: Mapped[str | None] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(64))
    gender: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date]
    phone: Mapped[str | None] = mapped_column(String(20))
    verified_at: Mapped[datetime | None]
    verification_method: Mapped[str | None] = mapped_column(String(16))


class Guardianship(Base):
    """A guardian's proven legal relationship to a ward (监护关系, R-ID-07)."""

    __tablename__ = "guardianship"
    __table_args__ = (UniqueConstraint("guardian_person_id", "ward_person_id"),)

    guardian_person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    ward_person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    proof_kind: Mapped[str] = mapped_column(String(24))
    """``household_register`` (户口本) or ``birth_certificate`` (出生证明)."""
    birth_certificate_number: Mapped[str | None] = mapped_column(String(16))
    proof_digest: Mapped[str] = mapped_column(String(64))
    """SM3 of the uploaded proof; the image itself is passed to the authority and not kept."""
    provider_reference: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[datetime]
