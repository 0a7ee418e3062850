"""Every query about cards, their drafts, and the hospitals and wards they belong to."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.family.repository import FamilyRepository, visible_person
from medcard.kit.clock import clock
from medcard.kit.keys import blind_index
from medcard.models import Account, Card, CardDraft, Hospital, Person


class CardRepository:
    """Cards by owner account, number, person; drafts; hospitals; wards."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def for_account(self, account: Account, *, person: Person | None = None) -> Sequence[Card]:
        """Every card the account may see — the holder's own and those of the relatives he currently
        acts for (R-FAM-01; a relation that ended hides them at once) —, or only ``person``'s, oldest first."""
        query = select(Card).where(visible_person(Card.person_id, account, clock.today_in_china()))
        if person is not None:
            query = query.where(Card.person_id == person.id)
        return (await self.session.scalars(query.order_by(Card.created_at))).unique().all()

    async def of_account(self, account: Account, card_id: uuid.UUID) -> Card | None:
        """The card if ``account`` may see it (anyone else's card is simply not found)."""
        query = select(Card).where(Card.id == card_id, visible_person(Card.person_id, account, clock.today_in_china()))
        return (await self.session.scalars(query)).unique().one_or_none()

    async def by_number(self, card_number: str, *, for_update: bool = False) -> Card | None:
        query = select(Card).where(Card.card_number == card_number)
        if for_update:
            query = query.with_for_update(of=Card)
        return (await self.session.scalars(query)).unique().one_or_none()

    async def hospital_of_number(self, card_number: str) -> tuple[uuid.UUID, uuid.UUID] | None:
        """The card's id and hospital, nothing decrypted (the staff look-up checks scope first)."""
        row = (
            await self.session.execute(select(Card.id, Card.hospital_id).where(Card.card_number == card_number))
        ).one_or_none()
        return (row[0], row[1]) if row is not None else None

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

    async def by_blind_index(
        self, kind: str, value: str, *, hospital_id: uuid.UUID | None, limit: int
    ) -> Sequence[Card]:
        """Cards whose ``kind`` (document, phone, name) matches ``value`` exactly, found by blind
        index without decrypting; with a hospital, only that hospital's cards."""
        column = {"document": Card.document_number_index, "phone": Card.phone_index, "name": Card.name_index}[kind]
        query = select(Card).where(column == blind_index(kind, value)).order_by(Card.card_number).limit(limit)
        if hospital_id is not None:
            query = query.where(Card.hospital_id == hospital_id)
        return (await self.session.scalars(query)).all()

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
        """The relative ``ward_id`` if this account currently acts for him (R-FAM-01…06)."""
        return await FamilyRepository(self.session).current_patient(account, ward_id, clock.today_in_china())

    async def wards(self, account: Account) -> Sequence[Person]:
        """The relatives this account currently acts for (children, parents, spouse, wards)."""
        return await FamilyRepository(self.session).current_patients(account, clock.today_in_china())
