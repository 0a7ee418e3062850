"""Insurance routes: bind and unbind the e-voucher, out-of-region filings, special-disease
applications; staff review queue and the binding dashboard."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Query, UploadFile, status

from medcard.auth.service import actor_for_staff
from medcard.deps import AccountDep, AdaptersDep, SessionDep, SettingsDep, require_role
from medcard.insurance import service
from medcard.insurance.repository import InsuranceRepository
from medcard.insurance.schemas import (
    ApplicationRead,
    BindingCreate,
    BindingRead,
    CategoryRead,
    DashboardRead,
    FilingCreate,
    FilingRead,
    Review,
    SchemeStatRead,
    SettlementCheck,
)
from medcard.kit.clock import clock
from medcard.kit.uploads import read_limited
from medcard.models import StaffUser

router = APIRouter(prefix="/insurance", tags=["insurance"])
staff_router = APIRouter(prefix="/staff/insurance", tags=["insurance", "staff"])
ReviewerDep = Annotated[StaffUser, Depends(require_role("reviewer"))]
AdminDep = Annotated[StaffUser, Depends(require_role("admin"))]


@router.post("/bindings", response_model=BindingRead, status_code=status.HTTP_201_CREATED)
async def bind(body: BindingCreate, session: SessionDep, account: AccountDep, adapters: AdaptersDep) -> BindingRead:
    """Bind the e-voucher to one of my cards (R-INS-01, R-INS-02); refusals per R-INS-09."""
    card = await service.card_of(session, account=account, card_id=body.card_id)
    request = service.BindRequest(
        card_number=body.card_number,
        scheme=body.scheme,
        region_code=body.region_code,
        client_version=body.client_version,
        face_image=service.decode_image(body.face_image),
    )
    binding = await service.bind(session, platform=adapters.insurance, account=account, card=card, request=request)
    return BindingRead.of(binding)


@router.get("/bindings", response_model=list[BindingRead])
async def my_bindings(session: SessionDep, account: AccountDep) -> list[BindingRead]:
    return [BindingRead.of(b) for b in await InsuranceRepository(session).bindings_of(account)]


@router.get("/bindings/{binding_id}", response_model=BindingRead)
async def get_binding(binding_id: uuid.UUID, session: SessionDep, account: AccountDep) -> BindingRead:
    return BindingRead.of(await service.binding_of(session, account=account, binding_id=binding_id))


@router.post("/bindings/{binding_id}/unbind", response_model=BindingRead)
async def unbind(binding_id: uuid.UUID, session: SessionDep, account: AccountDep) -> BindingRead:
    binding = await service.binding_of(session, account=account, binding_id=binding_id)
    return BindingRead.of(await service.unbind(session, account=account, binding=binding))


@router.get("/bindings/{binding_id}/settlement-check", response_model=SettlementCheck)
async def settlement_check(
    binding_id: uuid.UUID,
    session: SessionDep,
    account: AccountDep,
    region_code: Annotated[str, Query(pattern=r"^\d{6}$")],
) -> SettlementCheck:
    """May the fund pay for care in ``region_code`` today (R-INS-06)?"""
    binding = await service.binding_of(session, account=account, binding_id=binding_id)
    allowed = await service.fund_settlement_allowed(
        session, binding=binding, care_region_code=region_code, on=clock.now().date()
    )
    return SettlementCheck(care_region_code=region_code, fund_settlement_allowed=allowed)


@router.post("/filings", response_model=FilingRead, status_code=status.HTTP_201_CREATED)
async def create_filing(body: FilingCreate, session: SessionDep, account: AccountDep) -> FilingRead:
    """File for out-of-region care (R-INS-06)."""
    binding = await service.binding_of(session, account=account, binding_id=body.binding_id)
    filing = await service.file_out_of_region(
        session, account=account, binding=binding, destination=body.destination_region_code, reason=body.reason
    )
    return FilingRead.of(filing)


@router.get("/filings", response_model=list[FilingRead])
async def my_filings(session: SessionDep, account: AccountDep) -> list[FilingRead]:
    return [FilingRead.of(f) for f in await InsuranceRepository(session).filings_of(account)]


@router.post("/filings/{filing_id}/cancel", response_model=FilingRead)
async def cancel_filing(filing_id: uuid.UUID, session: SessionDep, account: AccountDep) -> FilingRead:
    filing = await service.filing_of(session, account=account, filing_id=filing_id)
    return FilingRead.of(await service.cancel_filing(session, account=account, filing=filing))


@router.post("/special-diseases", response_model=ApplicationRead, status_code=status.HTTP_201_CREATED)
async def apply_special_disease(
    session: SessionDep,
    account: AccountDep,
    binding_id: Annotated[uuid.UUID, Form()],
    disease_code: Annotated[str, Form(max_length=16)],
    materials: Annotated[list[UploadFile], File(description="PDF, JPEG or PNG; 1 to 6 files")],
    settings: SettingsDep,
) -> ApplicationRead:
    """Submit special-disease materials for review (R-INS-07): PDF / JPEG / PNG only (sniffed from
    the bytes, 415 `UNSUPPORTED_DOCUMENT_TYPE`), each within the upload limit (413), stored
    SM4-encrypted for the reviewer."""
    binding = await service.binding_of(session, account=account, binding_id=binding_id)
    limit = settings.max_upload_bytes
    files = [
        (upload.filename or "material", await read_limited(upload, max_bytes=limit, field="materials"))
        for upload in materials
    ]
    application = await service.apply_special_disease(
        session, account=account, binding=binding, disease_code=disease_code, files=files, max_bytes=limit
    )
    return ApplicationRead.of(application)


@router.get("/special-diseases", response_model=list[ApplicationRead])
async def my_applications(session: SessionDep, account: AccountDep) -> list[ApplicationRead]:
    return [ApplicationRead.of(a) for a in await InsuranceRepository(session).applications_of(account)]


@staff_router.get("/special-diseases", response_model=list[ApplicationRead])
async def review_queue(session: SessionDep, staff: ReviewerDep) -> list[ApplicationRead]:
    """Applications waiting for review: the reviewer's hospital's (all for platform staff)."""
    return [ApplicationRead.of(a) for a in await service.review_queue(session, staff=staff)]


@staff_router.post("/special-diseases/{application_id}/review", response_model=ApplicationRead)
async def review(application_id: uuid.UUID, body: Review, session: SessionDep, staff: ReviewerDep) -> ApplicationRead:
    application = await service.application_for_staff(session, staff=staff, application_id=application_id)
    reviewed = await service.review_special_disease(
        session,
        staff=staff,
        actor=actor_for_staff(staff),
        application=application,
        approve=body.approve,
        note=body.note,
    )
    return ApplicationRead.of(reviewed)


@staff_router.get("/dashboard", response_model=DashboardRead)
async def dashboard(session: SessionDep, _staff: AdminDep) -> DashboardRead:
    """Binding success by scheme and failures by category, from recorded attempts (R-OPS-01)."""
    stats, categories = await service.dashboard(session)
    return DashboardRead(
        by_scheme=[SchemeStatRead(**s.__dict__, success_percent=s.success_percent) for s in stats],
        failures_by_category=[CategoryRead(category=c, failures=n) for c, n in categories],
    )
