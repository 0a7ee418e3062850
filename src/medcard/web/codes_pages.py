"""Payment-code pages: the patient's code (large digits, QR, 60-second countdown with
auto-refresh) and the POS page where a cashier or pharmacy scans it. Same services as the API."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, Response

from medcard.card import qr
from medcard.card.repository import CardRepository
from medcard.codes import rules, service
from medcard.codes.errors import PosPinWrong
from medcard.db import attempt
from medcard.deps import AdaptersDep, PatientSessionDep, SessionDep, SettingsDep, SteppedUpAccountDep, require_role
from medcard.errors import InvalidInput, MedCardError, NotFound
from medcard.family import service as family
from medcard.i18n import N_, translate
from medcard.kit import barcode
from medcard.kit.clock import CHINA
from medcard.models import Account, Card, Person, StaffUser
from medcard.settlement import service as settlement
from medcard.web.render import error_view, language, page

CODE_QR = N_("Payment code QR")
CODE_BARCODE = N_("Payment code barcode")

router = APIRouter(include_in_schema=False)
PosDep = Annotated[StaffUser, Depends(require_role("cashier", "pharmacy"))]


async def _active_cards(session: SessionDep, account: Account, *, person: Person | None = None) -> list[Card]:
    cards = await CardRepository(session).for_account(account, person=person)
    return [card for card in cards if card.status == "active"]


async def _code_fragment(
    request: Request, session: SessionDep, account: Account, settings: SettingsDep, card: Card
) -> Response:
    issued, error = await attempt(
        session, lambda: service.issue(session, account=account, card=card, settings=settings)
    )
    lang = language(request)
    values: dict[str, Any] = {"card": card, "error": error_view(error, lang) if error else None}
    if issued is not None:
        values |= {
            "code": issued.code,
            "grouped": rules.grouped(issued.code),
            "qr_svg": qr.svg(issued.code, title=translate(lang, CODE_QR), scale=5),
            "barcode_svg": barcode.svg(issued.code, label=translate(lang, CODE_BARCODE)),
            "ttl": int(rules.PAYMENT_CODE_TTL.total_seconds()),
            "code_id": issued.id,
        }
    return page(request, "codes/_code.html", values)


@router.get("/codes", response_class=HTMLResponse)
async def payment_code_page(
    request: Request,
    session: SessionDep,
    account: SteppedUpAccountDep,
    auth: PatientSessionDep,
    card_id: Annotated[uuid.UUID | None, Query()] = None,
    step: Annotated[int, Query(ge=1, le=2)] = 1,
) -> Response:
    """The current patient's payment code (switch patient above it, R-FAM-01): the page loads the
    code fragment, which refreshes itself every minute. In elder mode the payment takes three
    steps, one per screen (R-A11Y-01): confirm the card, show the code (read aloud on request),
    hear the result."""
    patient = await family.current_patient(session, account=account, auth=auth) if account.person else None
    cards = await _active_cards(session, account, person=patient)
    chosen = next((c for c in cards if c.id == card_id), cards[0] if cards else None)
    values = {
        "cards": cards,
        "card": chosen,
        "step": step,
        "patient": patient,
        "account": account,
        "patients": await family.patient_choices(session, account=account, auth=auth) if account.person else [],
        "switch_next": "/codes",
    }
    return page(request, "codes/pay.html", values)


@router.post("/codes/fresh", response_class=HTMLResponse)
async def fresh_code(
    request: Request,
    session: SessionDep,
    account: SteppedUpAccountDep,
    settings: SettingsDep,
    card_id: Annotated[uuid.UUID, Query()],
) -> Response:
    cards = await _active_cards(session, account)
    card = next((c for c in cards if c.id == card_id), None)
    if card is None:
        raise NotFound()
    await family.note_proxy_access(session, account=account, patient_id=card.person_id, subject=card, what="code")
    return await _code_fragment(request, session, account, settings, card)


@router.get("/codes/{code_id}/status", response_class=HTMLResponse)
async def code_status(
    request: Request,
    session: SessionDep,
    account: SteppedUpAccountDep,
    code_id: uuid.UUID,
    shown: Annotated[str, Query(max_length=16)] = "live",
) -> Response:
    """Polled every 2 s by the open payment page (R-SEC-02): nothing (204) while the code is as
    shown (or merely expired: the page refreshes it itself); else the result that replaces the
    code at once: paid (amount, where, when), waiting for the password, unpaid or revoked."""
    status = await service.code_status(session, account=account, code_id=code_id)
    if status.state in (shown, "live", "expired"):
        return Response(status_code=204)
    used_at = status.used_at.astimezone(CHINA) if status.used_at else None
    values = {"status": status, "code_id": code_id, "used_at": used_at}
    return page(request, "codes/_status.html", values)


def _fen(amount_yuan: str) -> int:
    try:
        value = Decimal(amount_yuan.strip())
    except InvalidOperation:
        value = Decimal(-1)
    if value <= 0 or value != value.quantize(Decimal("0.01")) or value > 1_000_000:
        raise InvalidInput(
            field="amount",
            field_zh="金额",
            field_en="amount",
            reason_zh="须为大于 0 的金额，最多两位小数",
            reason_en="must be a positive amount with at most 2 decimals",
        )
    return int(value * 100)


@router.get("/console/pos", response_class=HTMLResponse)
async def pos_page(request: Request, staff: PosDep) -> Response:
    return page(request, "codes/pos.html", {"staff": staff})


@router.post("/console/pos", response_class=HTMLResponse)
async def pos_redeem(
    request: Request,
    session: SessionDep,
    staff: PosDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    code: Annotated[str, Form(max_length=400)],
    amount: Annotated[str, Form(max_length=16)],
    pin: Annotated[str, Form(max_length=12)] = "",
) -> Response:
    """Scan → consume → verification code; a refusal is shown on the page (a burnt code stays burnt)."""

    async def run() -> service.Redemption:
        return await service.redeem(
            session, staff=staff, text=code, amount_fen=_fen(amount), pin=pin or None, settings=settings
        )

    redemption, error = await attempt(session, run)
    return await _pos_result(request, session, staff, settings, adapters, redemption, error, amount)


async def _pos_result(
    request: Request,
    session: SessionDep,
    staff: StaffUser,
    settings: SettingsDep,
    adapters: AdaptersDep,
    redemption: service.Redemption | None,
    error: MedCardError | None,
    amount: str,
) -> Response:
    """The POS page after a scan or a PIN retry; a wrong PIN offers the retry form (no new scan)."""
    # after a redeem the scan form is empty for the next patient; a refusal keeps what was typed
    values: dict[str, Any] = {"staff": staff, "redemption": redemption, "amount": "" if redemption else amount}
    if redemption is not None:  # the holder's unpaid HIS bills within the code's amount, to charge next
        values["bills"] = await settlement.pos_bills(
            session, staff=staff, verification_code=redemption.verification_code, settings=settings, adapters=adapters
        )
    if error is not None:
        values["error"] = error_view(error, language(request))
        values["retry_token"] = error.retry_token if isinstance(error, PosPinWrong) else ""
    return page(request, "codes/pos.html", values, status_code=error.status if error else 200)


@router.post("/console/pos/pin", response_class=HTMLResponse)
async def pos_retry_pin(
    request: Request,
    session: SessionDep,
    staff: PosDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    retry_token: Annotated[str, Form(max_length=600)],
    pin: Annotated[str, Form(max_length=12)],
    amount: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """The patient re-enters the payment password for the code just scanned (R-SEC-03)."""
    redemption, error = await attempt(
        session, lambda: service.retry_pin(session, staff=staff, token=retry_token, pin=pin, settings=settings)
    )
    return await _pos_result(request, session, staff, settings, adapters, redemption, error, amount)
