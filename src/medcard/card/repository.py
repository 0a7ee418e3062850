"""Every query about cards."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import Account, Card


class CardRepository:
    """Cards by owner account, number, person."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_account(self, account: Account) -> Sequence[Card]:
        """Every card the account manages (its own and its wards'), oldest first."""
        query = select(Card).where(Card.account_id == account.id).order_by(Card.created_at)
        return (await self.session.scalars(query)).unique().all()
