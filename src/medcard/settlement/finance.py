"""What the finance office (财务) watches: pending and recently expired orders, deferred
reimbursements due, per hospital for hospital staff (platform staff: every hospital)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.kit.clock import CHINA, clock
from medcard.models import PaymentOrder, StaffUser
from medcard.models.settlement import PENDING_ORDER

RECENT = timedelta(days=7)


def _scoped(query: Select[PaymentOrder], hospital_id: uuid.UUID | None) -> Select[PaymentOrder]:
    return query if hospital_id is None else query.where(PaymentOrder.hospital_id == hospital_id)


async def pending_orders(session: AsyncSession, *, staff: StaffUser, limit: int = 100) -> list[PaymentOrder]:
    """Orders still holding money (waiting for an outside step, expiring after 15 minutes)."""
    query = select(PaymentOrder).where(PENDING_ORDER).order_by(PaymentOrder.expires_at).limit(limit)
    return list((await session.scalars(_scoped(query, staff.hospital_id))).all())


async def expired_orders(
    session: AsyncSession, *, staff: StaffUser, now: datetime | None = None, limit: int = 100
) -> list[PaymentOrder]:
    """Orders expired in the last 7 days (every hold released, R-PAY-04), newest first."""
    since = (now or clock.now()) - RECENT
    query = (
        select(PaymentOrder)
        .where(PaymentOrder.state == "expired", PaymentOrder.expires_at >= since)
        .order_by(PaymentOrder.expires_at.desc())
        .limit(limit)
    )
    return list((await session.scalars(_scoped(query, staff.hospital_id))).all())


async def reimbursements_due(
    session: AsyncSession, *, staff: StaffUser, today: date | None = None, within_days: int = 14, limit: int = 100
) -> list[PaymentOrder]:
    """Deferred fund shares not yet reimbursed (R-INS-04), due today or in the next two weeks;
    overdue ones (the job has not run) first."""
    day = today or clock.now().astimezone(CHINA).date()
    query = (
        select(PaymentOrder)
        .where(
            PaymentOrder.state == "paid",
            PaymentOrder.reimbursed_at.is_(None),
            PaymentOrder.reimburse_on.is_not(None),
            PaymentOrder.reimburse_on <= day + timedelta(days=within_days),
        )
        .order_by(PaymentOrder.reimburse_on)
        .limit(limit)
    )
    return list((await session.scalars(_scoped(query, staff.hospital_id))).all())


async def recent_paid(
    session: AsyncSession, *, staff: StaffUser, now: datetime | None = None, limit: int = 50
) -> list[PaymentOrder]:
    """Orders paid in the last 7 days, newest first (the finance office finds one to refund)."""
    since = (now or clock.now()) - RECENT
    query = (
        select(PaymentOrder)
        .where(PaymentOrder.state == "paid", PaymentOrder.paid_at >= since)
        .order_by(PaymentOrder.paid_at.desc())
        .limit(limit)
    )
    return list((await session.scalars(_scoped(query, staff.hospital_id))).all())
