"""Kiosk requests and answers. Personal data leaves the server masked; money is int fen."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from medcard.hospital.schemas import HospitalRead
from medcard.kiosk.rules import ReissueReason
from medcard.kiosk.service import Issuance, KioskCard
from medcard.kit.masking import mask_document, mask_name
from medcard.kit.money import format_yuan
from medcard.models import Card, PhysicalCard
from medcard.settlement.card_fee import FeePayment

DisplayCodeText = Field(min_length=1, max_length=512, description="The text the scanner read from the e-card QR")


class ScanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = DisplayCodeText


class PhysicalCardIssue(BaseModel):
    """Issue a physical card; a replacement names why (R-CARD-08)."""

    model_config = ConfigDict(extra="forbid")

    code: str = DisplayCodeText
    reason: ReissueReason | None = None
    fee_payment: FeePayment | None = None
    """How the fee is settled before the card leaves: ``channel``, ``deposit`` or ``window``
    (deferred to the cashier); required unless the hospital's card is free (R-CARD-08)."""


class ActivationRequest(BaseModel):
    """R-ID-06: the document number the kiosk's ID-card reader read from the original card."""

    model_config = ConfigDict(extra="forbid")

    code: str = DisplayCodeText
    document_number: str = Field(min_length=6, max_length=32, pattern=r"^[0-9A-Za-z ]+$")


class ServiceRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = DisplayCodeText


class PhysicalCardRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    serial: str
    fee_fen: int
    fee_status: str
    """``paid``, ``deferred`` (to the window), ``waived`` (free)."""
    status: str
    created_at: datetime

    @computed_field  # type: ignore[prop-decorator]
    @property
    def fee_yuan(self) -> str:
        return format_yuan(self.fee_fen)

    @classmethod
    def of(cls, physical_card: PhysicalCard) -> PhysicalCardRead:
        return cls.model_validate(physical_card)


class CardAtKiosk(BaseModel):
    """The card holder as the kiosk may show them: masked name and document number."""

    card_id: uuid.UUID
    card_number: str
    holder_name: str
    document_type: str
    document_number: str
    status: str
    activated_at: datetime | None

    @classmethod
    def of(cls, card: Card) -> CardAtKiosk:
        return cls(
            card_id=card.id,
            card_number=card.card_number,
            holder_name=mask_name(card.name),
            document_type=card.document_type,
            document_number=mask_document(card.document_number),
            status=card.status,
            activated_at=card.activated_at,
        )


class ScanResult(BaseModel):
    card: CardAtKiosk
    hospital: HospitalRead
    physical_card: PhysicalCardRead | None

    @classmethod
    def of(cls, view: KioskCard) -> ScanResult:
        physical = PhysicalCardRead.of(view.physical_card) if view.physical_card else None
        return cls(
            card=CardAtKiosk.of(view.card),
            hospital=HospitalRead.model_validate(view.card.hospital),
            physical_card=physical,
        )


class IssueResult(BaseModel):
    card: CardAtKiosk
    physical_card: PhysicalCardRead
    replaced: PhysicalCardRead | None

    @classmethod
    def of(cls, issuance: Issuance) -> IssueResult:
        replaced = PhysicalCardRead.of(issuance.replaced) if issuance.replaced else None
        return cls(
            card=CardAtKiosk.of(issuance.card),
            physical_card=PhysicalCardRead.of(issuance.physical_card),
            replaced=replaced,
        )


class ServiceRequestRead(BaseModel):
    """A recorded request (the printing itself is out of scope)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    service: str
    status: str
    card_id: uuid.UUID
    physical_card_id: uuid.UUID
    created_at: datetime
