"""Pages shared by every flow: patient login and home, language switch, staff console login and audit."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode, urlparse

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from medcard.account.rules import needs_consent
from medcard.audit.labels import ACTION_LABELS, action_label, record_link
from medcard.audit.repository import AuditRepository
from medcard.auth import service as auth_service
from medcard.auth.errors import OAuthCodeRejected
from medcard.card.qr import CARD_QR
from medcard.db import attempt
from medcard.deps import (
    PATIENT_COOKIE,
    STAFF_COOKIE,
    AccountDep,
    AdaptersDep,
    LoginClientDep,
    PatientSessionDep,
    SessionDep,
    SettingsDep,
    StaffDep,
    StaffSessionDep,
    require_role,
    set_device_cookie,
)
from medcard.errors import present, retry_after_header
from medcard.i18n import language_of, translate
from medcard.insurance.service import scheme_names
from medcard.kit.crypto import random_token
from medcard.models import StaffUser
from medcard.web.render import LANG_COOKIE, error_view, language, page

router = APIRouter(include_in_schema=False)
OAUTH_STATE_COOKIE = "medcard_oauth_state"
NEXT_COOKIE = "medcard_next"
"""Where the patient was when the session expired (a same-site path), for after the login."""


def _safe_next(target: str | None, default: str) -> str:
    """Only same-site relative paths, so the switch cannot be used as an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//") or urlparse(target).netloc:
        return default
    return target


def _set_cookie(response: Response, name: str, value: str, *, hours: int, secure: bool) -> None:
    response.set_cookie(name, value, max_age=hours * 3600, httponly=True, samesite="lax", secure=secure)


@router.get("/", response_class=HTMLResponse)
async def index() -> Response:
    return RedirectResponse("/me", status_code=303)


@router.get("/lang/{code}")
async def switch_language(code: str, next: Annotated[str | None, Query()] = None) -> Response:
    response = RedirectResponse(_safe_next(next, "/me"), status_code=303)
    response.set_cookie(LANG_COOKIE, language_of(code), max_age=365 * 86400, samesite="lax")
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request,
    next: Annotated[str | None, Query(max_length=500)] = None,
    expired: Annotated[bool, Query()] = False,
    deleted: bool = False,
) -> Response:
    """The patient login; after an expired session it says so and returns to ``next``."""
    target = _safe_next(next, "")
    start = "/auth/start" + (f"?{urlencode({'next': target})}" if target else "")
    return page(request, "login.html", {"expired": expired, "start": start, "deleted": deleted})


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> Response:
    return RedirectResponse("/static/favicon.svg", status_code=301)


@router.get("/auth/start")
async def oauth_start(
    adapters: AdaptersDep, settings: SettingsDep, next: Annotated[str | None, Query(max_length=500)] = None
) -> Response:
    state = random_token(12)
    url = adapters.oauth.authorize_url(redirect_uri="/auth/callback", state=state)
    response = RedirectResponse(url, status_code=303)
    response.set_cookie(OAUTH_STATE_COOKIE, state, max_age=600, httponly=True, samesite="lax")
    target = _safe_next(next, "")
    if target:
        response.set_cookie(NEXT_COOKIE, target, max_age=600, httponly=True, samesite="lax")
    return response


@router.get("/auth/callback")
async def oauth_callback(
    request: Request,
    session: SessionDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
    client: LoginClientDep,
    code: Annotated[str, Query(max_length=512)],
    state: Annotated[str, Query(max_length=64)],
) -> Response:
    if state != request.cookies.get(OAUTH_STATE_COOKIE):
        raise OAuthCodeRejected()
    login = await auth_service.login_patient_with_code(
        session, oauth=adapters.oauth, code=code, client=client, settings=settings
    )
    # An abnormal login lands on the step-up page first (it can still go on to /me); a patient
    # who has not accepted the current agreements reads them first.
    back = _safe_next(request.cookies.get(NEXT_COOKIE), "/me")
    target = "/security/step-up" if login.step_up_reasons else back
    if needs_consent(login.account.consent_version):
        target = "/consent?" + urlencode({"next": target})
    response = RedirectResponse(target, status_code=303)
    _set_cookie(
        response, PATIENT_COOKIE, login.token, hours=settings.session_hours, secure=settings.environment == "production"
    )
    set_device_cookie(response, login.device_key, settings)
    response.delete_cookie(OAUTH_STATE_COOKIE)
    response.delete_cookie(NEXT_COOKIE)
    return response


@router.post("/logout")
async def logout_page(session: SessionDep, account: AccountDep, auth: PatientSessionDep) -> Response:
    await auth_service.logout(session, auth, actor=auth_service.actor_for_account(account))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(PATIENT_COOKIE)
    return response


@router.get("/me", response_class=HTMLResponse)
async def home(
    request: Request, session: SessionDep, account: AccountDep, auth: PatientSessionDep, settings: SettingsDep
) -> Response:
    """The health-card home: the current patient's card face with its QR (switch patient above it,
    R-FAM-01), the payment code one tap away, then the service grid (cards, insurance, payment
    code, family, security, bills)."""
    from medcard.card import rules as card_rules
    from medcard.card import service as card_service
    from medcard.card.repository import CardRepository
    from medcard.family import service as family
    from medcard.insurance.repository import InsuranceRepository

    if needs_consent(account.consent_version):  # a new version is asked even mid-session
        return RedirectResponse("/consent?" + urlencode({"next": "/me"}), status_code=303)
    values: dict[str, object] = {"account": account, "patients": [], "patient": None, "switch_next": "/me"}
    if account.person is None:
        cards = await CardRepository(session).for_account(account)
    else:
        patient = await family.current_patient(session, account=account, auth=auth)
        values["patients"] = await family.patient_choices(session, account=account, auth=auth)
        values["patient"] = patient
        cards = await CardRepository(session).for_account(account, person=patient)
        await family.note_proxy_access(session, account=account, patient_id=patient.id, subject=patient, what="cards")
    live = [c for c in cards if c.status != "cancelled"] or list(cards)
    current = live[0] if live else None
    binding = await InsuranceRepository(session).active_binding_for_card(current) if current else None
    values |= {
        "cards": cards,
        "current": current,
        "card_number": card_rules.format_card_number(current.card_number) if current else "",
        "code": card_service.display_code(current, settings=settings, title=translate(language(request), CARD_QR))
        if current
        else None,
        "binding": binding,
        "scheme": scheme_names(binding.scheme_code) if binding else None,
    }
    return page(request, "home.html", values)


@router.get("/console/login", response_class=HTMLResponse)
async def console_login_page(request: Request) -> Response:
    return page(request, "console/login.html")


@router.post("/console/login", response_class=HTMLResponse)
async def console_login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    client: LoginClientDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=128)],
) -> Response:
    staff_token, error = await attempt(
        session,
        lambda: auth_service.login_staff(
            session, username=username, password=password, client=client, settings=settings
        ),
    )
    if staff_token is None:
        error = present(error, "refusal")
        refused = page(
            request,
            "console/login.html",
            {"error": error_view(error, language(request)), "username": username},
            status_code=error.status,
        )
        refused.headers.update(retry_after_header(error))
        return refused
    staff, token = staff_token
    response = RedirectResponse("/kiosk" if staff.role == "kiosk" else "/console", status_code=303)
    _set_cookie(
        response, STAFF_COOKIE, token, hours=settings.session_hours, secure=settings.environment == "production"
    )
    return response


@router.post("/console/logout")
async def console_logout(session: SessionDep, staff: StaffDep, auth: StaffSessionDep) -> Response:
    await auth_service.logout(session, auth, actor=auth_service.actor_for_staff(staff))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(STAFF_COOKIE)
    return response


AdminDep = Annotated[StaffUser, Depends(require_role("admin"))]


@router.get("/console/login-locks", response_class=HTMLResponse)
async def login_locks_page(
    request: Request,
    staff: AdminDep,
    username: Annotated[str, Query(max_length=64)] = "",
    cleared: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """The unlock form; after an unlock (``cleared``) says whose lock and how many refusals."""
    return page(request, "console/login_locks.html", {"staff": staff, "username": username, "cleared": cleared})


@router.post("/console/login-locks", response_class=HTMLResponse)
async def login_locks_unlock(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    staff: AdminDep,
    username: Annotated[str, Form(min_length=1, max_length=64)],
    client_ip: Annotated[str, Form(max_length=45)] = "",
) -> Response:
    """R-SEC-06: an administrator ends a staff username's login lock (audited)."""
    cleared, error = await attempt(
        session,
        lambda: auth_service.unlock_staff_login(
            session, admin=staff, username=username, client_ip=client_ip.strip() or None, settings=settings
        ),
    )
    if error is None:
        return RedirectResponse(
            "/console/login-locks?" + urlencode({"username": username, "cleared": cleared}), status_code=303
        )
    values = {"staff": staff, "username": username, "client_ip": client_ip, "cleared": None}
    values["error"] = error_view(error, language(request))
    return page(request, "console/login_locks.html", values, status_code=error.status)


@router.get("/console", response_class=HTMLResponse)
async def console_home(request: Request, staff: StaffDep) -> Response:
    return page(request, "console/home.html", {"staff": staff})


AUDIT_PAGE_SIZE = 50


@router.get("/console/audit", response_class=HTMLResponse)
async def console_audit(
    request: Request,
    session: SessionDep,
    staff: Annotated[StaffUser, Depends(require_role("reviewer"))],
    action: Annotated[str | None, Query(max_length=48)] = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=100_000)] = 1,
) -> Response:
    """R-SEC-08: the audit log read by people: Chinese action names (English second), 50 rows a
    page in a stable order, and a link from each row to its record where the reader may open it."""
    repository = AuditRepository(session)
    rows = await repository.page(
        offset=(page_number - 1) * AUDIT_PAGE_SIZE,
        limit=AUDIT_PAGE_SIZE + 1,
        action=action or None,
        hospital_id=staff.hospital_id,
    )
    lang = language(request)
    events = [
        {
            "event": event,
            "label": action_label(event.action, lang),
            "link": record_link(event.subject_kind, str(event.subject_id), event.details, staff.role),
        }
        for event in rows[:AUDIT_PAGE_SIZE]
    ]
    query = {"action": action} if action else {}
    values = {
        "staff": staff,
        "events": events,
        "action": action or "",
        "actions": sorted(ACTION_LABELS.items()),
        "page_number": page_number,
        "previous_url": (
            "/console/audit?" + urlencode({**query, "page": page_number - 1}) if page_number > 1 else None
        ),
        "next_url": (
            "/console/audit?" + urlencode({**query, "page": page_number + 1}) if len(rows) > AUDIT_PAGE_SIZE else None
        ),
        "state": await repository.seal_state(),
    }
    return page(request, "console/audit.html", values)
