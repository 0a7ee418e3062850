"""Settlement pages: the patient's bills, the split shown before paying, payment history and
receipts, deposit; the POS charging a bill after redeeming the patient's code. Same services
as the API (R-PAY-02…09)."""

from __future__ import annotations

import secrets
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from medcard.auth.service import actor_for_account
from medcard.card.repository import CardRepository
from medcard.deps import AdaptersDep, SessionDep, SettingsDep, SteppedUpAccountDep, require_role
from medcard.errors import InvalidInput, NotFound
from medcard.family import rules as family_rules
from medcard.hospital.rules import parse_yuan
from medcard.i18n import N_, NC_
from medcard.kit.clock import CHINA
from medcard.kit.masking import mask_name
from medcard.models import Account, Card, PaymentOrder, StaffUser
from medcard.settlement import service, wallet
from medcard.web.render import page

router = APIRouter(include_in_schema=False)
PosDep = Annotated[StaffUser, Depends(require_role("cashier", "pharmacy"))]
SOURCES = (
    ("fund_fen", N_("Pooled fund")),
    ("personal_account_fen", NC_("settlement/bills", "Personal account")),
    ("family_mutual_aid_fen", N_("Family mutual aid")),
    ("deposit_fen", NC_("web/settlement_pages", "Deposit")),
    ("credit_line_fen", N_("Credit line")),
    ("self_pay_fen", N_("Self-pay (channel)")),
    ("deferred_fund_fen", N_("Fund share reimbursed later")),
)


async def _card(session: SessionDep, account: Account, card_id: uuid.UUID | None) -> Card:
    cards = [c for c in await CardRepository(session).for_account(account) if c.status == "active"]
    card = next((c for c in cards if c.id == card_id), cards[0] if cards else None)
    if card is None:
        raise NotFound()
    return card


@router.get("/bills", response_class=HTMLResponse)
async def bills_page(
    request: Request,
    session: SessionDep,
    account: SteppedUpAccountDep,
    adapters: AdaptersDep,
    card_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Response:
    """待缴费: the card holder's HIS bills, the deposit and credit line, the payment history."""
    card = await _card(session, account, card_id)
    values = {
        "card": card,
        "bills": await service.bills(session, card=card, adapters=adapters),
        "wallet": await wallet.wallet(session, card=card),
        "orders": await service.orders_of(session, account=account),
    }
    return page(request, "settlement/bills.html", values)


@router.get("/bills/{bill_number}", response_class=HTMLResponse)
async def bill_page(
    request: Request,
    session: SessionDep,
    account: SteppedUpAccountDep,
    adapters: AdaptersDep,
    bill_number: str,
    card_id: Annotated[uuid.UUID | None, Query()] = None,
) -> Response:
    """The split shown before confirming (R-PAY-02/03); the form carries a fresh request key."""
    card = await _card(session, account, card_id)
    quote = await service.quote(session, card=card, bill_number=bill_number, scenario="online", adapters=adapters)
    # R-FAM-04: said before confirming, not only after (a relative's prescription drugs wait for a second yes).
    awaits = family_rules.needs_guardian_confirmation(quote.bill.kind, proxied=card.person_id != account.person_id)
    values = {"card": card, "quote": quote, "sources": SOURCES, "key": secrets.token_urlsafe(16),
              "guardian_confirmation": awaits}  # fmt: skip
    return page(request, "settlement/bill.html", values)


@router.post("/bills/{bill_number}/pay", response_class=HTMLResponse)
async def pay_bill(
    request: Request,
    session: SessionDep,
    account: SteppedUpAccountDep,
    adapters: AdaptersDep,
    bill_number: str,
    card_id: Annotated[uuid.UUID, Form()],
    key: Annotated[str, Form(min_length=8, max_length=64)],
) -> Response:
    """Pay; a double submit carries the same key and finds the same order (R-PAY-05)."""
    card = await _card(session, account, card_id)
    order = await service.pay(session, card=card, bill_number=bill_number, scenario="online", key=key,
                              actor=actor_for_account(account), adapters=adapters)  # fmt: skip
    return RedirectResponse(f"/payments/{order.id}", status_code=303)


@router.get("/payments/{order_id}", response_class=HTMLResponse)
async def payment_page(
    request: Request, session: SessionDep, account: SteppedUpAccountDep, order_id: uuid.UUID
) -> Response:
    order = await service.order_of_account(session, account=account, order_id=order_id)
    return page(request, "settlement/payment.html", _receipt(order))


@router.post("/payments/{order_id}/retry", response_class=HTMLResponse)
async def retry_payment(
    session: SessionDep, account: SteppedUpAccountDep, adapters: AdaptersDep, order_id: uuid.UUID
) -> Response:
    order = await service.order_of_account(session, account=account, order_id=order_id)
    await service.retry(session, order=order, adapters=adapters)
    return RedirectResponse(f"/payments/{order_id}", status_code=303)


@router.post("/deposit", response_class=HTMLResponse)
async def deposit_top_up(
    session: SessionDep,
    account: SteppedUpAccountDep,
    adapters: AdaptersDep,
    card_id: Annotated[uuid.UUID, Form()],
    amount: Annotated[str, Form(max_length=16)],
    key: Annotated[str, Form(min_length=8, max_length=64)],
) -> Response:
    """Top up the deposit (R-CARD-09); the form's key makes a double submit charge once."""
    card = await _card(session, account, card_id)
    fen = parse_yuan(amount)
    if not fen:
        raise InvalidInput(field="amount", label=N_("amount"),
                           reason=N_("must be a positive amount"))  # fmt: skip
    await wallet.top_up(session, card=card, amount_fen=fen, key=key, actor=actor_for_account(account),
                        adapters=adapters)  # fmt: skip
    return RedirectResponse(f"/bills?card_id={card.id}", status_code=303)


def _receipt(order: PaymentOrder, holder: str = "") -> dict[str, Any]:
    """Amounts by source, the payer (masked) and the time in China (R-PAY-09 receipt)."""
    rows = [(label, int(order.funding.get(name, 0))) for name, label in SOURCES if order.funding.get(name)]
    when = (order.paid_at or order.created_at).astimezone(CHINA)
    return {"order": order, "rows": rows, "holder": holder, "when": when}


# --- POS ------------------------------------------------------------------------------------


@router.post("/console/pos/charge", response_class=HTMLResponse)
async def pos_charge(
    request: Request,
    session: SessionDep,
    staff: PosDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    verification_code: Annotated[str, Form(max_length=600)],
    bill_number: Annotated[str, Form(max_length=40)],
    key: Annotated[str, Form(min_length=8, max_length=64)],
) -> Response:
    """Charge the chosen HIS bill with the verification code the redeem gave; show a receipt
    (amounts by source, payer, time) instead of the raw code."""
    # Not in db.attempt: the payment commits its opened order as a recovery point (a savepoint
    # cannot span that); a refusal is rendered by the app's error page.
    order = await service.pos_charge(session, staff=staff, verification_code=verification_code,
                                     bill_number=bill_number, key=key, settings=settings,
                                     adapters=adapters)  # fmt: skip
    return RedirectResponse(f"/console/pos/receipts/{order.id}", status_code=303)


@router.get("/console/pos/receipts/{order_id}", response_class=HTMLResponse)
async def pos_receipt(request: Request, session: SessionDep, staff: PosDep, order_id: uuid.UUID) -> Response:
    """The receipt after a charge (Post/Redirect/Get: a reload shows it again, never charges);
    orders of the staff member's hospital only."""
    order = await service.order_for_staff(session, staff=staff, order_id=order_id)
    card = await session.get(Card, order.card_id)
    holder = mask_name(card.name) if card is not None else ""
    return page(request, "settlement/pos_receipt.html", {"staff": staff, **_receipt(order, holder)})
