"""Hospital card settings for staff: everyone sees their hospital, administrators edit."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends

from medcard.deps import SessionDep, StaffDep, require_role
from medcard.hospital import service
from medcard.hospital.schemas import HospitalRead, HospitalSettingsUpdate
from medcard.models import StaffUser

router = APIRouter(prefix="/hospitals", tags=["staff"])
AdminDep = Annotated[StaffUser, Depends(require_role())]


@router.get("", response_model=list[HospitalRead], summary="Hospitals and their card settings")
async def list_hospitals(session: SessionDep, staff: StaffDep) -> list[HospitalRead]:
    hospitals = await service.visible_hospitals(session, staff=staff)
    return [HospitalRead.model_validate(hospital) for hospital in hospitals]


@router.get("/{hospital_id}", response_model=HospitalRead, summary="One hospital's card settings")
async def get_hospital(hospital_id: uuid.UUID, session: SessionDep, staff: StaffDep) -> HospitalRead:
    hospital = await service.hospital_for_staff(session, staff=staff, hospital_id=hospital_id)
    return HospitalRead.model_validate(hospital)


@router.patch(
    "/{hospital_id}",
    response_model=HospitalRead,
    summary="Change card settings: fee, deposit, credit, kiosk activation, foreigner insurance (admin)",
)
async def update_hospital(
    hospital_id: uuid.UUID, body: HospitalSettingsUpdate, session: SessionDep, staff: AdminDep
) -> HospitalRead:
    hospital = await service.hospital_for_staff(session, staff=staff, hospital_id=hospital_id)
    hospital = await service.update_settings(
        session, staff=staff, hospital=hospital, changes=body.model_dump(exclude_none=True)
    )
    return HospitalRead.model_validate(hospital)
