"""Security pages: the patient's payment password, freeze / reactivation and permission
settings; the console's hotline loss report and audit-chain check. Same services as the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response

from medcard.audit import chain
from medcard.audit.repository import AuditRepository
from medcard.db import attempt
from medcard.deps import AccountDep, PatientSessionDep, SessionDep, SettingsDep, require_role
from medcard.errors import MedCardError
from medcard.models import Account, StaffUser
from medcard.security import service
from medcard.web.render import error_view, language, page

router = APIRouter(include_in_schema=False)
HotlineDep = Annotated[StaffUser, Depends(require_role("hotline"))]
AuditorDep = Annotated[StaffUser, Depends(require_role("reviewer"))]

BILL_LABELS = {
    "self": ("仅本人", "Only me"),
    "guardians": ("本人及监护人", "Me and guardians"),
    "family": ("全部家庭成员", "All family members"),
}
SCOPE_LABELS = {
    "none": ("不共享", "Nothing"),
    "cards": ("共享就诊卡", "Cards"),
    "cards_and_bills": ("共享就诊卡和账单", "Cards and bills"),
}


async def _security_page(
    request: Request, session: SessionDep, account: Account, *, error: MedCardError | None = None, notice: str = ""
) -> Response:
    profile = await service.profile_of(session, account)
    values: dict[str, Any] = {
        "profile": profile,
        "notice": notice,
        "bill_labels": BILL_LABELS,
        "scope_labels": SCOPE_LABELS,
        "verification_id": await service.latest_verification_id(session, account),
    }
    if error is not None:
        values["error"] = error_view(error, language(request))
    return page(request, "security/index.html", values, status_code=error.status if error else 200)


@router.get("/security", response_class=HTMLResponse)
async def security_page(request: Request, session: SessionDep, account: AccountDep) -> Response:
    return await _security_page(request, session, account)


@router.post("/security/pin", response_class=HTMLResponse)
async def set_pin(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    settings: SettingsDep,
    pin: Annotated[str, Form(max_length=12)],
) -> Response:
    """Set, or reset with the latest fresh identity verification (the service checks freshness)."""
    verification_id = await service.latest_verification_id(session, account)
    _, error = await attempt(
        session,
        lambda: service.set_pin(session, account=account, pin=pin, settings=settings, verification_id=verification_id),
    )
    return await _security_page(request, session, account, error=error, notice="" if error else "pin")


@router.post("/security/freeze", response_class=HTMLResponse)
async def freeze(request: Request, session: SessionDep, account: AccountDep, auth: PatientSessionDep) -> Response:
    await service.freeze_self(session, account=account, current_session_id=auth.id)
    return await _security_page(request, session, account, notice="frozen")


@router.post("/security/reactivate", response_class=HTMLResponse)
async def reactivate(request: Request, session: SessionDep, account: AccountDep, auth: PatientSessionDep) -> Response:
    verification_id = await service.latest_verification_id(session, account)
    _, error = await attempt(
        session,
        lambda: service.reactivate(
            session, account=account, verification_id=verification_id, current_session_id=auth.id
        ),
    )
    return await _security_page(request, session, account, error=error, notice="" if error else "reactivated")


@router.post("/security/settings", response_class=HTMLResponse)
async def update_settings(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    bill_visibility: Annotated[str, Form(pattern="^(self|guardians|family)$")],
    family_scope: Annotated[str, Form(pattern="^(none|cards|cards_and_bills)$")],
) -> Response:
    await service.update_settings(
        session, account=account, changes={"bill_visibility": bill_visibility, "family_scope": family_scope}
    )
    return await _security_page(request, session, account, notice="settings")


@router.get("/console/security/loss-report", response_class=HTMLResponse)
async def loss_report_page(request: Request, staff: HotlineDep) -> Response:
    return page(request, "console/security_loss.html", {"staff": staff})


@router.post("/console/security/loss-report", response_class=HTMLResponse)
async def loss_report(
    request: Request,
    session: SessionDep,
    staff: HotlineDep,
    card_number: Annotated[str, Form(max_length=20)],
    name: Annotated[str, Form(max_length=64)],
    document_last4: Annotated[str, Form(max_length=4)],
    phone_last4: Annotated[str, Form(max_length=4)],
) -> Response:
    card, error = await attempt(
        session,
        lambda: service.report_loss(
            session,
            staff=staff,
            card_number=card_number,
            name=name,
            document_last4=document_last4,
            phone_last4=phone_last4,
        ),
    )
    values: dict[str, Any] = {"staff": staff, "placed": card}
    if error is not None:
        values["error"] = error_view(error, language(request))
    return page(request, "console/security_loss.html", values, status_code=error.status if error else 200)


async def _chain_page(
    request: Request, session: SessionDep, staff: StaffUser, report: chain.ChainReport | None
) -> Response:
    repository = AuditRepository(session)
    values = {"staff": staff, "events": await repository.latest(limit=30), "report": report}
    return page(request, "console/security_chain.html", {**values, "state": await repository.seal_state()})


@router.get("/console/security/audit-chain", response_class=HTMLResponse)
async def audit_chain_page(request: Request, session: SessionDep, staff: AuditorDep) -> Response:
    return await _chain_page(request, session, staff, None)


@router.post("/console/security/audit-chain", response_class=HTMLResponse)
async def audit_chain_verify(
    request: Request, session: SessionDep, staff: AuditorDep, settings: SettingsDep
) -> Response:
    grace = timedelta(seconds=settings.audit_seal_grace_seconds)
    report = await chain.verify(session, secret=settings.secret_key, grace=grace)
    return await _chain_page(request, session, staff, report)


@router.post("/console/security/audit-chain/checkpoint", response_class=HTMLResponse)
async def audit_chain_checkpoint(
    request: Request, session: SessionDep, staff: AuditorDep, settings: SettingsDep
) -> Response:
    """Seal pending rows and sign the head now (a scheduler runs ``medcard audit checkpoint`` periodically)."""
    await chain.seal_and_checkpoint(session, secret=settings.secret_key)
    grace = timedelta(seconds=settings.audit_seal_grace_seconds)
    report = await chain.verify(session, secret=settings.secret_key, grace=grace)
    return await _chain_page(request, session, staff, report)
