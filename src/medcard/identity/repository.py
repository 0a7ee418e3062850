"""Every query about verification sessions, SMS codes, persons and guardianships."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.family.rules import OPEN_STATUSES
from medcard.kit.keys import blind_index
from medcard.models import Account, FamilyMember, Guardianship, Hospital, Person, SmsCode, VerificationSession


class IdentityRepository:
    """Lookups for the identity domain."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sms_codes_since(self, *, since: datetime, phone: str | None = None, client_ip: str | None = None) -> int:
        query = select(func.count()).select_from(SmsCode).where(SmsCode.created_at >= since)
        if phone is not None:
            query = query.where(SmsCode.phone_index == blind_index("phone", phone))
        if client_ip is not None:
            query = query.where(SmsCode.client_ip == client_ip)
        return int(await self.session.scalar(query) or 0)

    async def latest_sms_code(self, *, phone: str, purpose: str) -> SmsCode | None:
        query = (
            select(SmsCode)
            .where(SmsCode.phone_index == blind_index("phone", phone), SmsCode.purpose == purpose)
            .order_by(SmsCode.created_at.desc())
            .limit(1)
            .with_for_update()
        )
        return await self.session.scalar(query)

    async def pending_sms_code(self, *, account: Account, purpose: str, now: datetime) -> SmsCode | None:
        """The account's newest unused, unexpired code for ``purpose``."""
        query = (
            select(SmsCode)
            .where(
                SmsCode.account_id == account.id,
                SmsCode.purpose == purpose,
                SmsCode.used_at.is_(None),
                SmsCode.expires_at > now,
            )
            .order_by(SmsCode.created_at.desc())
            .limit(1)
        )
        return await self.session.scalar(query)

    async def verification_of(
        self, account: Account, verification_id: uuid.UUID, *, for_update: bool = False
    ) -> VerificationSession | None:
        """The account's own session (another account's id finds nothing), locked when asked."""
        query = select(VerificationSession).where(
            VerificationSession.id == verification_id, VerificationSession.account_id == account.id
        )
        if for_update:
            query = query.with_for_update()
        return await self.session.scalar(query)

    async def person_by_document(self, document_type: str, document_number: str) -> Person | None:
        query = select(Person).where(
            Person.document_type == document_type,
            Person.document_number_index == blind_index("document", document_number),
        )
        return await self.session.scalar(query)

    async def account_holding(self, person: Person) -> Account | None:
        """The account whose own identity is ``person`` (at most one)."""
        return await self.session.scalar(select(Account).where(Account.person_id == person.id))

    async def guardianship(self, *, guardian: Person, ward: Person) -> Guardianship | None:
        query = select(Guardianship).where(
            Guardianship.guardian_person_id == guardian.id, Guardianship.ward_person_id == ward.id
        )
        return await self.session.scalar(query)

    async def wards_of(self, account: Account) -> Sequence[tuple[Guardianship, Person]]:
        """The guardianships the account recorded whose family relation is still open (pending or
        active: a relation the holder, the ward or age ended is gone from the list), oldest first."""
        still_open = exists().where(
            FamilyMember.account_id == account.id,
            FamilyMember.patient_person_id == Guardianship.ward_person_id,
            FamilyMember.status.in_(OPEN_STATUSES),
        )
        query = (
            select(Guardianship, Person)
            .join(Person, Person.id == Guardianship.ward_person_id)
            .where(Guardianship.account_id == account.id, still_open)
            .order_by(Guardianship.created_at)
        )
        return [(row[0], row[1]) for row in (await self.session.execute(query)).all()]

    async def hospitals(self) -> Sequence[Hospital]:
        return (await self.session.scalars(select(Hospital).order_by(Hospital.code))).unique().all()
