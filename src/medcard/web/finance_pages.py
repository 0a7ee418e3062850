"""Payment outputs and the finance office's pages (R-PAY-06, R-PAY-08): the electronic receipt
and the insurance settlement list as PDF for the payer (own orders only, 404 otherwise) and for
the staff of the order's hospital; the finance console (reconciliation reports, pending and
expired orders, deferred reimbursements due); the staff refund page."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from medcard.deps import SessionDep, SteppedUpAccountDep, require_role
from medcard.models import PaymentOrder, StaffUser
from medcard.settlement import documents, service

router = APIRouter(include_in_schema=False)
OrderStaffDep = Annotated[StaffUser, Depends(require_role("cashier", "pharmacy", "finance"))]
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
