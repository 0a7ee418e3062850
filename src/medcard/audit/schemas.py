"""Audit rows as staff see them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    at: datetime
    actor_kind: str
    actor_id: str
    actor_label: str
    action: str
    subject_kind: str
    subject_id: str
    result: str
    hospital_id: uuid.UUID | None
    details: dict[str, Any]
