"""Dependency-injection aliases shared by every router."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.auth.service import Client, authenticate, patient_account
from medcard.codes.gateway import CodeGateway
from medcard.config import Settings
from medcard.db import unit_of_work
from medcard.devices.service import require_step_up
from medcard.errors import Forbidden, NotAuthenticated
from medcard.models import Account, AuthSession, StaffUser

PATIENT_COOKIE = "medcard_session"
STAFF_COOKIE = "medcard_staff"
DEVICE_COOKIE = "medcard_device"
DEVICE_HEADER = "x-device-key"


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


# The dependencies below are ``async def`` even where they never await: FastAPI runs a plain
# ``def`` dependency in a worker thread, one thread hop per dependency per request.


async def get_settings(request: Request) -> Settings:
    return settings_of(request)


async def get_adapters(request: Request) -> Adapters:
    adapters: Adapters = request.app.state.adapters
    return adapters


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """The request's unit of work: commits once after the handler, or rolls back."""
    async with unit_of_work(request.app.state.sessions) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
AdaptersDep = Annotated[Adapters, Depends(get_adapters)]
# scope="function": the unit of work commits before the response leaves, so a client that
# follows a redirect (or retries) never reads state older than the answer it was given.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def _token(request: Request, cookie: str) -> str | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip() or None
    return request.cookies.get(cookie)


def required_token(request: Request, cookie: str) -> str:
    token = _token(request, cookie)
    if not token:
        raise NotAuthenticated()
    return token


async def patient_token(request: Request) -> str:
    """The patient's bearer token (or cookie), unchecked: the code gateway checks a batch of them
    in one statement."""
    return required_token(request, PATIENT_COOKIE)


async def staff_token(request: Request) -> str:
    """The staff member's bearer token (or cookie), unchecked (see :func:`patient_token`)."""
    return required_token(request, STAFF_COOKIE)


def gateway_of(request: Request) -> CodeGateway:
    """The app's code gateway (the hot routes read it directly: one dependency less to solve)."""
    gateway: CodeGateway = request.app.state.code_gateway
    return gateway


def model_response(answer: BaseModel) -> Response:
    """A hot route's answer serialised once by pydantic (the route's ``response_model`` still
    documents it): FastAPI would validate the model again before serialising it."""
    return Response(answer.model_dump_json(), media_type="application/json")


async def get_code_gateway(request: Request) -> CodeGateway:
    return gateway_of(request)


PatientTokenDep = Annotated[str, Depends(patient_token)]
StaffTokenDep = Annotated[str, Depends(staff_token)]
CodeGatewayDep = Annotated[CodeGateway, Depends(get_code_gateway)]


async def current_auth_session(request: Request, session: SessionDep) -> AuthSession:
    """The patient's login session (bearer token or cookie)."""
    token = _token(request, PATIENT_COOKIE)
    auth = await authenticate(session, token, with_holder=True) if token else None
    if auth is None or auth.account_id is None:
        raise NotAuthenticated()
    return auth


async def current_account(
    request: Request, session: SessionDep, auth: Annotated[AuthSession, Depends(current_auth_session)]
) -> Account:
    """The logged-in patient account; frozen accounts are refused, deleted ones are logged out.
    Pages read its elder mode (R-A11Y-01) from ``request.state.elder_mode``."""
    account = patient_account(await session.get(Account, auth.account_id))
    request.state.elder_mode = account.elder_mode  # read now: a rolled-back session expires the row
    return account


async def current_staff_session(request: Request, session: SessionDep) -> AuthSession:
    """The staff member's login session (bearer token or cookie)."""
    token = _token(request, STAFF_COOKIE)
    auth = await authenticate(session, token, with_holder=True) if token else None
    if auth is None or auth.staff_id is None:
        raise NotAuthenticated()
    return auth


async def current_staff(
    request: Request, session: SessionDep, auth: Annotated[AuthSession, Depends(current_staff_session)]
) -> StaffUser:
    """The logged-in, active staff user (pages read it from ``request.state.staff`` for the
    console's navigation bar)."""
    staff = await session.get(StaffUser, auth.staff_id)
    if staff is None or not staff.active:
        raise NotAuthenticated()
    request.state.staff = (staff.role, staff.display_name)
    return staff


async def stepped_up_account(
    account: Annotated[Account, Depends(current_account)], auth: Annotated[AuthSession, Depends(current_auth_session)]
) -> Account:
    """The logged-in patient, for a sensitive action: a session opened by an abnormal login
    (new device, new region, impossible travel) is refused until it steps up (R-SEC-04/06)."""
    require_step_up(auth)
    return account


AccountDep = Annotated[Account, Depends(current_account)]
SteppedUpAccountDep = Annotated[Account, Depends(stepped_up_account)]
PatientSessionDep = Annotated[AuthSession, Depends(current_auth_session)]
StaffSessionDep = Annotated[AuthSession, Depends(current_staff_session)]
StaffDep = Annotated[StaffUser, Depends(current_staff)]


def require_role(*roles: str) -> Callable[..., Coroutine[Any, Any, StaffUser]]:
    """A dependency that lets through staff with one of ``roles`` (admin always passes)."""

    async def dependency(staff: StaffDep) -> StaffUser:
        if staff.role != "admin" and staff.role not in roles:
            raise Forbidden()
        return staff

    return dependency


async def client_ip(request: Request) -> str:
    """The caller's address (see :func:`address_of`)."""
    return address_of(request)


def address_of(request: Request) -> str:
    """The caller's address; behind a configured reverse proxy, the nearest address in
    ``X-Forwarded-For`` that is not one of our proxies."""
    peer = request.client.host if request.client else "0.0.0.0"  # noqa: S104 - a label, not a bind
    trusted = set(settings_of(request).trusted_proxies)
    if peer not in trusted:
        return peer
    forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",") if part.strip()]
    for address in reversed(forwarded):
        if address not in trusted:
            return address[:45]
    return peer


ClientIpDep = Annotated[str, Depends(client_ip)]


async def login_client(request: Request) -> Client:
    """Address, browser and device key (cookie, or ``X-Device-Key`` for API clients) of a login."""
    return Client(
        ip=address_of(request),
        user_agent=request.headers.get("user-agent", ""),
        device_key=request.headers.get(DEVICE_HEADER) or request.cookies.get(DEVICE_COOKIE),
    )


LoginClientDep = Annotated[Client, Depends(login_client)]


def set_device_cookie(response: Response, device_key: str, settings: Settings) -> None:
    """Keep the device key in the browser for a year (HttpOnly: scripts never see it)."""
    response.set_cookie(
        DEVICE_COOKIE,
        device_key,
        max_age=365 * 86400,
        httponly=True,
        samesite="lax",
        secure=settings.environment == "production",
    )
