"""Queries of the patient's own account."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import Account, AuthSession, Card, InsuranceBinding


class AccountRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def cards_of(self, account: Account) -> Sequence[Card]:
        result = await self.session.scalars(select(Card).where(Card.account_id == account.id))
        return result.unique().all()

    async def bindings_of(self, account: Account) -> Sequence[InsuranceBinding]:
        result = await self.session.scalars(
            select(InsuranceBinding).where(
                InsuranceBinding.account_id == account.id, InsuranceBinding.status == "active"
            )
        )
        return result.unique().all()

    async def revoke_sessions(self, account: Account, *, at: object) -> int:
        """End every open session of ``account``; returns how many."""
        result = await self.session.execute(
            update(AuthSession)
            .where(AuthSession.account_id == account.id, AuthSession.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return int(getattr(result, "rowcount", 0) or 0)
