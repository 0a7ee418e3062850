"""Queries for payment codes. The consume is one conditional UPDATE: of any number of
concurrent redeemers of one code, exactly one gets a row back."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import PaymentCode


class CodeRepository:
    """Payment-code lookups, the atomic consume and the counters behind rate and limit rules."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_hash(self, code_hash: str) -> PaymentCode | None:
        return await self.session.scalar(
            select(PaymentCode).where(PaymentCode.code_hash == code_hash).execution_options(populate_existing=True)
        )

    async def consume(self, code_hash: str, *, now: datetime, merchant_id: str) -> uuid.UUID | None:
        """Mark the code used if, at this instant, it is still issued and unexpired."""
        result = await self.session.execute(
            update(PaymentCode)
            .where(PaymentCode.code_hash == code_hash, PaymentCode.status == "issued", PaymentCode.expires_at > now)
            .values(status="consumed", consumed_at=now, merchant_id=merchant_id)
            .returning(PaymentCode.id)
            .execution_options(synchronize_session=False)
        )
        return result.scalar_one_or_none()

    async def issued_since(self, card_id: uuid.UUID, since: datetime) -> int:
        count = await self.session.scalar(
            select(func.count()).where(PaymentCode.card_id == card_id, PaymentCode.issued_at >= since)
        )
        return int(count or 0)

    async def payments_since(self, account_id: uuid.UUID, since: datetime, *, exclude: uuid.UUID) -> tuple[int, int]:
        """How many paid codes and how many fen since ``since`` (the code in hand excluded)."""
        row = (
            await self.session.execute(
                select(func.count(), func.coalesce(func.sum(PaymentCode.amount_fen), 0)).where(
                    PaymentCode.account_id == account_id,
                    PaymentCode.consumed_at >= since,
                    PaymentCode.amount_fen.is_not(None),
                    PaymentCode.id != exclude,
                )
            )
        ).one()
        return int(row[0] or 0), int(row[1] or 0)

    async def revoke_live(self, account_id: uuid.UUID, *, now: datetime) -> int:
        result = await self.session.execute(
            update(PaymentCode)
            .where(PaymentCode.account_id == account_id, PaymentCode.status == "issued", PaymentCode.expires_at > now)
            .values(status="revoked")
            .execution_options(synchronize_session=False)
        )
        rowcount: int = getattr(result, "rowcount", 0) or 0
        return rowcount
