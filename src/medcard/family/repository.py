"""Every query about family members, their proofs and the patients an account may act for."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.family.rules import OPEN_STATUSES
from medcard.models import Account, AuthSession, FamilyMember, FamilyProof, PaymentOrder, Person


def _current(today: date) -> ColumnElement[bool]:
    """An active relation not past its end (the SQL twin of ``rules.is_current``)."""
    return (FamilyMember.status == "active") & or_(FamilyMember.ends_on.is_(None), FamilyMember.ends_on > today)


def managed_person_ids(account: Account, today: date) -> Select[uuid.UUID]:
    """The persons ``account`` may act for today (its current family members), as a subquery."""
    return select(FamilyMember.patient_person_id).where(FamilyMember.account_id == account.id, _current(today))


def visible_person(column: SQLColumnExpression[uuid.UUID], account: Account, today: date) -> ColumnElement[bool]:
    """``column`` (a person id) is the holder himself or a patient he currently manages. Cards and
    everything hanging off a patient are filtered through this, so a relation that ends hides them
    at once (R-FAM-06)."""
    managed = column.in_(managed_person_ids(account, today))
    return or_(column == account.person_id, managed) if account.person_id is not None else managed


class FamilyRepository:
    """Family members by account or by patient; proofs; the session's current patient."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_account(self, account: Account) -> None:
        """Serialise additions to one account (R-FAM-01's limit under concurrent requests)."""
        await self.session.execute(select(Account.id).where(Account.id == account.id).with_for_update())

    async def open_count(self, account: Account, today: date) -> int:
        """Relations holding a place among the account's patients (pending or active, not ended)."""
        query = (
            select(func.count())
            .select_from(FamilyMember)
            .where(
                FamilyMember.account_id == account.id,
                FamilyMember.status.in_(OPEN_STATUSES),
                or_(FamilyMember.ends_on.is_(None), FamilyMember.ends_on > today),
            )
        )
        return int(await self.session.scalar(query) or 0)

    async def of_account(self, account: Account) -> Sequence[FamilyMember]:
        query = select(FamilyMember).where(FamilyMember.account_id == account.id).order_by(FamilyMember.created_at)
        return (await self.session.scalars(query)).unique().all()

    async def member(self, account: Account, member_id: uuid.UUID, *, for_update: bool = False) -> FamilyMember | None:
        query = select(FamilyMember).where(FamilyMember.id == member_id, FamilyMember.account_id == account.id)
        if for_update:
            query = query.with_for_update(of=FamilyMember)
        return (await self.session.scalars(query)).unique().one_or_none()

    async def by_id(self, member_id: uuid.UUID, *, for_update: bool = False) -> FamilyMember | None:
        query = select(FamilyMember).where(FamilyMember.id == member_id)
        if for_update:
            query = query.with_for_update(of=FamilyMember)
        return (await self.session.scalars(query)).unique().one_or_none()

    async def pair(self, account: Account, person: Person) -> FamilyMember | None:
        query = select(FamilyMember).where(
            FamilyMember.account_id == account.id, FamilyMember.patient_person_id == person.id
        )
        return (await self.session.scalars(query.with_for_update(of=FamilyMember))).unique().one_or_none()

    async def current_patient(self, account: Account, person_id: uuid.UUID, today: date) -> Person | None:
        """The person if ``account`` currently manages him."""
        query = select(Person).where(Person.id == person_id, Person.id.in_(managed_person_ids(account, today)))
        return await self.session.scalar(query)

    async def current_patients(self, account: Account, today: date) -> Sequence[Person]:
        """The persons the account currently manages, in the order they were added."""
        query = (
            select(Person)
            .join(FamilyMember, FamilyMember.patient_person_id == Person.id)
            .where(FamilyMember.account_id == account.id, _current(today))
            .order_by(FamilyMember.created_at)
        )
        return (await self.session.scalars(query)).all()

    async def proxies_of(self, person: Person) -> Sequence[tuple[FamilyMember, Account]]:
        """Accounts that manage ``person`` or asked to (pending, active), oldest first."""
        query = (
            select(FamilyMember, Account)
            .join(Account, Account.id == FamilyMember.account_id)
            .where(FamilyMember.patient_person_id == person.id, FamilyMember.status.in_(OPEN_STATUSES))
            .order_by(FamilyMember.created_at)
        )
        return [(member, account) for member, account in (await self.session.execute(query)).unique().all()]

    async def current_proxies_of(self, person: Person, today: date) -> Sequence[FamilyMember]:
        query = select(FamilyMember).where(FamilyMember.patient_person_id == person.id, _current(today))
        return (await self.session.scalars(query)).unique().all()

    async def account_of_person(self, person: Person) -> Account | None:
        return await self.session.scalar(select(Account).where(Account.person_id == person.id))

    async def pending_review(self, limit: int = 100) -> Sequence[FamilyMember]:
        query = (
            select(FamilyMember)
            .where(FamilyMember.status == "pending_review")
            .order_by(FamilyMember.created_at)
            .limit(limit)
        )
        return (await self.session.scalars(query)).unique().all()

    async def proofs(self, member: FamilyMember) -> Sequence[FamilyProof]:
        query = select(FamilyProof).where(FamilyProof.member_id == member.id).order_by(FamilyProof.document)
        return (await self.session.scalars(query)).all()

    async def proof(self, member: FamilyMember, document: str) -> FamilyProof | None:
        query = select(FamilyProof).where(FamilyProof.member_id == member.id, FamilyProof.document == document)
        return await self.session.scalar(query)

    async def due_to_expire(self, today: date, limit: int = 500) -> Sequence[FamilyMember]:
        query = (
            select(FamilyMember)
            .where(FamilyMember.status.in_(OPEN_STATUSES), FamilyMember.ends_on <= today)
            .limit(limit)
            .with_for_update(of=FamilyMember, skip_locked=True)
        )
        return (await self.session.scalars(query)).unique().all()

    async def forget_current_patient(self, account_id: uuid.UUID, person_id: uuid.UUID) -> None:
        """Sessions of ``account_id`` that had switched to ``person_id`` go back to the holder."""
        await self.session.execute(
            update(AuthSession)
            .where(AuthSession.account_id == account_id, AuthSession.current_patient_id == person_id)
            .values(current_patient_id=None)
        )

    async def paid_orders(
        self, account: Account, start: datetime, end: datetime, today: date
    ) -> Sequence[tuple[PaymentOrder, Person]]:
        """Orders the account paid in [start, end) for itself and the relatives it acts for today."""
        query = (
            select(PaymentOrder, Person)
            .join(Person, Person.id == PaymentOrder.person_id)
            .where(
                PaymentOrder.account_id == account.id,
                PaymentOrder.state == "paid",
                PaymentOrder.paid_at >= start,
                PaymentOrder.paid_at < end,
                visible_person(PaymentOrder.person_id, account, today),
            )
            .order_by(PaymentOrder.paid_at)
        )
        return [(order, person) for order, person in (await self.session.execute(query)).unique().all()]
