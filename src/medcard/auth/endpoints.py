"""Login routes (API). The pages log in through the same service functions."""

from __future__ import annotations

from fastapi import APIRouter, Request

from medcard.adapters.oauth import OAuthCodeInvalid
from medcard.auth import service
from medcard.auth.errors import OAuthCodeRejected
from medcard.auth.schemas import LoginResult, OAuthLogin, StaffLogin
from medcard.deps import AccountDep, AdaptersDep, PatientSessionDep, SessionDep, SettingsDep

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/oauth", response_model=LoginResult, summary="Patient login with a messaging-app OAuth code")
async def oauth_login(
    body: OAuthLogin, request: Request, session: SessionDep, adapters: AdaptersDep, settings: SettingsDep
) -> LoginResult:
    try:
        identity = await adapters.oauth.exchange_code(body.code)
    except OAuthCodeInvalid as error:
        raise OAuthCodeRejected() from error
    account, token = await service.login_patient(
        session, identity=identity, user_agent=request.headers.get("user-agent", ""), hours=settings.session_hours
    )
    return LoginResult(token=token, subject_id=account.id, role="patient")


@router.post(
    "/staff", response_model=LoginResult, summary="Staff login (cashier, kiosk, pharmacy, hotline, reviewer, admin)"
)
async def staff_login(body: StaffLogin, request: Request, session: SessionDep, settings: SettingsDep) -> LoginResult:
    staff, token = await service.login_staff(
        session,
        username=body.username,
        password=body.password,
        user_agent=request.headers.get("user-agent", ""),
        hours=settings.session_hours,
    )
    return LoginResult(token=token, subject_id=staff.id, role=staff.role)


@router.post("/logout", status_code=204, summary="End the patient's session")
async def logout(session: SessionDep, account: AccountDep, auth: PatientSessionDep) -> None:
    await service.logout(session, auth, actor=service.actor_for_account(account))
