"""Audit log for administrators and reviewers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from medcard.audit.repository import AuditRepository
from medcard.audit.schemas import AuditEventRead
from medcard.deps import SessionDep, require_role
from medcard.models import StaffUser

router = APIRouter(prefix="/audit", tags=["staff"])


@router.get("", response_model=list[AuditEventRead], summary="Latest audit rows (admin, reviewer)")
async def list_events(
    session: SessionDep,
    staff: Annotated[StaffUser, Depends(require_role("reviewer"))],
    action: Annotated[str | None, Query(max_length=48)] = None,
    subject_id: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditEventRead]:
    events = await AuditRepository(session).latest(
        limit=limit, action=action, subject_id=subject_id, hospital_id=staff.hospital_id
    )
    return [AuditEventRead.model_validate(event) for event in events]
