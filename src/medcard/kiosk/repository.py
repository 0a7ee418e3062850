"""Every query the kiosk makes."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import Account, Card, PhysicalCard


class KioskRepository:
    """Cards by number, their issued physical card, serial look-ups and the card row lock."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def card_by_number(self, card_number: str) -> Card | None:
        return await self.session.scalar(select(Card).where(Card.card_number == card_number))

    async def account_status(self, card: Card) -> str | None:
        """The status of the card's account, alone: loading the account would also load and
        decrypt its person, on every scan."""
        return await self.session.scalar(select(Account.status).where(Account.id == card.account_id))

    async def lock(self, card: Card) -> None:
        """Lock the card row until commit, so two kiosks cannot issue for one card at once
        (PostgreSQL ``FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE`` already serialises writers)."""
        await self.session.execute(select(Card.id).where(Card.id == card.id).with_for_update())

    async def issued_physical_card(self, card: Card) -> PhysicalCard | None:
        """The card's physical card in use (at most one, R-CARD-08)."""
        query = select(PhysicalCard).where(PhysicalCard.card_id == card.id, PhysicalCard.status == "issued")
        return await self.session.scalar(query)

    async def serial_taken(self, serial: str) -> bool:
        return await self.session.scalar(select(PhysicalCard.id).where(PhysicalCard.serial == serial)) is not None

    async def physical_card(self, physical_card_id: uuid.UUID) -> PhysicalCard | None:
        return await self.session.get(PhysicalCard, physical_card_id)

    async def card(self, card_id: uuid.UUID) -> Card | None:
        return await self.session.get(Card, card_id)

    async def replaced_by(self, physical_card: PhysicalCard) -> PhysicalCard | None:
        """The physical card ``physical_card`` replaced: the card's newest replaced one before it."""
        query = (
            select(PhysicalCard)
            .where(
                PhysicalCard.card_id == physical_card.card_id,
                PhysicalCard.status == "replaced",
                PhysicalCard.created_at <= physical_card.created_at,
                PhysicalCard.id != physical_card.id,
            )
            .order_by(PhysicalCard.created_at.desc())
            .limit(1)
        )
        return await self.session.scalar(query)
