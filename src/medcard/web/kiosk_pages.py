"""Kiosk pages (自助机): big type, one text field the QR scanner types into, then the card
holder, the hospital's card settings, "issue physical card", in-person activation (R-ID-06)
and the services that need the physical card (R-CARD-11). Same service functions as the API.

The kiosk services refuse before they change anything (the one refusal that keeps its audit
row is raised with ``keep_changes``), so a page may catch a refusal and still commit.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from medcard.config import Settings
from medcard.db import attempt
from medcard.deps import AdaptersDep, SessionDep, SettingsDep, require_role
from medcard.errors import MedCardError, present
from medcard.hospital.service import hospital_for_staff
from medcard.kiosk import rules, service
from medcard.kiosk.service import KioskCard
from medcard.models import Hospital, StaffUser
from medcard.settlement.card_fee import FeePayment
from medcard.web.render import error_view, language, page

router = APIRouter(prefix="/kiosk", include_in_schema=False)
KioskStaffDep = Annotated[StaffUser, Depends(require_role("kiosk"))]
CodeForm = Annotated[str, Form(max_length=512)]

REASON_LABELS = {
    "lost": ("遗失", "Lost"),
    "damaged": ("损坏", "Damaged"),
    "details_changed": ("信息变更", "Details changed"),
    "other": ("其他", "Other"),
}
STATUS_LABELS = {
    "pending_activation": ("待激活", "Pending activation"),
    "active": ("正常", "Active"),
    "frozen": ("已冻结", "Frozen"),
    "cancelled": ("已注销", "Cancelled"),
}


async def _home_hospital(session: SessionDep, staff: StaffUser) -> Hospital | None:
    if staff.hospital_id is None:
        return None
    return await hospital_for_staff(session, staff=staff, hospital_id=staff.hospital_id)


def _kiosk(
    request: Request,
    *,
    staff: StaffUser,
    hospital: Hospital | None,
    view: KioskCard | None = None,
    code: str = "",
    status_code: int = 200,
    **context: Any,
) -> HTMLResponse:
    values = {
        "staff": staff,
        "hospital": view.card.hospital if view else hospital,
        "view": view,
        "code": code if view else "",
        "services": rules.SERVICES,
        "reasons": REASON_LABELS,
        "status_labels": STATUS_LABELS,
        **context,
    }
    return page(request, "kiosk/index.html", values, status_code=status_code)


async def _refused(
    request: Request, session: SessionDep, settings: Settings, staff: StaffUser, code: str, error: MedCardError | None
) -> HTMLResponse:
    """The kiosk page with the refusal on top and, when the code still reads, the card below."""
    error = present(error, "refusal")  # attempt() returns an error whenever it returns no result
    view, _ = await attempt(session, lambda: service.scan(session, staff=staff, settings=settings, text=code))
    hospital = await _home_hospital(session, staff)
    return _kiosk(
        request,
        staff=staff,
        hospital=hospital,
        view=view,
        code=code,
        error=error_view(error, language(request)),
        status_code=error.status,
    )


@router.get("", response_class=HTMLResponse)
async def kiosk_home(request: Request, session: SessionDep, staff: KioskStaffDep) -> Response:
    return _kiosk(request, staff=staff, hospital=await _home_hospital(session, staff))


@router.post("/scan", response_class=HTMLResponse)
async def kiosk_scan(
    request: Request, session: SessionDep, settings: SettingsDep, staff: KioskStaffDep, code: CodeForm = ""
) -> Response:
    view, error = await attempt(session, lambda: service.scan(session, staff=staff, settings=settings, text=code))
    if view is None:
        return await _refused(request, session, settings, staff, code, error)
    return _kiosk(request, staff=staff, hospital=None, view=view, code=code)


@router.post("/physical-cards", response_class=HTMLResponse)
async def kiosk_issue(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    staff: KioskStaffDep,
    adapters: AdaptersDep,
    code: CodeForm = "",
    reason: Annotated[rules.ReissueReason | None, Form()] = None,
    fee_payment: Annotated[FeePayment | None, Form()] = None,
) -> Response:
    """Issue the card once its fee is settled: paid (channel, deposit) or deferred to the
    window, as the patient chose on the kiosk (R-CARD-08)."""
    issuance, error = await attempt(
        session,
        lambda: service.issue_physical_card(
            session,
            staff=staff,
            settings=settings,
            text=code,
            reason=reason,
            fee_payment=fee_payment,
            adapters=adapters,
        ),
    )
    if issuance is None:
        return await _refused(request, session, settings, staff, code, error)
    return RedirectResponse(f"/kiosk/physical-cards/{issuance.physical_card.id}", status_code=303)


@router.get("/physical-cards/{physical_card_id}", response_class=HTMLResponse)
async def kiosk_issued(
    request: Request, session: SessionDep, staff: KioskStaffDep, physical_card_id: uuid.UUID
) -> Response:
    """制卡成功: serial, fee and the card it replaced (a reload shows it again, never issues)."""
    issuance = await service.issuance_for_staff(session, staff=staff, physical_card_id=physical_card_id)
    context = {"staff": staff, "issuance": issuance, "hospital": issuance.card.hospital, "reasons": REASON_LABELS}
    return page(request, "kiosk/issued.html", context)


@router.post("/activate", response_class=HTMLResponse)
async def kiosk_activate(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    staff: KioskStaffDep,
    code: CodeForm = "",
    document_number: Annotated[str, Form(max_length=32)] = "",
) -> Response:
    async def activate_then_scan() -> KioskCard:
        await service.activate(session, staff=staff, settings=settings, text=code, document_number=document_number)
        return await service.scan(session, staff=staff, settings=settings, text=code)

    view, error = await attempt(session, activate_then_scan)
    if view is None:
        return await _refused(request, session, settings, staff, code, error)
    return _kiosk(request, staff=staff, hospital=None, view=view, code=code, notice="activated")


@router.post("/services/{service_name}", response_class=HTMLResponse)
async def kiosk_service_request(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    staff: KioskStaffDep,
    service_name: Annotated[str, Path(max_length=32)],
    code: CodeForm = "",
) -> Response:
    async def request_then_scan() -> KioskCard:
        await service.request_service(session, staff=staff, settings=settings, text=code, service=service_name)
        return await service.scan(session, staff=staff, settings=settings, text=code)

    view, error = await attempt(session, request_then_scan)
    if view is None:
        return await _refused(request, session, settings, staff, code, error)
    requested = rules.SERVICES[service_name]
    return _kiosk(request, staff=staff, hospital=None, view=view, code=code, notice="service", requested=requested)
