"""Queries for security profiles, devices and sessions."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import Account, AuthSession, Card, SecurityProfile, VerificationSession


@dataclass(frozen=True)
class LossReportFacts:
    """What the hotline's identity questions are checked against: only these three encrypted
    columns are read (and decrypted), so a found card costs the same as the dummy for a missing one."""

    card_id: uuid.UUID
    card_number: str
    account_id: uuid.UUID
    hospital_id: uuid.UUID
    name: str
    document_number: str
    phone: str


class SecurityRepository:
    """Profiles (optionally row-locked), fresh verifications, a card for the hotline."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def profile(self, account_id: uuid.UUID, *, lock: bool = False) -> SecurityProfile | None:
        query = select(SecurityProfile).where(SecurityProfile.account_id == account_id)
        if lock:
            # A locked read must see the row as committed by whoever held the lock before us.
            query = query.with_for_update().execution_options(populate_existing=True)
        return await self.session.scalar(query)

    async def ensure_profiles(self, account_ids: Collection[uuid.UUID]) -> set[uuid.UUID]:
        """Create the missing profiles of ``account_ids`` (so later payments have a row to lock
        and be serialised on) and return the frozen ones among them."""
        rows = (
            await self.session.execute(
                select(SecurityProfile.account_id, SecurityProfile.frozen_at).where(
                    SecurityProfile.account_id.in_(account_ids)
                )
            )
        ).all()
        await self.create_profiles(set(account_ids) - {account_id for account_id, _ in rows})
        return {account_id for account_id, frozen_at in rows if frozen_at is not None}

    async def create_profiles(self, account_ids: Collection[uuid.UUID]) -> None:
        """Create default profiles for accounts that have none (one statement; a concurrent
        creation of the same profile is no error)."""
        if not account_ids:
            return
        table = SecurityProfile.metadata.tables["security_profile"]
        postgres = self.session.get_bind().dialect.name == "postgresql"
        statement = (postgresql.insert if postgres else sqlite.insert)(table)
        await self.session.execute(
            statement.on_conflict_do_nothing(index_elements=["account_id"]),
            [{"account_id": account_id} for account_id in account_ids],
        )

    async def lock_profiles(self, account_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, SecurityProfile]:
        """Lock the profiles of several accounts, always in account-id order so that two
        batches locking overlapping accounts cannot deadlock."""
        rows = await self.session.scalars(
            select(SecurityProfile)
            .where(SecurityProfile.account_id.in_(account_ids))
            .order_by(SecurityProfile.account_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return {profile.account_id: profile for profile in rows}

    async def passed_verification(
        self, account: Account, verification_id: uuid.UUID, *, purposes: Collection[str]
    ) -> VerificationSession | None:
        return await self.session.scalar(
            select(VerificationSession).where(
                VerificationSession.id == verification_id,
                VerificationSession.account_id == account.id,
                VerificationSession.status == "passed",
                VerificationSession.purpose.in_(purposes),
            )
        )

    async def latest_passed_verification_id(self, account: Account, *, purposes: Collection[str]) -> uuid.UUID | None:
        return await self.session.scalar(
            select(VerificationSession.id)
            .where(
                VerificationSession.account_id == account.id,
                VerificationSession.status == "passed",
                VerificationSession.purpose.in_(purposes),
            )
            .order_by(VerificationSession.finished_at.desc())
            .limit(1)
        )

    async def card_by_number(self, card_number: str) -> Card | None:
        return await self.session.scalar(select(Card).where(Card.card_number == card_number))

    async def loss_report_facts(self, card_number: str) -> LossReportFacts | None:
        row = (
            await self.session.execute(
                select(
                    Card.id,
                    Card.card_number,
                    Card.account_id,
                    Card.hospital_id,
                    Card.name,
                    Card.document_number,
                    Card.phone,
                ).where(Card.card_number == card_number)
            )
        ).one_or_none()
        return LossReportFacts(*row) if row is not None else None

    async def revoke_sessions(self, account: Account, *, keep: uuid.UUID | None, now: datetime) -> None:
        query = update(AuthSession).where(AuthSession.account_id == account.id, AuthSession.revoked_at.is_(None))
        if keep is not None:
            query = query.where(AuthSession.id != keep)
        await self.session.execute(query.values(revoked_at=now).execution_options(synchronize_session=False))
