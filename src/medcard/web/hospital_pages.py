"""Console pages for a hospital's card settings (R-CARD-08…10, R-ID-06, R-ID-08): the list,
and one hospital's form. Amounts are typed in yuan and stored in fen."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from medcard.deps import SessionDep, require_role
from medcard.errors import MedCardError
from medcard.hospital import service
from medcard.hospital.errors import AmountMalformed
from medcard.hospital.rules import parse_yuan
from medcard.kit.money import format_yuan
from medcard.models import Hospital, StaffUser
from medcard.web.render import error_view, language, page

router = APIRouter(prefix="/console/hospitals", include_in_schema=False)
AdminDep = Annotated[StaffUser, Depends(require_role())]
YuanForm = Annotated[str, Form(max_length=16)]
CheckboxForm = Annotated[str | None, Form(max_length=8)]


def _form_values(hospital: Hospital) -> dict[str, object]:
    return {
        "physical_card_fee": format_yuan(hospital.physical_card_fee_fen),
        "deposit_required": hospital.deposit_required,
        "deposit_min": format_yuan(hospital.deposit_min_fen),
        "credit_enabled": hospital.credit_enabled,
        "credit_limit": format_yuan(hospital.credit_limit_fen),
        "requires_kiosk_activation": hospital.requires_kiosk_activation,
        "foreigner_insurance": hospital.foreigner_insurance,
    }


def _fen(text: str, field: str) -> int:
    fen = parse_yuan(text)
    if fen is None:
        raise AmountMalformed(field=field)
    return fen


@router.get("", response_class=HTMLResponse)
async def hospitals(request: Request, session: SessionDep, staff: AdminDep) -> Response:
    rows = await service.visible_hospitals(session, staff=staff)
    return page(request, "console/hospitals.html", {"staff": staff, "hospitals": rows})


@router.get("/{hospital_id}", response_class=HTMLResponse)
async def hospital_form(
    request: Request,
    session: SessionDep,
    staff: AdminDep,
    hospital_id: uuid.UUID,
    saved: Annotated[bool, Query()] = False,
) -> Response:
    hospital = await service.hospital_for_staff(session, staff=staff, hospital_id=hospital_id)
    context = {"staff": staff, "hospital": hospital, "values": _form_values(hospital), "saved": saved}
    return page(request, "console/hospital.html", context)


@router.post("/{hospital_id}", response_class=HTMLResponse)
async def hospital_save(
    request: Request,
    session: SessionDep,
    staff: AdminDep,
    hospital_id: uuid.UUID,
    physical_card_fee: YuanForm,
    deposit_min: YuanForm,
    credit_limit: YuanForm,
    deposit_required: CheckboxForm = None,
    credit_enabled: CheckboxForm = None,
    requires_kiosk_activation: CheckboxForm = None,
    foreigner_insurance: CheckboxForm = None,
) -> Response:
    hospital = await service.hospital_for_staff(session, staff=staff, hospital_id=hospital_id)
    typed = {
        "physical_card_fee": physical_card_fee,
        "deposit_required": deposit_required is not None,
        "deposit_min": deposit_min,
        "credit_enabled": credit_enabled is not None,
        "credit_limit": credit_limit,
        "requires_kiosk_activation": requires_kiosk_activation is not None,
        "foreigner_insurance": foreigner_insurance is not None,
    }
    try:
        changes = {
            "physical_card_fee_fen": _fen(physical_card_fee, "physical_card_fee_fen"),
            "deposit_required": typed["deposit_required"],
            "deposit_min_fen": _fen(deposit_min, "deposit_min_fen"),
            "credit_enabled": typed["credit_enabled"],
            "credit_limit_fen": _fen(credit_limit, "credit_limit_fen"),
            "requires_kiosk_activation": typed["requires_kiosk_activation"],
            "foreigner_insurance": typed["foreigner_insurance"],
        }
        await service.update_settings(session, staff=staff, hospital=hospital, changes=changes)
    except MedCardError as error:
        context = {"staff": staff, "hospital": hospital, "values": typed, "error": error_view(error, language(request))}
        return page(request, "console/hospital.html", context, status_code=error.status)
    return RedirectResponse(f"/console/hospitals/{hospital.id}?saved=1", status_code=303)
