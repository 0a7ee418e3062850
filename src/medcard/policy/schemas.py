"""Pydantic shapes of the policy API."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from medcard.models import PolicyVersion


class PolicyVersionRead(BaseModel):
    id: uuid.UUID
    kind: str
    key: str
    version: int
    effective_from: date
    data: dict[str, Any]
    author: str
    reason: str
    created_at: datetime

    @classmethod
    def of(cls, version: PolicyVersion) -> PolicyVersionRead:
        return cls.model_validate(version, from_attributes=True)


class PolicyVersionCreate(BaseModel):
    """A new version: the whole document, when it takes effect and why."""

    data: dict[str, Any]
    effective_from: date
    reason: str = Field(min_length=2, max_length=200)


class RegionPolicyRead(BaseModel):
    """The merged policy in force for a region and the version it comes from."""

    region_code: str
    policy: dict[str, Any]
    policy_key: str
    policy_version: int


PolicyKind = Literal["region", "zone", "scheme", "calendar"]
