"""Payment outputs and the finance office's pages (R-PAY-06, R-PAY-08): the electronic receipt
and the insurance settlement list as PDF for the payer (own orders only, 404 otherwise) and for
the staff of the order's hospital; the finance console (reconciliation reports, pending and
expired orders, deferred reimbursements due); the staff refund page."""

from __future__ import annotations

import secrets
import uuid
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from medcard.auth.service import actor_for_account, actor_for_staff
from medcard.deps import AdaptersDep, SessionDep, SettingsDep, SteppedUpAccountDep, require_role
from medcard.errors import InvalidInput, NotFound
from medcard.hospital.rules import parse_yuan
from medcard.i18n import N_
from medcard.kit.clock import CHINA, clock
from medcard.kit.masking import mask_name
from medcard.models import Card, PaymentOrder, PaymentRefund, ReconciliationReport, StaffUser
from medcard.settlement import documents, finance, pos, reconciliation, refunds, service
from medcard.settlement.errors import RefundAtTheWindow
from medcard.web import settlement_pages
from medcard.web.render import page

router = APIRouter(include_in_schema=False)
OrderStaffDep = Annotated[StaffUser, Depends(require_role("cashier", "pharmacy", "finance"))]
PosDep = Annotated[StaffUser, Depends(require_role("cashier", "pharmacy"))]
FinanceDep = Annotated[StaffUser, Depends(require_role("finance"))]
KIND_NAMES = {
    "missing_ours": N_("missing on our side"),
    "missing_theirs": N_("missing on theirs"),
    "amount_mismatch": N_("amount mismatch"),
    "lost_answer": N_("lost answer"),
    "other_day": N_("posted another day"),
}
SOURCE_NAMES = {
    "fund": N_("insurance fund"),
    "personal_account": N_("personal account"),
    "family_mutual_aid": N_("family mutual aid"),
    "deposit": N_("deposit"),
    "credit_line": N_("credit line"),
    "channel": N_("WeChat Pay"),
}
KINDS = {
    "receipt": ("receipt", documents.receipt_pdf),
    "settlement-list": ("settlement-list", documents.settlement_list_pdf),
}


async def _pdf(session: SessionDep, order: PaymentOrder, kind: str) -> Response:
    name, make = KINDS[kind]
    content = make(order, await documents.facts_of(session, order))
    filename = f"{name}-{order.bill_number}.pdf"
    return Response(content, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})  # fmt: skip


@router.get("/payments/{order_id}/receipt.pdf")
async def patient_receipt(session: SessionDep, account: SteppedUpAccountDep, order_id: uuid.UUID) -> Response:
    """医疗电子票据 of one of the payer's own orders (R-PAY-08); anyone else's is 404."""
    order = await service.order_of_account(session, account=account, order_id=order_id)
    return await _pdf(session, order, "receipt")


@router.get("/payments/{order_id}/settlement-list.pdf")
async def patient_settlement_list(session: SessionDep, account: SteppedUpAccountDep, order_id: uuid.UUID) -> Response:
    """医保结算清单 of one of the payer's own orders (R-PAY-08)."""
    order = await service.order_of_account(session, account=account, order_id=order_id)
    return await _pdf(session, order, "settlement-list")


@router.get("/console/orders/{order_id}/receipt.pdf")
async def staff_receipt(session: SessionDep, staff: OrderStaffDep, order_id: uuid.UUID) -> Response:
    """The receipt printed at the POS: orders of the staff member's hospital only."""
    order = await service.order_for_staff(session, staff=staff, order_id=order_id)
    return await _pdf(session, order, "receipt")


@router.get("/console/orders/{order_id}/settlement-list.pdf")
async def staff_settlement_list(session: SessionDep, staff: OrderStaffDep, order_id: uuid.UUID) -> Response:
    order = await service.order_for_staff(session, staff=staff, order_id=order_id)
    return await _pdf(session, order, "settlement-list")


# --- finance console (财务) ------------------------------------------------------------------


@router.get("/console/finance", response_class=HTMLResponse)
async def finance_home(request: Request, session: SessionDep, staff: FinanceDep) -> Response:
    """Reconciliation reports, pending and expired orders, deferred reimbursements due."""
    now = clock.now()
    values = {
        "staff": staff,
        "reports": await reconciliation.reports(session),
        "pending": await finance.pending_orders(session, staff=staff),
        "expired": await finance.expired_orders(session, staff=staff, now=now),
        "reimbursements": await finance.reimbursements_due(session, staff=staff),
        "paid": await finance.recent_paid(session, staff=staff, now=now),
        "today": now.astimezone(CHINA).date(),
        "default_day": reconciliation.yesterday(now).isoformat(),
    }
    return page(request, "console/finance.html", values)


@router.post("/console/finance/reconcile", response_class=HTMLResponse)
async def finance_reconcile(
    session: SessionDep, staff: FinanceDep, adapters: AdaptersDep, day: Annotated[str, Form(max_length=10)]
) -> Response:
    """Run the reconciliation of one China day now (the daily job does yesterday)."""
    try:
        which = date.fromisoformat(day)
    except ValueError as error:
        raise InvalidInput(field="day", field_zh="对账日期", field_en="day",
                           reason_zh="须为 YYYY-MM-DD", reason_en="must be YYYY-MM-DD") from error  # fmt: skip
    report = await reconciliation.reconcile(session, day=which, adapters=adapters, actor=actor_for_staff(staff))
    return RedirectResponse(f"/console/finance/reconciliation/{report.id}", status_code=303)


@router.get("/console/finance/reconciliation/{report_id}", response_class=HTMLResponse)
async def finance_report(request: Request, session: SessionDep, staff: FinanceDep, report_id: uuid.UUID) -> Response:
    report = await session.get(ReconciliationReport, report_id)
    if report is None:
        raise NotFound()
    rows = await reconciliation.differences(session, report_id=report.id)
    values = {"staff": staff, "report": report, "rows": rows, "kinds": KIND_NAMES}
    return page(request, "console/reconciliation.html", values)


# --- refunds (R-PAY-06) ---------------------------------------------------------------------


async def _refund_page(
    request: Request, session: SessionDep, order: PaymentOrder, *, done: PaymentRefund | None = None
) -> Response:
    card = await session.get(Card, order.card_id)
    values = {
        "order": order,
        "room": refunds.refundable(order) if order.state == "paid" else {},
        "holder": mask_name(card.name) if card is not None else "",
        "key": secrets.token_urlsafe(16),
        "done": done,
        "source_names": SOURCE_NAMES,
    }
    return page(request, "console/refund.html", values)


@router.get("/console/orders/{order_id}/refund", response_class=HTMLResponse)
async def refund_page(
    request: Request,
    session: SessionDep,
    staff: OrderStaffDep,
    order_id: uuid.UUID,
    refunded: Annotated[str, Query(max_length=64)] = "",
) -> Response:
    """The staff refund page: what each source may still get back, full or partial; after a
    refund (``refunded``: its request key, Post/Redirect/Get) what went back where."""
    order = await service.order_for_staff(session, staff=staff, order_id=order_id)
    done = await refunds.refund_of(session, order=order, key=refunded) if refunded else None
    return await _refund_page(request, session, order, done=done)


@router.post("/console/orders/{order_id}/refund", response_class=HTMLResponse)
async def refund_order(
    request: Request,
    session: SessionDep,
    staff: OrderStaffDep,
    adapters: AdaptersDep,
    order_id: uuid.UUID,
    key: Annotated[str, Form(min_length=8, max_length=64)],
    reason: Annotated[str, Form(min_length=1, max_length=200)],
    mode: Annotated[str, Form(pattern="^(full|partial)$")] = "full",
    amount: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    """Refund back to each source (R-PAY-06); the form's key makes a double submit refund once."""
    order = await service.order_for_staff(session, staff=staff, order_id=order_id)
    fen = None if mode == "full" else _positive_fen(amount)
    made = await refunds.refund(session, order=order, amount_fen=fen, key=key, reason=reason,
                                actor=actor_for_staff(staff), adapters=adapters)  # fmt: skip
    return RedirectResponse(
        f"/console/orders/{order_id}/refund?" + urlencode({"refunded": made.request_key}), status_code=303
    )


@router.post("/payments/{order_id}/refund", response_class=HTMLResponse)
async def patient_refund(
    session: SessionDep,
    account: SteppedUpAccountDep,
    adapters: AdaptersDep,
    order_id: uuid.UUID,
    key: Annotated[str, Form(min_length=8, max_length=64)],
) -> Response:
    """The patient refunds an order he paid online, in full, back to each source (R-PAY-06);
    orders paid at a window or pharmacy are refunded there."""
    order = await service.order_of_account(session, account=account, order_id=order_id)
    if order.scenario != "online":
        raise RefundAtTheWindow()
    await refunds.refund(session, order=order, amount_fen=None, key=key, reason="患者线上申请退款",
                         actor=actor_for_account(account), adapters=adapters)  # fmt: skip
    return RedirectResponse(f"/payments/{order.id}", status_code=303)


def _positive_fen(amount: str) -> int:
    fen = parse_yuan(amount)
    if not fen:
        raise InvalidInput(field="amount", field_zh="金额", field_en="amount",
                           reason_zh="须为大于 0 的金额", reason_en="must be a positive amount")  # fmt: skip
    return fen


# --- POS: the split before confirming (R-PAY-02, R-PAY-09) ----------------------------------


@router.post("/console/pos/review", response_class=HTMLResponse)
async def pos_review(
    request: Request,
    session: SessionDep,
    staff: PosDep,
    settings: SettingsDep,
    adapters: AdaptersDep,
    verification_code: Annotated[str, Form(max_length=600)],
    bill_number: Annotated[str, Form(max_length=40)],
) -> Response:
    """The chosen bill's split (fund, personal account, deposit, credit, self-pay) shown to the
    cashier and the patient before the charge; confirming posts to ``/console/pos/charge``."""
    quoted, card = await pos.pos_quote(session, staff=staff, verification_code=verification_code,
                                       bill_number=bill_number, settings=settings, adapters=adapters)  # fmt: skip
    values = {
        "staff": staff,
        "quote": quoted,
        "holder": mask_name(card.name),
        "sources": settlement_pages.SOURCES,
        "verification_code": verification_code,
        "key": secrets.token_urlsafe(16),
    }
    return page(request, "settlement/pos_review.html", values)
