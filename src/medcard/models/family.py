"""Patients managed from another person's account (家庭成员 / 代办) and their proof documents."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medcard.models.base import Base, EncryptedText
from medcard.models.person import Person

FAMILY_RELATIONS = ("child", "parent", "spouse", "guardian")
"""What the patient is to the account holder; ``guardian``: the holder is the patient's legal
guardian without being a parent (an orphaned child, an adult who cannot act for himself)."""
FAMILY_STATUSES = ("pending_review", "active", "rejected", "dissolved", "expired")
PROOF_DOCUMENTS = ("relation_proof", "holder_id_photo", "patient_id_photo", "holder_with_id")


class FamilyMember(Base):
    """A patient the account manages (就诊人, R-FAM-01…06): a child, parent, spouse or ward.

    ``status`` is ``pending_review`` until staff accept the proof (where policy asks for a
    review), ``active`` while the account may act for the patient, then ``rejected``,
    ``dissolved`` (by the holder, or by the patient aged 16+, R-FAM-06) or ``expired`` (the
    relation ended: a child turned 18 on ``ends_on``). One row per account and patient; adding
    an ended relation again reuses it."""

    __tablename__ = "family_member"
    __table_args__ = (UniqueConstraint("account_id", "patient_person_id"),)

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    patient_person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    proof_kind: Mapped[str] = mapped_column(String(32))
    birth_certificate_number: Mapped[str | None] = mapped_column(
        EncryptedText("family_member.birth_certificate_number")
    )
    status: Mapped[str] = mapped_column(String(16))
    ends_on: Mapped[date | None]
    """The day the relation ends by itself (a minor's 18th birthday); ``None`` for adults."""
    provider_reference: Mapped[str | None] = mapped_column(String(64))
    """The identity authority's reference when it confirmed the relation (minors)."""
    reviewed_by_staff_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str | None] = mapped_column(String(200))
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(16))
    """``holder``, ``patient``, ``staff`` or ``age``."""

    patient: Mapped[Person] = relationship(lazy="joined")


class FamilyProof(Base):
    """One proof document of a family relation (R-FAM-02): the relation proof (household
    register, birth / marriage / guardianship certificate) and, for a guardian, both ID photos and
    the photo of the guardian holding his ID. Stored SM4-encrypted for staff review (R-SEC-08);
    the image is erased (``data`` NULL, ``purged_at`` set) once the relation is rejected or ends —
    only its SM3 digest stays."""

    __tablename__ = "family_proof"
    __table_args__ = (UniqueConstraint("member_id", "document"),)

    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("family_member.id"), index=True)
    document: Mapped[str] = mapped_column(String(24))
    content_type: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64))
    data: Mapped[str | None] = mapped_column(EncryptedText("family_proof.data"))
    """Base64 of the image, encrypted at rest."""
    purged_at: Mapped[datetime | None]


MUTUAL_AID_STATUSES = ("active", "revoked")


class MutualAidGrant(Base):
    """Family mutual aid (家庭共济, R-FAM-08): an insured employee lets a relative of his current
    family relations pay from his personal account, within limits he sets (fen; ``None``: no
    limit of that kind). ``used_fen`` counts what ``used_year`` has taken (held or posted), kept
    under this row's lock so limits hold under concurrent payments; a voided hold gives it back.
    ``revoked`` ends it for new payments; a pending payment still completes or is released."""

    __tablename__ = "mutual_aid_grant"
    __table_args__ = (UniqueConstraint("principal_person_id", "beneficiary_person_id"),)

    principal_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    principal_person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    member_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("family_member.id"), index=True)
    beneficiary_person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6))
    per_payment_limit_fen: Mapped[int | None]
    per_year_limit_fen: Mapped[int | None]
    used_year: Mapped[int] = mapped_column(default=0)
    used_fen: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(16), default="active")
    revoked_at: Mapped[datetime | None]
