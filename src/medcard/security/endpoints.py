"""Security routes: payment password, freeze and reactivation, settings; hotline loss report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from medcard.auth.service import actor_for_account
from medcard.deps import (
    AccountDep,
    PatientSessionDep,
    SessionDep,
    SettingsDep,
    SteppedUpAccountDep,
    require_role,
)
from medcard.models import StaffUser
from medcard.security import service
from medcard.security.schemas import (
    LossReport,
    LossReportRead,
    PinCheckRequest,
    PinSet,
    Reactivation,
    RiskMonitorRead,
    SecurityRead,
    SecuritySettingsUpdate,
)

router = APIRouter(prefix="/security", tags=["security"])
HotlineDep = Annotated[StaffUser, Depends(require_role("hotline"))]
MonitorDep = Annotated[StaffUser, Depends(require_role("hotline", "reviewer"))]


@router.get("", response_model=SecurityRead, summary="My security state and settings")
async def get_security(session: SessionDep, account: AccountDep) -> SecurityRead:
    return SecurityRead.of(await service.profile_of(session, account))


@router.put("/pin", response_model=SecurityRead, summary="Set or reset the payment password (R-SEC-03)")
async def set_pin(
    body: PinSet, session: SessionDep, account: SteppedUpAccountDep, settings: SettingsDep
) -> SecurityRead:
    profile = await service.set_pin(
        session, account=account, pin=body.pin, settings=settings, verification_id=body.verification_id
    )
    return SecurityRead.of(profile)


@router.post("/pin/check", response_model=SecurityRead, summary="Check the payment password (5 tries, R-SEC-03)")
async def check_pin(
    body: PinCheckRequest, session: SessionDep, account: AccountDep, settings: SettingsDep
) -> SecurityRead:
    await service.check_pin(session, account=account, pin=body.pin, settings=settings, actor=actor_for_account(account))
    return SecurityRead.of(await service.profile_of(session, account))


@router.post("/freeze", response_model=SecurityRead, summary="Freeze from this device (R-SEC-05)")
async def freeze(session: SessionDep, account: AccountDep, auth: PatientSessionDep) -> SecurityRead:
    return SecurityRead.of(await service.freeze_self(session, account=account, current_session_id=auth.id))


@router.post("/reactivate", response_model=SecurityRead, summary="Unfreeze after re-verification (R-SEC-05)")
async def reactivate(
    body: Reactivation, session: SessionDep, account: AccountDep, auth: PatientSessionDep
) -> SecurityRead:
    profile = await service.reactivate(session, account=account, verification_id=body.verification_id, auth=auth)
    return SecurityRead.of(profile)


@router.put("/settings", response_model=SecurityRead, summary="Permission settings and limits (R-SEC-06/07)")
async def update_settings(
    body: SecuritySettingsUpdate, session: SessionDep, account: SteppedUpAccountDep
) -> SecurityRead:
    changes = body.model_dump(exclude_none=True)
    return SecurityRead.of(await service.update_settings(session, account=account, changes=changes))


@router.post("/loss-reports", response_model=LossReportRead, summary="Hotline: temporary loss report (R-SEC-05)")
async def report_loss(body: LossReport, session: SessionDep, staff: HotlineDep) -> LossReportRead:
    card = await service.report_loss(
        session,
        staff=staff,
        card_number=body.card_number,
        name=body.name,
        document_last4=body.document_last4,
        phone_last4=body.phone_last4,
    )
    return LossReportRead(card_number=card.card_number)


@router.get("/monitor", response_model=RiskMonitorRead, summary="Staff: real-time risk monitor (R-SEC-06)")
async def risk_monitor(session: SessionDep, staff: MonitorDep) -> RiskMonitorRead:
    """Velocity and limit refusals, wrong or locked PINs, abnormal and refused logins, freezes
    and suspected cloned authenticators, from the audit log; hospital staff see their hospital's
    rows and the patient-side ones (logins, self-freezes) that belong to no hospital."""
    return RiskMonitorRead.of(await service.risk_monitor(session, hospital_id=staff.hospital_id))
