"""Security settings, PIN and freeze requests as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from medcard.i18n import translate
from medcard.security.rules import RISK_KINDS
from medcard.security.service import RiskMonitor


class PinSet(BaseModel):
    """Set the first payment password, or reset it with a fresh verification's id."""

    pin: str = Field(min_length=1, max_length=12)
    verification_id: uuid.UUID | None = None


class PinCheckRequest(BaseModel):
    pin: str = Field(min_length=1, max_length=12)


class Reactivation(BaseModel):
    verification_id: uuid.UUID


class LossReport(BaseModel):
    """The hotline's identity questions (挂失身份核验)."""

    card_number: str = Field(min_length=1, max_length=20)
    name: str = Field(min_length=1, max_length=64)
    document_last4: str = Field(min_length=4, max_length=4)
    phone_last4: str = Field(min_length=4, max_length=4, pattern=r"^[0-9]{4}$")


class SecuritySettingsUpdate(BaseModel):
    """Permission settings (R-SEC-07) and limits (R-SEC-06); omitted fields stay."""

    bill_visibility: Literal["self", "guardians", "family"] | None = None
    family_scope: Literal["none", "cards", "cards_and_bills"] | None = None
    per_transaction_limit_fen: int | None = Field(default=None, ge=100, le=5_000_000)
    daily_limit_fen: int | None = Field(default=None, ge=100, le=20_000_000)


class SecurityRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    pin_set: bool
    pin_locked_until: datetime | None
    frozen: bool
    frozen_reason: str | None
    bill_visibility: str
    family_scope: str
    per_transaction_limit_fen: int
    daily_limit_fen: int

    @classmethod
    def of(cls, profile: object) -> SecurityRead:
        from medcard.models import SecurityProfile

        if not isinstance(profile, SecurityProfile):
            raise TypeError(f"SecurityRead.of expects a SecurityProfile, not {type(profile).__name__}")
        return cls(
            pin_set=profile.pin_hash is not None,
            pin_locked_until=profile.pin_locked_until,
            frozen=profile.frozen_at is not None,
            frozen_reason=profile.frozen_reason,
            bill_visibility=profile.bill_visibility,
            family_scope=profile.family_scope,
            per_transaction_limit_fen=profile.per_transaction_limit_fen,
            daily_limit_fen=profile.daily_limit_fen,
        )


class LossReportRead(BaseModel):
    card_number: str
    frozen: bool = True


class RiskSignalRead(BaseModel):
    at: datetime
    kind: str
    label_zh: str
    label_en: str
    actor: str
    subject: str


class RiskMonitorRead(BaseModel):
    """Risk signals from the audit log (R-SEC-06): counts per kind in the last 15 minutes and
    24 hours, and the latest signals (actors and subjects by id only)."""

    recent: dict[str, int]
    day: dict[str, int]
    latest: list[RiskSignalRead]
    truncated: bool

    @classmethod
    def of(cls, monitor: RiskMonitor) -> RiskMonitorRead:
        return cls(
            recent=monitor.recent,
            day=monitor.day,
            latest=[
                RiskSignalRead(
                    at=signal.at,
                    kind=signal.kind,
                    label_zh=translate("zh", RISK_KINDS[signal.kind]),
                    label_en=translate("en", RISK_KINDS[signal.kind]),
                    actor=signal.actor,
                    subject=signal.subject,
                )
                for signal in monitor.latest
            ],
            truncated=monitor.truncated,
        )
