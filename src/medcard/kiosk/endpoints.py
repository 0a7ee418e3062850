"""Kiosk routes (自助机): staff with the kiosk role (or an administrator) act on cards of their
hospital only; a card of another hospital answers 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from medcard.deps import AdaptersDep, SessionDep, SettingsDep, require_role
from medcard.kiosk import service
from medcard.kiosk.schemas import (
    ActivationRequest,
    CardAtKiosk,
    IssueResult,
    PhysicalCardIssue,
    ScanRequest,
    ScanResult,
    ServiceRequestBody,
    ServiceRequestRead,
)
from medcard.models import StaffUser

router = APIRouter(prefix="/kiosk", tags=["kiosk"])
KioskStaffDep = Annotated[StaffUser, Depends(require_role("kiosk"))]


@router.post("/scan", response_model=ScanResult, summary="Read a scanned e-card display QR")
async def scan(body: ScanRequest, session: SessionDep, settings: SettingsDep, staff: KioskStaffDep) -> ScanResult:
    view = await service.scan(session, staff=staff, settings=settings, text=body.code)
    return ScanResult.of(view)


@router.post(
    "/physical-cards", response_model=IssueResult, status_code=201, summary="Issue a physical card (R-CARD-08)"
)
async def issue_physical_card(
    body: PhysicalCardIssue, session: SessionDep, settings: SettingsDep, staff: KioskStaffDep, adapters: AdaptersDep
) -> IssueResult:
    issuance = await service.issue_physical_card(
        session,
        staff=staff,
        settings=settings,
        text=body.code,
        reason=body.reason,
        fee_payment=body.fee_payment,
        adapters=adapters,
    )
    return IssueResult.of(issuance)


@router.post("/activate", response_model=CardAtKiosk, summary="Activate a card with the original ID card (R-ID-06)")
async def activate(
    body: ActivationRequest, session: SessionDep, settings: SettingsDep, staff: KioskStaffDep
) -> CardAtKiosk:
    card = await service.activate(
        session, staff=staff, settings=settings, text=body.code, document_number=body.document_number
    )
    return CardAtKiosk.of(card)


@router.post(
    "/services/{service_name}",
    response_model=ServiceRequestRead,
    status_code=201,
    summary="Request a service that needs the physical card (R-CARD-11)",
    description="`service_name`: `print_records`, `special_exam_registration` or `print_insurance_fee_list`.",
)
async def request_service(
    service_name: Annotated[str, Path(max_length=32)],
    body: ServiceRequestBody,
    session: SessionDep,
    settings: SettingsDep,
    staff: KioskStaffDep,
) -> ServiceRequestRead:
    request = await service.request_service(
        session, staff=staff, settings=settings, text=body.code, service=service_name
    )
    return ServiceRequestRead.model_validate(request)
