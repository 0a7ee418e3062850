"""Hospital settings in and out. Money is integer fen."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

# A guard against absurd numbers only; the policy ranges live in hospital/rules.py.
_FEN = Field(default=None, ge=0, le=100_000_000)


class HospitalRead(BaseModel):
    """A hospital with its card settings (R-ID-06, R-ID-08, R-CARD-08…10)."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name_zh: str
    name_en: str
    level: str
    is_county: bool
    physical_card_fee_fen: int
    deposit_required: bool
    deposit_min_fen: int
    credit_enabled: bool
    credit_limit_fen: int
    requires_kiosk_activation: bool
    foreigner_insurance: bool


class HospitalSettingsUpdate(BaseModel):
    """The settings to change; fields left out keep their value. Checked as a whole after merging."""

    model_config = ConfigDict(extra="forbid")

    physical_card_fee_fen: StrictInt | None = _FEN
    """0 (free) or 500–2000 fen (R-CARD-08)."""
    deposit_required: StrictBool | None = None
    deposit_min_fen: StrictInt | None = _FEN
    """At least 1000 fen when a deposit is required (R-CARD-09)."""
    credit_enabled: StrictBool | None = None
    credit_limit_fen: StrictInt | None = _FEN
    """0–200000 fen; above 0 when credit is enabled (R-CARD-10)."""
    requires_kiosk_activation: StrictBool | None = None
    """New cards wait for activation at a kiosk with the original ID card (R-ID-06)."""
    foreigner_insurance: StrictBool | None = None
    """Foreign card holders may settle through insurance (R-ID-08)."""
