"""Security pages: the patient's payment password, freeze / reactivation and permission
settings; the console's hotline loss report and audit-chain check. Same services as the API."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from medcard.audit import chain
from medcard.audit.repository import AuditRepository
from medcard.auth.service import actor_for_account
from medcard.card import service as card_service
from medcard.db import attempt
from medcard.deps import AccountDep, PatientSessionDep, SessionDep, SettingsDep, require_role
from medcard.devices import service as devices
from medcard.devices.regions import region_label
from medcard.devices.schemas import StepUpRead
from medcard.errors import MedCardError, present
from medcard.models import Account, AuthSession, StaffUser
from medcard.security import rules, service
from medcard.web.render import error_view, language, page

router = APIRouter(include_in_schema=False)
HotlineDep = Annotated[StaffUser, Depends(require_role("hotline"))]
AuditorDep = Annotated[StaffUser, Depends(require_role("reviewer"))]
MonitorDep = Annotated[StaffUser, Depends(require_role("hotline", "reviewer"))]

T = TypeVar("T")
REASON_LABELS = {
    "new_device": ("新设备登录", "a new device"),
    "new_region": ("异地登录", "a new region"),
    "impossible_travel": ("短时间内异地登录（不可能的行程）", "impossible travel since the last login"),
}
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
    request: Request,
    session: SessionDep,
    account: Account,
    auth: AuthSession,
    *,
    error: MedCardError | None = None,
    notice: str = "",
    reverified: str = "",
) -> Response:
    profile = await service.profile_of(session, account)
    lang = language(request)
    values: dict[str, Any] = {
        "profile": profile,
        "notice": notice,
        "bill_labels": BILL_LABELS,
        "scope_labels": SCOPE_LABELS,
        "reverified": reverified,
        "devices": await devices.devices_of(session, account),
        "current_device_id": auth.device_id,
        "region_label": lambda code: region_label(code, lang),
        "step_up": StepUpRead.of(auth),
        "has_authenticator": await devices.has_authenticator(session, account, auth),
    }
    if error is not None:
        values["error"] = error_view(error, language(request))
    return page(request, "security/index.html", values, status_code=error.status if error else 200)


@router.get("/security", response_class=HTMLResponse)
async def security_page(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    auth: PatientSessionDep,
    reverified: Annotated[str, Query(max_length=16)] = "",
    done: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """``reverified`` names the purpose of a re-verification the patient just came back from;
    ``done`` the change a POST just made (Post/Redirect/Get: a reload changes nothing again)."""
    shown = reverified if reverified in ("pin_reset", "reactivation") else ""
    notice = done if done in NOTICES else ""
    return await _security_page(request, session, account, auth, reverified=shown, notice=notice)


NOTICES = ("pin", "frozen", "reactivated", "settings", "unbound")


def _done(notice: str) -> Response:
    return RedirectResponse(f"/security?done={notice}", status_code=303)


async def _after_step_up(auth: AuthSession, operation: Callable[[], Awaitable[T]]) -> T:
    """Run a sensitive operation only in a session that needs no step-up (R-SEC-04/06)."""
    devices.require_step_up(auth)
    return await operation()


@router.post("/security/pin", response_class=HTMLResponse)
async def set_pin(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    auth: PatientSessionDep,
    settings: SettingsDep,
    pin: Annotated[str, Form(max_length=12)],
) -> Response:
    """Set, or reset with the latest fresh identity verification (the service checks freshness)."""
    verification_id = await service.latest_verification_id(session, account, purpose="pin_reset")
    _, error = await attempt(
        session,
        lambda: _after_step_up(
            auth,
            lambda: service.set_pin(
                session, account=account, pin=pin, settings=settings, verification_id=verification_id
            ),
        ),
    )
    if error is not None:
        return await _security_page(request, session, account, auth, error=error)
    return _done("pin")


@router.post("/security/freeze", response_class=HTMLResponse)
async def freeze(request: Request, session: SessionDep, account: AccountDep, auth: PatientSessionDep) -> Response:
    await service.freeze_self(session, account=account, current_session_id=auth.id)
    return _done("frozen")


@router.post("/security/reactivate", response_class=HTMLResponse)
async def reactivate(request: Request, session: SessionDep, account: AccountDep, auth: PatientSessionDep) -> Response:
    verification_id = await service.latest_verification_id(session, account, purpose="reactivation")
    _, error = await attempt(
        session,
        lambda: service.reactivate(session, account=account, verification_id=verification_id, auth=auth),
    )
    if error is not None:
        return await _security_page(request, session, account, auth, error=error)
    return _done("reactivated")


@router.post("/security/settings", response_class=HTMLResponse)
async def update_settings(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    auth: PatientSessionDep,
    bill_visibility: Annotated[str, Form(pattern="^(self|guardians|family)$")],
    family_scope: Annotated[str, Form(pattern="^(none|cards|cards_and_bills)$")],
) -> Response:
    changes: dict[str, object] = {"bill_visibility": bill_visibility, "family_scope": family_scope}
    _, error = await attempt(
        session,
        lambda: _after_step_up(auth, lambda: service.update_settings(session, account=account, changes=changes)),
    )
    if error is not None:
        return await _security_page(request, session, account, auth, error=error)
    return _done("settings")


@router.post("/security/devices/{device_id}/unbind", response_class=HTMLResponse)
async def unbind_device(
    request: Request, session: SessionDep, account: AccountDep, auth: PatientSessionDep, device_id: uuid.UUID
) -> Response:
    """Unbind a device (its sessions end, its fingerprint / face ID is revoked); needs step-up."""
    actor = actor_for_account(account)
    _, error = await attempt(
        session,
        lambda: _after_step_up(
            auth, lambda: devices.unbind(session, account=account, device_id=device_id, actor=actor)
        ),
    )
    if error is None and device_id == auth.device_id:
        return RedirectResponse("/login", status_code=303)
    if error is not None:
        return await _security_page(request, session, account, auth, error=error)
    return _done("unbound")


@router.get("/security/step-up", response_class=HTMLResponse)
async def step_up_page(
    request: Request,
    session: SessionDep,
    account: AccountDep,
    auth: PatientSessionDep,
    reverified: Annotated[str, Query(max_length=16)] = "",
) -> Response:
    """Second verification after an abnormal login: this device's fingerprint / face ID, or a
    fresh identity verification (face, SMS, …) started from here and coming back here."""
    return await _step_up_page(request, session, account, auth, reverified=reverified == "step_up")


async def _step_up_page(
    request: Request,
    session: SessionDep,
    account: Account,
    auth: AuthSession,
    *,
    error: MedCardError | None = None,
    reverified: bool = False,
) -> Response:
    lang = language(request)
    values: dict[str, Any] = {
        "reverified": reverified,
        "step_up": StepUpRead.of(auth),
        "has_authenticator": await devices.has_authenticator(session, account, auth),
        "region": region_label(auth.region, lang),
        "reason_labels": REASON_LABELS,
    }
    if error is not None:
        values["error"] = error_view(error, lang)
    return page(request, "security/step_up.html", values, status_code=error.status if error else 200)


@router.post("/security/step-up/verification", response_class=HTMLResponse)
async def step_up_with_verification(
    request: Request, session: SessionDep, account: AccountDep, auth: PatientSessionDep
) -> Response:
    """Fallback step-up: the latest identity verification, if fresh and done after this login."""
    verification_id = await service.latest_verification_id(session, account, purpose="step_up")
    actor = actor_for_account(account)
    _, error = await attempt(
        session,
        lambda: devices.step_up_with_verification(
            session, account=account, auth=auth, verification_id=verification_id, actor=actor
        ),
    )
    if error is not None:
        return await _step_up_page(request, session, account, auth, error=error)
    return RedirectResponse("/security/step-up", status_code=303)


@router.get("/console/security/loss-report", response_class=HTMLResponse)
async def loss_report_page(
    request: Request, session: SessionDep, staff: HotlineDep, placed: uuid.UUID | None = None
) -> Response:
    """The hotline form; after a report (``placed``: the card's id) says which card stopped."""
    card = await card_service.card_for_staff(session, staff=staff, card_id=placed) if placed else None
    return page(request, "console/security_loss.html", {"staff": staff, "placed": card})


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
    if error is None and card is not None:
        return RedirectResponse(f"/console/security/loss-report?placed={card.card_id}", status_code=303)
    values: dict[str, Any] = {
        "staff": staff,
        "placed": None,
        "error": error_view(present(error, "refusal"), language(request)),
    }
    return page(request, "console/security_loss.html", values, status_code=present(error, "refusal").status)


async def _chain_page(
    request: Request, session: SessionDep, staff: StaffUser, report: chain.ChainReport | None
) -> Response:
    repository = AuditRepository(session)
    values = {"staff": staff, "events": await repository.latest(limit=30), "report": report}
    return page(request, "console/security_chain.html", {**values, "state": await repository.seal_state()})


@router.get("/console/security/audit-chain", response_class=HTMLResponse)
async def audit_chain_page(
    request: Request, session: SessionDep, staff: AuditorDep, settings: SettingsDep, sealed: bool = False
) -> Response:
    """The chain's state; after a checkpoint (``sealed``) with the verification of what it sealed."""
    report = None
    if sealed:
        grace = timedelta(seconds=settings.audit_seal_grace_seconds)
        report = await chain.verify(session, secret=settings.secret_key, grace=grace)
    return await _chain_page(request, session, staff, report)


@router.post("/console/security/audit-chain", response_class=HTMLResponse)
async def audit_chain_verify(
    request: Request, session: SessionDep, staff: AuditorDep, settings: SettingsDep
) -> Response:
    grace = timedelta(seconds=settings.audit_seal_grace_seconds)
    # The auditor's button checks everything, as before; `medcard audit verify` starts at the newest checkpoint.
    report = await chain.verify(session, secret=settings.secret_key, grace=grace, full=True)
    return await _chain_page(request, session, staff, report)


@router.post("/console/security/audit-chain/checkpoint", response_class=HTMLResponse)
async def audit_chain_checkpoint(
    request: Request, session: SessionDep, staff: AuditorDep, settings: SettingsDep
) -> Response:
    """Seal pending rows and sign the head now (a scheduler runs ``medcard audit checkpoint`` periodically)."""
    await chain.seal_and_checkpoint(session, secret=settings.secret_key)
    return RedirectResponse("/console/security/audit-chain?sealed=1", status_code=303)


async def _monitor_values(session: SessionDep, staff: StaffUser) -> dict[str, Any]:
    monitor = await service.risk_monitor(session, hospital_id=staff.hospital_id)
    return {"staff": staff, "monitor": monitor, "kinds": rules.RISK_KINDS}


@router.get("/console/security/monitor", response_class=HTMLResponse)
async def risk_monitor_page(request: Request, session: SessionDep, staff: MonitorDep) -> Response:
    """Real-time risk monitor (风控监控，R-SEC-06); the panel refreshes itself every 10 seconds."""
    return page(request, "console/security_monitor.html", await _monitor_values(session, staff))


@router.get("/console/security/monitor/live", response_class=HTMLResponse)
async def risk_monitor_panel(request: Request, session: SessionDep, staff: MonitorDep) -> Response:
    return page(request, "console/_monitor_panel.html", await _monitor_values(session, staff))
