"""Device routes (API): bound devices, unbinding, WebAuthn registration and step-up."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter

from medcard.auth.service import actor_for_account
from medcard.deps import AccountDep, PatientSessionDep, SessionDep, SettingsDep, SteppedUpAccountDep
from medcard.devices import service
from medcard.devices.schemas import DeviceRead, StepUpRead, VerificationStepUp, WebAuthnResponse

router = APIRouter(prefix="/devices", tags=["devices"])


@router.get("", response_model=list[DeviceRead], summary="My bound devices (R-SEC-04)")
async def list_devices(session: SessionDep, account: AccountDep, auth: PatientSessionDep) -> list[DeviceRead]:
    devices = await service.devices_of(session, account)
    return [DeviceRead.of(device, current_device_id=auth.device_id) for device in devices]


@router.post("/{device_id}/unbind", status_code=204, summary="Unbind a device; its sessions end (step-up needed)")
async def unbind(device_id: uuid.UUID, session: SessionDep, account: SteppedUpAccountDep) -> None:
    await service.unbind(session, account=account, device_id=device_id, actor=actor_for_account(account))


@router.get("/step-up", response_model=StepUpRead, summary="Does this login need a step-up? (R-SEC-06)")
async def step_up_state(auth: PatientSessionDep, account: AccountDep) -> StepUpRead:
    return StepUpRead.of(auth)


@router.post("/step-up/verification", response_model=StepUpRead, summary="Step up with a fresh identity verification")
async def step_up_with_verification(
    body: VerificationStepUp, session: SessionDep, account: AccountDep, auth: PatientSessionDep
) -> StepUpRead:
    await service.step_up_with_verification(
        session, account=account, auth=auth, verification_id=body.verification_id, actor=actor_for_account(account)
    )
    return StepUpRead.of(auth)


@router.post("/webauthn/registration/options", summary="Options to register this device's fingerprint / face ID")
async def registration_options(
    session: SessionDep, account: AccountDep, auth: PatientSessionDep, settings: SettingsDep
) -> dict[str, Any]:
    return await service.registration_options(session, account=account, auth=auth, settings=settings)


@router.post("/webauthn/registration", status_code=201, summary="Register this device's platform authenticator")
async def register(
    body: WebAuthnResponse, session: SessionDep, account: AccountDep, auth: PatientSessionDep, settings: SettingsDep
) -> dict[str, str]:
    credential = await service.register(
        session,
        account=account,
        auth=auth,
        credential=body.credential,
        settings=settings,
        actor=actor_for_account(account),
    )
    return {"credential_id": credential.credential_id}


@router.post("/step-up/webauthn/options", summary="Options to step up with this device's fingerprint / face ID")
async def authentication_options(
    session: SessionDep, account: AccountDep, auth: PatientSessionDep, settings: SettingsDep
) -> dict[str, Any]:
    return await service.authentication_options(session, account=account, auth=auth, settings=settings)


@router.post("/step-up/webauthn", response_model=StepUpRead, summary="Step up with a WebAuthn assertion (R-SEC-04)")
async def step_up_with_webauthn(
    body: WebAuthnResponse, session: SessionDep, account: AccountDep, auth: PatientSessionDep, settings: SettingsDep
) -> StepUpRead:
    await service.authenticate(
        session,
        account=account,
        auth=auth,
        credential=body.credential,
        settings=settings,
        actor=actor_for_account(account),
    )
    return StepUpRead.of(auth)
