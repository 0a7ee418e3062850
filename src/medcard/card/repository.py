"""Every query about cards, their drafts, and the hospitals and wards they belong to."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.kit.keys import blind_index
from medcard.models import Account, Card, CardDraft, Guardianship, Hospital, Person


class CardRepository:
    """Cards by owner account, number, person; drafts; hospitals; wards."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_account(self, account: Account) -> Sequence[Card]:
        """Every card the account manages (its own and its wards'), oldest first."""
        query = select(Card).where(Card.account_id == account.id).order_by(Card.created_at)
        return (await self.session.scalars(query)).unique().all()

    async def of_account(self, account: Account, card_id: uuid.UUID) -> Card | None:
        """The card if ``account`` manages it (another account's card is simply not found)."""
        query = select(Card).where(Card.id == card_id, Card.account_id == account.id)
        return (await self.session.scalars(query)).unique().one_or_none()

    async def by_number(self, card_number: str, *, for_update: bool = False) -> Card | None:
        query = select(Card).where(Card.card_number == card_number)
        if for_update:
            query = query.with_for_update(of=Card)
        return (await self.session.scalars(query)).unique().one_or_none()

    async def by_id(self, card_id: uuid.UUID, *, for_update: bool = False) -> Card | None:
        query = select(Card).where(Card.id == card_id)
        if for_update:
            query = query.with_for_update(of=Card)
        return (await self.session.scalars(query)).unique().one_or_none()

    async def issuance_conflicts(self, *, scope: str, person: Person, card_number: str) -> tuple[bool, bool]:
        """Whether the person already has a card in ``scope``, and whether ``card_number`` is taken (one query)."""
        scope_taken = exists().where(Card.scope == scope, Card.person_id == person.id)
        number_taken = exists().where(Card.card_number == card_number)
        row = (await self.session.execute(select(scope_taken, number_taken))).one()
        return bool(row[0]), bool(row[1])

    async def document_taken_in_scope(self, *, scope: str, document_number: str, except_card: Card) -> bool:
        condition = (
            (Card.scope == scope)
            & (Card.document_number_index == blind_index("document", document_number))
            & (Card.id != except_card.id)
        )
        return bool(await self.session.scalar(select(exists().where(condition))))

    async def draft(
        self, *, account: Account, hospital: Hospital, subject_key: str, for_update: bool = False
    ) -> CardDraft | None:
        query = select(CardDraft).where(
            CardDraft.account_id == account.id,
            CardDraft.hospital_id == hospital.id,
            CardDraft.subject_key == subject_key,
        )
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def hospital_by_code(self, code: str) -> Hospital | None:
        return (await self.session.scalars(select(Hospital).where(Hospital.code == code))).unique().one_or_none()

    async def hospitals(self) -> Sequence[Hospital]:
        return (await self.session.scalars(select(Hospital).order_by(Hospital.code))).unique().all()

    async def ward_of(self, *, account: Account, ward_id: uuid.UUID) -> Person | None:
        """The ward ``ward_id`` if this account holds a guardianship over that person."""
        query = (
            select(Person)
            .join(Guardianship, Guardianship.ward_person_id == Person.id)
            .where(Guardianship.account_id == account.id, Person.id == ward_id)
        )
        return await self.session.scalar(query)

    async def wards(self, account: Account) -> Sequence[Person]:
        query = (
            select(Person)
            .join(Guardianship, Guardianship.ward_person_id == Person.id)
            .where(Guardianship.account_id == account.id)
            .order_by(Guardianship.created_at)
        )
        return (await self.session.scalars(query)).all()
