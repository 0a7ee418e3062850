"""Medical-insurance bindings (医保绑定), binding attempts, out-of-region filings and
special-disease applications."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from medcard.models.base import Base, EncryptedText
from medcard.models.card import Card
from medcard.models.policy import PolicyVersion

SCHEME_KEYS = {"employee": "310", "resident": "390", "new_rural": "380"}


class InsuranceBinding(Base):
    """A patient's medical-insurance e-voucher (医保电子凭证) bound to his health card.

    Records the regional policy version it was made under (R-INS-03)."""

    __tablename__ = "insurance_binding"

    card_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("card.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("person.id"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")
    """``active`` or ``unbound``."""
    insurance_card_number: Mapped[str] = mapped_column(EncryptedText("insurance_binding.insurance_card_number"))
    scheme_code: Mapped[str] = mapped_column(String(3))
    insured_region_code: Mapped[str] = mapped_column(String(6))
    platform_person_number: Mapped[str] = mapped_column(EncryptedText("insurance_binding.platform_person_number"))
    voucher_token: Mapped[str] = mapped_column(EncryptedText("insurance_binding.voucher_token"))
    policy_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("policy_version.id"))
    scheme_policy_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("policy_version.id"))
    bound_at: Mapped[datetime]
    unbound_at: Mapped[datetime | None]

    card: Mapped[Card] = relationship(lazy="joined")
    policy_version: Mapped[PolicyVersion] = relationship(lazy="joined", foreign_keys=[policy_version_id])
    scheme_policy_version: Mapped[PolicyVersion] = relationship(lazy="joined", foreign_keys=[scheme_policy_version_id])


class BindingAttempt(Base):
    """One try to bind, successful or not: the events the dashboard counts (R-OPS-01)."""

    __tablename__ = "binding_attempt"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    region_code: Mapped[str] = mapped_column(String(6))
    scheme_code: Mapped[str | None] = mapped_column(String(3))
    result: Mapped[str] = mapped_column(String(16))
    """``ok`` or ``refused``."""
    error_code: Mapped[str | None] = mapped_column(String(48))
    category: Mapped[str | None] = mapped_column(String(32))


class OutOfRegionFiling(Base):
    """An out-of-region care filing (异地就医备案，R-INS-06)."""

    __tablename__ = "out_of_region_filing"

    binding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("insurance_binding.id"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    destination_region_code: Mapped[str] = mapped_column(String(6))
    reason: Mapped[str] = mapped_column(String(24))
    status: Mapped[str] = mapped_column(String(16), default="active")
    """``active`` or ``cancelled``."""
    valid_from: Mapped[date]
    valid_until: Mapped[date]
    cancelled_at: Mapped[datetime | None]


class SpecialDiseaseApplication(Base):
    """An application for special-disease (门特/特殊病种) treatment, reviewed by staff (R-INS-07)."""

    __tablename__ = "disease_application"

    binding_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("insurance_binding.id"), index=True)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("account.id"), index=True)
    disease_code: Mapped[str] = mapped_column(EncryptedText("disease_application.disease_code"))
    """The diagnosis applied for; encrypted at rest (R-SEC-08) like the review note."""
    materials: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Names, types, digests and sizes of the uploaded paper materials (``{"files": [...]}``);
    the files themselves are :class:`DiseaseMaterial` rows."""
    status: Mapped[str] = mapped_column(String(16), default="submitted", index=True)
    """``submitted`` → ``approved`` | ``rejected``."""
    reviewer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("staff_user.id"))
    reviewed_at: Mapped[datetime | None]
    review_note: Mapped[str | None] = mapped_column(EncryptedText("disease_application.review_note"))

    binding: Mapped[InsuranceBinding] = relationship(lazy="joined")


class DiseaseMaterial(Base):
    """One uploaded paper material of a special-disease application (诊断证明、病历: a PDF or a
    JPEG / PNG scan), kept SM4-encrypted for the reviewer (R-INS-07, R-SEC-08) beside its SM3
    digest. ``position`` is its place in the application's ``materials["files"]`` list."""

    __tablename__ = "disease_material"
    __table_args__ = (UniqueConstraint("application_id", "position"),)

    application_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("disease_application.id"), index=True)
    position: Mapped[int]
    content_type: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64))
    data: Mapped[str] = mapped_column(EncryptedText("disease_material.data"))
    """Base64 of the file, encrypted at rest."""
