"""Payment codes for patients; redeem and verification-code check for cashier and pharmacy POS."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from medcard.codes import service
from medcard.codes.gateway import IssueCall, RedeemCall
from medcard.codes.schemas import (
    PaymentCodeRead,
    PaymentCodeRequest,
    PaymentCodeStatusRead,
    PinRetry,
    RedeemRequest,
    RedemptionRead,
    VerificationCheck,
    VerificationRead,
)
from medcard.deps import (
    PatientTokenDep,
    SessionDep,
    SettingsDep,
    StaffTokenDep,
    SteppedUpAccountDep,
    gateway_of,
    model_response,
    require_role,
)
from medcard.models import StaffUser

router = APIRouter(prefix="/codes", tags=["codes"])
PosDep = Annotated[StaffUser, Depends(require_role("cashier", "pharmacy"))]


@router.post("/payment", response_model=PaymentCodeRead, summary="Issue a 60-second payment code (R-SEC-02)")
async def issue_payment_code(body: PaymentCodeRequest, token: PatientTokenDep, request: Request) -> Response:
    """Through the code gateway: concurrent requests share one transaction (login, stepped-up
    session and card ownership are checked there, as the account dependencies would)."""
    issued = await gateway_of(request).issue(IssueCall(token=token, card_id=body.card_id))
    return model_response(PaymentCodeRead.of(issued))


@router.get(
    "/payment/{code_id}",
    response_model=PaymentCodeStatusRead,
    summary="What became of my payment code: live, paid (amount, where, when), pending, unpaid (R-SEC-02)",
)
async def payment_code_status(
    code_id: uuid.UUID, session: SessionDep, account: SteppedUpAccountDep
) -> PaymentCodeStatusRead:
    return PaymentCodeStatusRead.of(await service.code_status(session, account=account, code_id=code_id))


@router.post(
    "/redeem/pin",
    response_model=RedemptionRead,
    summary="POS: the payment password again after PIN_WRONG, with its retry_token (R-SEC-03)",
)
async def retry_pin(body: PinRetry, session: SessionDep, staff: PosDep, settings: SettingsDep) -> RedemptionRead:
    redemption = await service.retry_pin(session, staff=staff, token=body.retry_token, pin=body.pin, settings=settings)
    return RedemptionRead.of(redemption)


@router.post("/redeem", response_model=RedemptionRead, summary="POS: consume a payment code (R-SEC-01/02)")
async def redeem(body: RedeemRequest, token: StaffTokenDep, request: Request) -> Response:
    """Through the code gateway (the POS login and role are checked there)."""
    call = RedeemCall(token=token, text=body.code, amount_fen=body.amount_fen, pin=body.pin)
    return model_response(RedemptionRead.of(await gateway_of(request).redeem(call)))


@router.post("/verification/check", response_model=VerificationRead, summary="POS: check a verification code")
async def check_verification(body: VerificationCheck, staff: PosDep, settings: SettingsDep) -> VerificationRead:
    claims = service.check_verification_code(
        staff=staff, token=body.verification_code, amount_fen=body.amount_fen, settings=settings
    )
    return VerificationRead(
        valid=True, card_number=claims.card_number, merchant_id=claims.merchant_id, ceiling_fen=claims.ceiling_fen
    )
