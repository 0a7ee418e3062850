"""Identity routes: real-name verification sessions, the account's identity, children (wards)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, File, Form, UploadFile

from medcard.deps import AccountDep, AdaptersDep, ClientIpDep, SessionDep, SettingsDep
from medcard.identity import service
from medcard.identity.schemas import (
    DocumentType,
    IdentityStatus,
    PersonRead,
    PhoneCodeRequest,
    PhoneConfirm,
    ProofKind,
    Relation,
    SmsSent,
    VerificationConfirm,
    VerificationRead,
    VerificationStart,
    WardCreate,
    WardRead,
)
from medcard.kit.clock import clock
from medcard.kit.masking import mask_phone

router = APIRouter(prefix="/identity", tags=["identity"])
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}


def _now() -> datetime:
    return clock.now().astimezone(UTC)


@router.post(
    "/sessions",
    status_code=201,
    response_model=VerificationRead,
    summary="Start a real-name verification",
    description=(
        "Claim an identity (resident ID, HK/Macau/Taiwan permit, or passport + nationality + permanent "
        "residence number) and choose a method (R-ID-01, R-ID-02). `phone` is required for `sms` and "
        "`bank_card`. A number that breaks its rule answers 400 with a stable code and the `field`."
    ),
    responses={400: PROBLEM, 409: PROBLEM},
)
async def start_session(
    body: VerificationStart, session: SessionDep, account: AccountDep, settings: SettingsDep
) -> VerificationRead:
    verification = await service.start(session, account=account, request=body, settings=settings)
    return VerificationRead.of(verification, now=_now())


@router.get(
    "/sessions/{verification_id}",
    response_model=VerificationRead,
    summary="Read one of my verification sessions",
    responses={404: PROBLEM},
)
async def read_session(verification_id: uuid.UUID, session: SessionDep, account: AccountDep) -> VerificationRead:
    verification = await service.get(session, account=account, verification_id=verification_id)
    return VerificationRead.of(verification, now=_now())


@router.post(
    "/sessions/{verification_id}/face",
    response_model=VerificationRead,
    summary="Submit a selfie for face liveness",
    description=(
        "Multipart upload `image` (JPEG/PNG, at most `max_upload_bytes`: 413 above, 415 for other types). "
        "At most 3 attempts per session (R-ID-03): a failed attempt answers 400 `FACE_CHECK_FAILED` with "
        "the attempts left, the last one 409 `FACE_ATTEMPTS_EXHAUSTED`. The image is passed to the identity "
        "authority and discarded, never stored (R-ID-04)."
    ),
    responses={400: PROBLEM, 409: PROBLEM, 410: PROBLEM, 413: PROBLEM, 415: PROBLEM},
)
async def submit_face(
    verification_id: uuid.UUID,
    image: Annotated[UploadFile, File(description="Selfie taken now (JPEG or PNG)")],
    session: SessionDep,
    account: AccountDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
) -> VerificationRead:
    data = await service.read_image(image, settings=settings, field="image")
    verification = await service.submit_face(
        session, account=account, verification_id=verification_id, image=data, adapters=adapters, settings=settings
    )
    return VerificationRead.of(verification, now=_now())


@router.post(
    "/sessions/{verification_id}/sms-code",
    status_code=202,
    response_model=SmsSent,
    summary="Text a one-time code to the session's phone",
    description="6 digits, single use, valid `sms_code_ttl_seconds`; rate-limited per phone and per IP (R-ID-05).",
    responses={409: PROBLEM, 410: PROBLEM, 429: PROBLEM},
)
async def send_sms_code(
    verification_id: uuid.UUID,
    session: SessionDep,
    account: AccountDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
    client_ip: ClientIpDep,
) -> SmsSent:
    code = await service.send_sms_code(
        session,
        account=account,
        verification_id=verification_id,
        client_ip=client_ip,
        adapters=adapters,
        settings=settings,
    )
    return SmsSent(sent_to=mask_phone(code.phone), expires_in_seconds=settings.sms_code_ttl_seconds)


@router.post(
    "/sessions/{verification_id}/confirm",
    response_model=VerificationRead,
    summary="Finish an sms, bank-card or insurance verification",
    description=(
        "`{method: sms, code}`, `{method: bank_card, bank_card_number}` (4-factor with the session's name, "
        "number and phone; the card number is Luhn-checked and never stored) or `{method: insurance}`. "
        "On success the account holds the verified person; a person already held by another account "
        "answers 409 `IDENTITY_HELD_BY_ANOTHER_ACCOUNT`."
    ),
    responses={400: PROBLEM, 409: PROBLEM, 410: PROBLEM},
)
async def confirm_session(
    verification_id: uuid.UUID,
    body: Annotated[VerificationConfirm, Body()],
    session: SessionDep,
    account: AccountDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
) -> VerificationRead:
    verification = await service.confirm(
        session, account=account, verification_id=verification_id, answer=body, adapters=adapters, settings=settings
    )
    return VerificationRead.of(verification, now=_now())


@router.get(
    "/me",
    response_model=IdentityStatus,
    summary="My real-name status",
    description=(
        "The verified person (numbers masked) and, per hospital, whether insurance settlement applies (R-ID-08)."
    ),
)
async def my_identity(session: SessionDep, account: AccountDep) -> IdentityStatus:
    return await service.status(session, account=account)


@router.post(
    "/phone/code",
    status_code=202,
    response_model=SmsSent,
    summary="Text a code to the phone I want to add",
    description=(
        "A verified account adds or changes its phone (binding the insurance e-voucher needs one, R-INS-01): "
        "6-digit code, single use, rate-limited per phone and per IP (R-ID-05)."
    ),
    responses={403: PROBLEM, 429: PROBLEM},
)
async def send_phone_code(
    body: PhoneCodeRequest,
    session: SessionDep,
    account: AccountDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
    client_ip: ClientIpDep,
) -> SmsSent:
    code = await service.send_phone_code(
        session, account=account, phone=body.phone, client_ip=client_ip, adapters=adapters, settings=settings
    )
    return SmsSent(sent_to=mask_phone(code.phone), expires_in_seconds=settings.sms_code_ttl_seconds)


@router.put(
    "/phone",
    response_model=PersonRead,
    summary="Confirm my phone with the texted code",
    responses={400: PROBLEM, 403: PROBLEM},
)
async def confirm_phone(
    body: PhoneConfirm, session: SessionDep, account: AccountDep, settings: SettingsDep
) -> PersonRead:
    person = await service.confirm_phone(session, account=account, phone=body.phone, code=body.code, settings=settings)
    return PersonRead.of(person)


@router.post(
    "/wards",
    status_code=201,
    response_model=WardRead,
    summary="Add a child under my guardianship",
    description=(
        "Multipart form: the child's document, `relation`, `proof_kind` and the `proof` photo (household "
        "register or birth certificate; passed to the identity authority, only its SM3 digest is kept). "
        "Under 14 the `birth_certificate_number` is mandatory and the guardian's identity is checked (R-ID-07)."
    ),
    responses={400: PROBLEM, 403: PROBLEM, 409: PROBLEM, 413: PROBLEM, 415: PROBLEM},
)
async def add_ward(
    session: SessionDep,
    account: AccountDep,
    adapters: AdaptersDep,
    settings: SettingsDep,
    document_number: Annotated[str, Form(min_length=1, max_length=40)],
    name: Annotated[str, Form(min_length=1, max_length=64)],
    relation: Annotated[Relation, Form()],
    proof_kind: Annotated[ProofKind, Form()],
    proof: Annotated[UploadFile, File(description="Photo of the household register or birth certificate")],
    document_type: Annotated[DocumentType, Form()] = "resident_id",
    nationality: Annotated[str | None, Form(max_length=8)] = None,
    residence_permit_number: Annotated[str | None, Form(max_length=40)] = None,
    birth_certificate_number: Annotated[str | None, Form(max_length=16)] = None,
) -> WardRead:
    ward = WardCreate(
        document_type=document_type,
        document_number=document_number,
        name=name,
        nationality=nationality or None,
        residence_permit_number=residence_permit_number or None,
        relation=relation,
        proof_kind=proof_kind,
        birth_certificate_number=birth_certificate_number or None,
    )
    data = await service.read_image(proof, settings=settings, field="proof")
    return await service.add_ward(session, account=account, ward=ward, proof=data, adapters=adapters, settings=settings)


@router.get("/wards", response_model=list[WardRead], summary="The children under my guardianship")
async def list_wards(session: SessionDep, account: AccountDep) -> list[WardRead]:
    return await service.wards(session, account=account)
