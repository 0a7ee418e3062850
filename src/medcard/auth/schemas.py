"""Login requests and answers."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, Field


class OAuthLogin(BaseModel):
    """The messaging app's authorisation code."""

    code: str = Field(min_length=8, max_length=512)


class StaffLogin(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=128)


class LoginResult(BaseModel):
    """A bearer token for ``Authorization: Bearer …``."""

    token: str
    token_type: str = "bearer"  # noqa: S105 - OAuth token type name, not a secret
    subject_id: uuid.UUID
    role: str
    device_key: str | None = None
    """Patients: the device key to send back as ``X-Device-Key`` (browsers keep it in a cookie)."""
    step_up_required: list[str] = Field(default_factory=list)
    """Why this login must step up before sensitive actions (R-SEC-06); empty when it need not."""


class StaffUnlock(BaseModel):
    """An administrator's unlock of a staff username's login lock (R-SEC-06)."""

    username: str = Field(min_length=1, max_length=64)
    client_ip: str | None = Field(default=None, max_length=45)
    """Only this address's lock; by default every address's."""


class StaffUnlockResult(BaseModel):
    username: str
    cleared: int
    """How many refused logins were deleted."""
