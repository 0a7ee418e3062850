"""Identity API shapes: claims in, sessions, persons and wards out (numbers masked)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from medcard.kit.masking import mask_document, mask_phone
from medcard.models import Guardianship, Person, VerificationSession

Method = Literal["face", "bank_card", "sms", "insurance"]
Purpose = Literal["step_up", "pin_reset", "reactivation"]
DocumentType = Literal["resident_id", "hmt_permit", "foreign_passport"]
Relation = Literal["parent", "guardian"]
ProofKind = Literal["household_register", "birth_certificate"]


class ClaimedIdentity(BaseModel):
    """Who the person says he is. Number rules (checksum, birth date…) are checked by the service
    so that a broken number gets a specific, bilingual error naming the field."""

    document_type: DocumentType = Field(
        default="resident_id",
        description="resident_id 居民身份证 · hmt_permit 港澳台居民居住证 · foreign_passport 护照",
    )
    document_number: str = Field(min_length=1, max_length=40, description="ID number, or passport number")
    name: str = Field(min_length=1, max_length=64, description="Name as printed on the document")
    nationality: str | None = Field(
        default=None, max_length=8, description="Foreigners: ISO 3166 alpha-3 nationality (e.g. USA)"
    )
    residence_permit_number: str | None = Field(
        default=None, max_length=40, description="Foreigners: permanent resident ID (18 chars) or older card (15)"
    )


class VerificationStart(ClaimedIdentity):
    """Start a real-name verification by one method (R-ID-02)."""

    method: Method = Field(description="face · bank_card (4-factor) · sms · insurance (record match)")
    phone: str | None = Field(default=None, max_length=20, description="Required for sms and bank_card")
    purpose: Purpose | None = Field(
        default=None,
        description=(
            "Absent: make this unverified account real-name. step_up · pin_reset · reactivation: a verified "
            "account re-proves its own identity (R-SEC-03/04/05); another person's document is refused."
        ),
    )


class SmsConfirm(BaseModel):
    method: Literal["sms"]
    code: str = Field(pattern=r"^\d{6}$", description="The 6-digit code from the text message")


class BankCardConfirm(BaseModel):
    method: Literal["bank_card"]
    bank_card_number: str = Field(
        min_length=1, max_length=32, description="Debit card in the person's name (Luhn-checked, never stored)"
    )


class InsuranceConfirm(BaseModel):
    method: Literal["insurance"]


VerificationConfirm = Annotated[SmsConfirm | BankCardConfirm | InsuranceConfirm, Field(discriminator="method")]


class VerificationRead(BaseModel):
    """A verification session as its owner sees it. No image or score input is ever echoed."""

    id: uuid.UUID
    method: Method
    purpose: Literal["identity", "step_up", "pin_reset", "reactivation"]
    status: Literal["pending", "passed", "failed", "expired"]
    document_type: DocumentType
    document_number_masked: str
    phone_masked: str | None
    attempts: int
    max_attempts: int
    attempts_left: int
    failure_code: str | None
    score: float | None
    provider_reference: str | None
    expires_at: datetime
    finished_at: datetime | None

    @classmethod
    def of(cls, verification: VerificationSession, *, now: datetime) -> VerificationRead:
        """``pending`` past its deadline reads as ``expired`` even before a step records it."""
        status = verification.status
        if status == "pending" and verification.expires_at <= now:
            status = "expired"
        return cls(
            id=verification.id,
            method=verification.method,
            purpose=verification.purpose,
            status=status,
            document_type=verification.document_type,
            document_number_masked=mask_document(verification.document_number),
            phone_masked=mask_phone(verification.phone) if verification.phone else None,
            attempts=verification.attempts,
            max_attempts=verification.max_attempts,
            attempts_left=max(verification.max_attempts - verification.attempts, 0) if status == "pending" else 0,
            failure_code=verification.failure_code,
            score=verification.score,
            provider_reference=verification.provider_reference,
            expires_at=verification.expires_at,
            finished_at=verification.finished_at,
        )


class PersonRead(BaseModel):
    """A verified person (the account holder or a ward)."""

    id: uuid.UUID
    name: str
    document_type: DocumentType
    document_number_masked: str
    nationality: str
    gender: str
    birth_date: date
    verified_at: datetime | None
    verification_method: str | None
    phone_masked: str | None = None

    @classmethod
    def of(cls, person: Person) -> PersonRead:
        return cls(
            id=person.id,
            name=person.name,
            document_type=person.document_type,
            document_number_masked=mask_document(person.document_number),
            nationality=person.nationality,
            gender=person.gender,
            birth_date=person.birth_date,
            verified_at=person.verified_at,
            verification_method=person.verification_method,
            phone_masked=mask_phone(person.phone) if person.phone else None,
        )


class HospitalSettlement(BaseModel):
    """Whether insurance settlement is offered to this person at one hospital (R-ID-08)."""

    hospital_code: str
    hospital_name_zh: str
    hospital_name_en: str
    insurance_settlement_available: bool


class IdentityStatus(BaseModel):
    """The account's real-name status."""

    verified: bool
    person: PersonRead | None
    insurance_settlement: list[HospitalSettlement]


class SmsSent(BaseModel):
    sent_to: str = Field(description="Masked phone number")
    expires_in_seconds: int


class WardCreate(ClaimedIdentity):
    """A child added by a verified adult guardian (R-ID-07)."""

    relation: Relation = Field(description="parent 父母 · guardian 其他法定监护人")
    proof_kind: ProofKind = Field(description="household_register 户口本 · birth_certificate 出生医学证明")
    birth_certificate_number: str | None = Field(
        default=None, max_length=16, description="出生医学证明编号 (1 letter + 9 digits); required under 14"
    )


class WardRead(BaseModel):
    """A guardianship and its ward."""

    id: uuid.UUID
    ward: PersonRead
    relation: Relation
    proof_kind: ProofKind
    birth_certificate_number_masked: str | None
    age: int
    verified_at: datetime

    @classmethod
    def of(cls, guardianship: Guardianship, ward: Person, *, age: int) -> WardRead:
        certificate = guardianship.birth_certificate_number
        return cls(
            id=guardianship.id,
            ward=PersonRead.of(ward),
            relation=guardianship.relation,
            proof_kind=guardianship.proof_kind,
            birth_certificate_number_masked=mask_document(certificate) if certificate else None,
            age=age,
            verified_at=guardianship.verified_at,
        )


class PhoneCodeRequest(BaseModel):
    """Send a code to the phone the verified patient wants to add (R-ID-05 limits)."""

    phone: str = Field(min_length=1, max_length=20)


class PhoneConfirm(BaseModel):
    """The phone and the 6-digit code texted to it."""

    phone: str = Field(min_length=1, max_length=20)
    code: str = Field(pattern=r"^\d{6}$")
