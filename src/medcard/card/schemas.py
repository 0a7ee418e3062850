"""Card API shapes: drafts, submission, existing-patient binding, the card and its display code."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from medcard.card import rules
from medcard.card.service import DisplayCodeView, DraftView, ExistingRecordChallenge
from medcard.hospital.schemas import HospitalRead
from medcard.kit.masking import mask_document, mask_phone
from medcard.models import Card

FieldValue = Annotated[str, StringConstraints(max_length=500)]
FormFields = Annotated[dict[Annotated[str, StringConstraints(max_length=32)], FieldValue], Field(max_length=30)]
HospitalCode = Annotated[str, StringConstraints(min_length=1, max_length=16)]
SubjectKey = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DraftSave(_In):
    """One or several fields to autosave; ``last_field`` defaults to the last one given."""

    hospital: HospitalCode
    subject: SubjectKey = "self"
    fields: FormFields
    last_field: Annotated[str, StringConstraints(max_length=32)] | None = None


class CardSubmit(_In):
    """Submit the application: the saved draft, with ``fields`` on top (an API client may send all 18)."""

    hospital: HospitalCode
    subject: SubjectKey = "self"
    fields: FormFields = Field(default_factory=dict)


class ExistingStart(CardSubmit):
    """Start existing-patient binding (老用户绑定) after ``CARD_NUMBER_OCCUPIED``."""


class ExistingConfirm(CardSubmit):
    code: Annotated[str, StringConstraints(pattern=r"^\d{6}$")]


class PersonalInfoUpdate(_In):
    """Fields to change on an issued card. ``document_number`` and ``phone`` are refused (R-CARD-03)."""

    ethnicity: FieldValue | None = None
    region_code: FieldValue | None = None
    address: FieldValue | None = None
    postal_code: FieldValue | None = None
    occupation: FieldValue | None = None
    employer: FieldValue | None = None
    marital_status: FieldValue | None = None
    education: FieldValue | None = None
    emergency_name: FieldValue | None = None
    emergency_phone: FieldValue | None = None
    emergency_relation: FieldValue | None = None
    allergy_history: FieldValue | None = None
    blood_type: FieldValue | None = None
    document_number: FieldValue | None = None
    phone: FieldValue | None = None
    name: FieldValue | None = None
    gender: FieldValue | None = None
    birth_date: FieldValue | None = None
    document_type: FieldValue | None = None
    nationality: FieldValue | None = None

    def changes(self) -> dict[str, str]:
        return {k: v for k, v in self.model_dump(exclude_unset=True).items() if v is not None}


class ImmutableFieldChange(_In):
    """A staff change of the document number or the phone, with a mandatory reason."""

    field: Literal["document_number", "phone"]
    new_value: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    reason: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class DraftRead(BaseModel):
    hospital: str
    subject: str
    fields: dict[str, str]
    last_field: str | None
    revision: int
    updated_at: datetime | None
    missing: list[str]

    @classmethod
    def of(cls, view: DraftView) -> DraftRead:
        return cls(
            hospital=view.hospital.code,
            subject=view.subject.key,
            fields=view.fields,
            last_field=view.last_field,
            revision=view.revision,
            updated_at=view.updated_at,
            missing=view.missing,
        )


class PhotoPrefillRead(BaseModel):
    draft: DraftRead
    prefilled: list[str]


class ExistingChallengeRead(BaseModel):
    hospital: str
    masked_phone: str
    expires_in_seconds: int

    @classmethod
    def of(cls, challenge: ExistingRecordChallenge) -> ExistingChallengeRead:
        return cls(
            hospital=challenge.hospital.code,
            masked_phone=challenge.masked_phone,
            expires_in_seconds=challenge.expires_in_seconds,
        )


class CardRead(BaseModel):
    """A card as its holder sees it: document number and phone masked."""

    id: uuid.UUID
    card_number: str
    card_number_display: str
    hospital: HospitalRead
    status: str
    qr_version: int
    linked_existing_record: bool
    created_at: datetime
    activated_at: datetime | None
    name: str
    gender: str
    ethnicity: str
    birth_date: date
    document_type: str
    document_number_masked: str
    nationality: str
    phone_masked: str
    region_code: str
    address: str
    postal_code: str
    occupation: str
    employer: str
    marital_status: str
    education: str
    emergency_name: str
    emergency_phone: str
    emergency_relation: str
    allergy_history: str | None
    blood_type: str | None

    @classmethod
    def of(cls, card: Card) -> CardRead:
        values = {f: getattr(card, f) for f in rules.ALL_FIELDS if f not in ("document_number", "phone")}
        return cls(
            id=card.id,
            card_number=card.card_number,
            card_number_display=rules.format_card_number(card.card_number),
            hospital=HospitalRead.model_validate(card.hospital),
            status=card.status,
            qr_version=card.qr_version,
            linked_existing_record=card.linked_existing_record,
            created_at=card.created_at,
            activated_at=card.activated_at,
            document_number_masked=mask_document(card.document_number),
            phone_masked=mask_phone(card.phone),
            **values,
        )


class DisplayCodeRead(BaseModel):
    """The display code (identity only, never pays) as text and inline SVG."""

    card_number: str
    version: int
    text: str
    svg: str

    @classmethod
    def of(cls, card: Card, code: DisplayCodeView) -> DisplayCodeRead:
        return cls(card_number=card.card_number, version=code.version, text=code.text, svg=code.svg)
