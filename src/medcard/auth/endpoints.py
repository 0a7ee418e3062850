"""Login routes (API). The pages log in through the same service functions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from medcard.auth import service
from medcard.auth.schemas import LoginResult, OAuthLogin, StaffLogin, StaffUnlock, StaffUnlockResult
from medcard.deps import (
    AccountDep,
    AdaptersDep,
    LoginClientDep,
    PatientSessionDep,
    SessionDep,
    SettingsDep,
    require_role,
    set_device_cookie,
)
from medcard.models import StaffUser

router = APIRouter(prefix="/auth", tags=["auth"])
AdminDep = Annotated[StaffUser, Depends(require_role("admin"))]


@router.post("/oauth", response_model=LoginResult, summary="Patient login with a messaging-app OAuth code")
async def oauth_login(
    body: OAuthLogin,
    response: Response,
    session: SessionDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
    client: LoginClientDep,
) -> LoginResult:
    login = await service.login_patient_with_code(
        session, oauth=adapters.oauth, code=body.code, client=client, settings=settings
    )
    set_device_cookie(response, login.device_key, settings)
    return LoginResult(
        token=login.token,
        subject_id=login.account.id,
        role="patient",
        device_key=login.device_key,
        step_up_required=list(login.step_up_reasons),
    )


@router.post(
    "/staff", response_model=LoginResult, summary="Staff login (cashier, kiosk, pharmacy, hotline, reviewer, admin)"
)
async def staff_login(
    body: StaffLogin, session: SessionDep, settings: SettingsDep, client: LoginClientDep
) -> LoginResult:
    staff, token = await service.login_staff(
        session, username=body.username, password=body.password, client=client, settings=settings
    )
    return LoginResult(token=token, subject_id=staff.id, role=staff.role)


@router.post("/logout", status_code=204, summary="End the patient's session")
async def logout(session: SessionDep, account: AccountDep, auth: PatientSessionDep) -> None:
    await service.logout(session, auth, actor=service.actor_for_account(account))


@router.post("/staff/unlock", response_model=StaffUnlockResult, summary="Admin: end a staff username's login lock")
async def unlock_staff(
    body: StaffUnlock, session: SessionDep, admin: AdminDep, settings: SettingsDep
) -> StaffUnlockResult:
    cleared = await service.unlock_staff_login(
        session, admin=admin, username=body.username, client_ip=body.client_ip, settings=settings
    )
    return StaffUnlockResult(username=body.username, cleared=cleared)
