"""In/out shapes of the patient's own account."""

from __future__ import annotations

from pydantic import BaseModel, Field

from medcard.models import Account


class ConsentAccept(BaseModel):
    version: str = Field(min_length=1, max_length=16)


class ElderModeSet(BaseModel):
    on: bool


class AccountDelete(BaseModel):
    confirm: str = Field(max_length=16)


class AccountSettings(BaseModel):
    """What the patient chose: the accepted agreement version and elder mode."""

    consent_version: str | None
    consent_current: str
    elder_mode: bool

    @classmethod
    def of(cls, account: Account, current: str) -> AccountSettings:
        return cls(consent_version=account.consent_version, consent_current=current, elder_mode=account.elder_mode)
