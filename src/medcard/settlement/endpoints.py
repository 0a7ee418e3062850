"""Bills, quotes, payments, refunds, deposit and credit (R-PAY-02…09, R-CARD-09/10).

Every mutating request carries an ``Idempotency-Key`` header (R-PAY-05), claimed in the key
store (:mod:`medcard.idempotency`): the same key and body replay the stored answer, another
body is 422, a request still in flight 409. A payment left pending answers 402
``PAYMENT_PENDING`` and releases its key, so the client's retry resumes the same order."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import Field, TypeAdapter, ValidationError

from medcard.auth.service import actor_for_account, actor_for_staff
from medcard.card import service as card_service
from medcard.deps import (
    PATIENT_COOKIE,
    AccountDep,
    AdaptersDep,
    PatientTokenDep,
    SessionDep,
    SettingsDep,
    SteppedUpAccountDep,
    model_response,
    require_role,
    required_token,
)
from medcard.idempotency.deps import HEADER, PatientIdempotencyDep, StaffIdempotencyDep
from medcard.models import Account, StaffUser
from medcard.settlement import refunds, service, wallet
from medcard.settlement.gateway import PaymentCall, PaymentGateway
from medcard.settlement.schemas import (
    BillRead,
    BillRequest,
    CashRequest,
    OrderRead,
    PosChargeRequest,
    QuoteRead,
    RefundRead,
    RefundRequest,
    WalletRead,
)
from medcard.settlement.wallet import Wallet

router = APIRouter(prefix="/settlement", tags=["settlement"])
PosDep = Annotated[StaffUser, Depends(require_role("cashier", "pharmacy"))]


async def idempotency_key(key: Annotated[str, Header(alias=HEADER, max_length=64)]) -> str:
    """The raw key (the key store has claimed it): orders and refunds remember it too. Async: a
    plain function would be run in a worker thread, a thread hop per request."""
    return key


KeyDep = Annotated[str, Depends(idempotency_key)]


@router.get("/bills", response_model=list[BillRead], summary="The card holder's HIS bills")
async def list_bills(
    card_id: uuid.UUID, session: SessionDep, account: AccountDep, adapters: AdaptersDep
) -> list[BillRead]:
    card = await card_service.card_of_account(session, account=account, card_id=card_id)
    return [BillRead.of(bill) for bill in await service.bills(session, card=card, adapters=adapters)]


@router.post("/quote", response_model=QuoteRead, summary="The split of a bill before paying (R-PAY-02/03)")
async def quote(body: BillRequest, session: SessionDep, account: AccountDep, adapters: AdaptersDep) -> QuoteRead:
    card = await card_service.card_of_account(session, account=account, card_id=body.card_id)
    return QuoteRead.of(
        await service.quote(session, card=card, bill_number=body.bill_number, scenario="online", adapters=adapters)
    )


@router.post("/orders", response_model=OrderRead, summary="Pay a bill online (R-PAY-02…05, R-PAY-09)")
async def pay(body: BillRequest, key: KeyDep, token: PatientTokenDep, request: Request) -> Response:
    """Through the payment gateway (docs/adr/0012): concurrent payments share transactions; the
    login, the stepped-up session, the card and the ``Idempotency-Key`` are checked there as the
    account and key dependencies would.

    Served by :func:`pay_route`, matched ahead of this route: this one documents the endpoint."""
    return await _pay(request, body, key, token)


async def pay_route(request: Request) -> Response:
    """``POST /api/v1/settlement/orders`` as a plain Starlette route matched before FastAPI's
    routes (docs/adr/0012, sixth round): solving the documented route's dependencies cost as much
    CPU as paying in a batch. The same checks in FastAPI's order, with the same answers: a body
    that is not JSON is 422 first; no login is 401; a missing or too long ``Idempotency-Key`` and
    an invalid body are one 422 together (``RequestValidationError``, rendered by the app)."""
    raw = await request.body()
    value: Any = raw
    if raw and _is_json(request.headers.get("content-type", "")):
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as error:
            invalid = {"type": "json_invalid", "loc": ("body", error.pos), "msg": "JSON decode error",
                       "input": {}, "ctx": {"error": error.msg}}  # fmt: skip
            raise RequestValidationError([invalid], body=error.doc) from error
        except ValueError as error:  # not UTF-8, say: FastAPI's answer to a body it cannot read
            raise HTTPException(status_code=400, detail="There was an error parsing the body") from error
    token = required_token(request, PATIENT_COOKIE)
    errors: list[dict[str, Any]] = []
    key = request.headers.get(HEADER)
    if key is None:
        errors.append({"type": "missing", "loc": ("header", HEADER), "msg": "Field required", "input": None})
    else:
        try:
            KEY_VALUE.validate_python(key)
        except ValidationError as invalid:
            errors += _located(invalid, ("header", HEADER))
    body: BillRequest | None = None
    if raw:
        try:
            body = BillRequest.model_validate(value, from_attributes=True)
        except ValidationError as invalid:
            errors += _located(invalid, ("body",))
    else:
        errors.append({"type": "missing", "loc": ("body",), "msg": "Field required", "input": None})
    if errors or body is None or key is None:
        raise RequestValidationError(errors, body=value)
    return await _pay(request, body, key, token)


async def _pay(request: Request, body: BillRequest, key: str, token: str) -> Response:
    # The matched path as sent (the ``url`` property would build and parse a whole URL for it).
    call = PaymentCall(token=token, card_id=body.card_id, bill_number=body.bill_number, key=key,
                       path=request.scope["path"], body=await request.body())  # fmt: skip
    gateway: PaymentGateway = request.app.state.payment_gateway
    return model_response(await gateway.pay(call))


KEY_VALUE: TypeAdapter[str] = TypeAdapter(Annotated[str, Field(max_length=64)])


def _located(invalid: ValidationError, loc: tuple[str, ...]) -> list[dict[str, Any]]:
    return [{**error, "loc": (*loc, *error["loc"])} for error in invalid.errors(include_url=False)]


def _is_json(content_type: str) -> bool:
    """FastAPI's rule (strict content type): ``application/json`` or ``application/*+json``."""
    maintype, _, subtype = content_type.split(";", 1)[0].strip().lower().partition("/")
    return maintype == "application" and (subtype == "json" or subtype.endswith("+json"))


@router.get("/orders", response_model=list[OrderRead], summary="Payment history")
async def history(session: SessionDep, account: AccountDep) -> list[OrderRead]:
    return [OrderRead.of(order) for order in await service.orders_of(session, account=account)]


@router.get("/orders/{order_id}", response_model=OrderRead, summary="One payment")
async def one_order(order_id: uuid.UUID, session: SessionDep, account: AccountDep) -> OrderRead:
    return OrderRead.of(await service.order_of_account(session, account=account, order_id=order_id))


@router.post("/orders/{order_id}/retry", response_model=OrderRead, summary="Retry a pending payment (R-PAY-07)")
async def retry(
    order_id: uuid.UUID, session: SessionDep, account: SteppedUpAccountDep, adapters: AdaptersDep
) -> OrderRead:
    order = await service.order_of_account(session, account=account, order_id=order_id)
    return OrderRead.of(await service.retry(session, order=order, adapters=adapters))


@router.post("/pos/charge", response_model=OrderRead, summary="POS: charge a bill after redeeming a code (R-PAY-09)")
async def pos_charge(
    body: PosChargeRequest,
    key: KeyDep,
    session: SessionDep,
    staff: PosDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
) -> OrderRead:
    order = await service.pos_charge(session, staff=staff, verification_code=body.verification_code,
                                     bill_number=body.bill_number, key=key, settings=settings,
                                     adapters=adapters)  # fmt: skip
    return OrderRead.of(order)


@router.post("/orders/{order_id}/refunds", response_model=RefundRead, summary="Refund to each source (R-PAY-06)")
async def refund(
    order_id: uuid.UUID,
    body: RefundRequest,
    key: KeyDep,
    idem: StaffIdempotencyDep,
    session: SessionDep,
    staff: PosDep,
    adapters: AdaptersDep,
) -> RefundRead:
    async def work() -> RefundRead:
        order = await service.order_for_staff(session, staff=staff, order_id=order_id)
        made = await refunds.refund(session, order=order, amount_fen=body.amount_fen, key=key, reason=body.reason,
                                    actor=actor_for_staff(staff), adapters=adapters)  # fmt: skip
        return RefundRead.of(made)

    return await idem.run(work)


@router.get("/wallet", response_model=WalletRead, summary="Deposit, credit line, personal account")
async def show_wallet(card_id: uuid.UUID, session: SessionDep, account: AccountDep) -> WalletRead:
    card = await card_service.card_of_account(session, account=account, card_id=card_id)
    return WalletRead.of(await wallet.wallet(session, card=card))


async def _cash(
    move: Callable[..., Awaitable[Wallet]],
    body: CashRequest,
    key: str,
    session: SessionDep,
    account: Account,
    adapters: AdaptersDep,
) -> WalletRead:
    """Top-up and repayment: money from the patient through the channel into one wallet account."""
    card = await card_service.card_of_account(session, account=account, card_id=body.card_id)
    result = await move(session, card=card, amount_fen=body.amount_fen, key=key,
                        actor=actor_for_account(account), adapters=adapters)  # fmt: skip
    return WalletRead.of(result)


@router.post("/deposit", response_model=WalletRead, summary="Top up the deposit (R-CARD-09)")
async def top_up(
    body: CashRequest,
    key: KeyDep,
    idem: PatientIdempotencyDep,
    session: SessionDep,
    account: SteppedUpAccountDep,
    adapters: AdaptersDep,
) -> WalletRead:
    return await idem.run(lambda: _cash(wallet.top_up, body, key, session, account, adapters))


@router.post("/credit/repay", response_model=WalletRead, summary="Repay the credit line (R-CARD-10)")
async def repay(
    body: CashRequest,
    key: KeyDep,
    idem: PatientIdempotencyDep,
    session: SessionDep,
    account: SteppedUpAccountDep,
    adapters: AdaptersDep,
) -> WalletRead:
    return await idem.run(lambda: _cash(wallet.repay_credit, body, key, session, account, adapters))
