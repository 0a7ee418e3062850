"""Pydantic shapes of the insurance API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from medcard.insurance.service import SPECIAL_DISEASES, mask_card_number
from medcard.models import InsuranceBinding, OutOfRegionFiling, SpecialDiseaseApplication


class BindingCreate(BaseModel):
    """The binding form: card, social security card number, scheme, where the patient is now,
    the app version and the face image (base64)."""

    card_id: uuid.UUID
    card_number: str = Field(min_length=1, max_length=20)
    scheme: Literal["employee", "resident", "new_rural"]
    region_code: str = Field(pattern=r"^\d{6}$")
    client_version: str = Field(min_length=1, max_length=16)
    face_image: str = Field(min_length=1, max_length=2_000_000)


class BindingRead(BaseModel):
    id: uuid.UUID
    card_id: uuid.UUID
    status: str
    card_number_masked: str
    scheme_code: str
    insured_region_code: str
    voucher_token_tail: str
    policy_key: str
    policy_version: int
    bound_at: datetime
    unbound_at: datetime | None

    @classmethod
    def of(cls, binding: InsuranceBinding) -> BindingRead:
        return cls(
            id=binding.id,
            card_id=binding.card_id,
            status=binding.status,
            card_number_masked=mask_card_number(binding.insurance_card_number),
            scheme_code=binding.scheme_code,
            insured_region_code=binding.insured_region_code,
            voucher_token_tail=binding.voucher_token[-6:],
            policy_key=binding.policy_version.key,
            policy_version=binding.policy_version.version,
            bound_at=binding.bound_at,
            unbound_at=binding.unbound_at,
        )


class FilingCreate(BaseModel):
    binding_id: uuid.UUID
    destination_region_code: str = Field(pattern=r"^\d{6}$")
    reason: Literal["long_term_residence", "temporary", "referral"]


class FilingRead(BaseModel):
    id: uuid.UUID
    binding_id: uuid.UUID
    destination_region_code: str
    reason: str
    status: str
    valid_from: date
    valid_until: date

    @classmethod
    def of(cls, filing: OutOfRegionFiling) -> FilingRead:
        return cls.model_validate(filing, from_attributes=True)


class SettlementCheck(BaseModel):
    care_region_code: str
    fund_settlement_allowed: bool


class ApplicationRead(BaseModel):
    id: uuid.UUID
    binding_id: uuid.UUID
    disease_code: str
    disease_zh: str
    disease_en: str
    files: int
    status: str
    review_note: str | None
    reviewed_at: datetime | None

    @classmethod
    def of(cls, application: SpecialDiseaseApplication) -> ApplicationRead:
        zh, en = SPECIAL_DISEASES[application.disease_code]
        return cls(
            id=application.id,
            binding_id=application.binding_id,
            disease_code=application.disease_code,
            disease_zh=zh,
            disease_en=en,
            files=len(application.materials.get("files", [])),
            status=application.status,
            review_note=application.review_note,
            reviewed_at=application.reviewed_at,
        )


class Review(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=200)


class SchemeStatRead(BaseModel):
    scheme_code: str
    attempts: int
    succeeded: int
    success_percent: float


class CategoryRead(BaseModel):
    category: str
    failures: int


class DashboardRead(BaseModel):
    by_scheme: list[SchemeStatRead]
    failures_by_category: list[CategoryRead]
