"""Devices and step-up as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from medcard.devices import rules
from medcard.models import AuthSession, Device


class DeviceRead(BaseModel):
    """A bound device: label from its user agent, first and last seen, last login region."""

    id: uuid.UUID
    label: str
    region: str
    first_seen_at: datetime
    last_seen_at: datetime
    trusted: bool
    current: bool

    @classmethod
    def of(cls, device: Device, *, current_device_id: uuid.UUID | None) -> DeviceRead:
        return cls(
            id=device.id,
            label=device.label,
            region=device.last_region,
            first_seen_at=device.created_at,
            last_seen_at=device.last_seen_at,
            trusted=device.trusted_at is not None,
            current=device.id == current_device_id,
        )


class StepUpRead(BaseModel):
    """Whether this session must step up before sensitive actions, and why."""

    required: bool
    reasons: list[str]
    stepped_up_at: datetime | None
    method: str | None

    @classmethod
    def of(cls, auth: AuthSession) -> StepUpRead:
        return cls(
            required=rules.needs_step_up(auth.step_up_reasons, auth.stepped_up_at),
            reasons=[reason for reason in auth.step_up_reasons.split(",") if reason],
            stepped_up_at=auth.stepped_up_at,
            method=auth.step_up_method,
        )


class VerificationStepUp(BaseModel):
    """A fresh identity verification (face, SMS, …) passed after this login."""

    verification_id: uuid.UUID


class WebAuthnResponse(BaseModel):
    """What ``navigator.credentials.create()`` / ``get()`` returned, as JSON (base64url fields)."""

    credential: dict[str, Any] = Field(description="PublicKeyCredential JSON: id, rawId, type, response")
