"""Queries for accounts, staff users and login sessions."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from medcard.db import among, driver_connection
from medcard.models import Account, AuthSession, LoginFailure, StaffUser


class AuthRepository:
    """Lookups by openid, username and token hash; refused-login counts."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def account_by_openid(self, openid: str) -> Account | None:
        return await self.session.scalar(select(Account).where(Account.openid == openid))

    async def staff_by_username(self, username: str) -> StaffUser | None:
        return await self.session.scalar(select(StaffUser).where(StaffUser.username == username))

    async def session_by_token_hash(self, token_hash: str, *, with_holder: bool = False) -> AuthSession | None:
        """The session with this token hash. ``with_holder`` loads its account or staff user in the
        same statement (outer joins), so the request's later ``session.get`` of either is answered
        from the identity map: one statement per request for the login instead of two."""
        if not with_holder:
            return await self.session.scalar(select(AuthSession).where(AuthSession.token_hash == token_hash))
        row = (
            await self.session.execute(
                select(AuthSession, Account, StaffUser)
                .outerjoin(Account, AuthSession.account_id == Account.id)
                .outerjoin(StaffUser, AuthSession.staff_id == StaffUser.id)
                .where(AuthSession.token_hash == token_hash)
            )
        ).first()
        return row[0] if row is not None else None

    async def live_staff_by_token_hashes(self, token_hashes: Collection[str], *, now: datetime) -> dict[str, StaffUser]:
        """The staff user behind each live (unrevoked, unexpired) staff session, by token hash:
        one statement for a whole batch of POS requests (the code gateway). On PostgreSQL it goes
        straight to asyncpg and the users are transient objects holding only id, username, role,
        hospital and active (what the POS path reads; never added to the session)."""
        driver = await driver_connection(self.session)
        if driver is not None:
            return {
                token_hash: StaffUser(id=user_id, username=username, role=role, hospital_id=hospital_id, active=active)
                for token_hash, user_id, username, role, hospital_id, active in await driver.fetch(
                    _LIVE_STAFF, list(token_hashes), now
                )
            }
        rows = await self.session.execute(
            select(AuthSession.token_hash, StaffUser)
            .join(StaffUser, AuthSession.staff_id == StaffUser.id)
            .where(
                AuthSession.token_hash.in_(token_hashes), AuthSession.revoked_at.is_(None), AuthSession.expires_at > now
            )
        )
        return {row[0]: row[1] for row in rows}

    async def live_patients_by_token_hashes(
        self, token_hashes: Collection[str], *, now: datetime
    ) -> dict[str, tuple[AuthSession, Account]]:
        """The login session and patient account behind each live patient token hash: one
        statement for a whole batch of payments (SQLite: the payment gateway reads them with the
        card on PostgreSQL, ``SettlementRepository.payment_facts``)."""
        rows = await self.session.execute(
            select(AuthSession, Account)
            .join(Account, AuthSession.account_id == Account.id)
            .options(raiseload(Account.person))
            .where(
                among(self.session, AuthSession.token_hash, token_hashes),
                AuthSession.revoked_at.is_(None),
                AuthSession.expires_at > now,
            )
        )
        return {auth.token_hash: (auth, account) for auth, account in rows}

    async def nth_latest_failure(
        self, n: int, *, scope: str, since: datetime, subject_hash: str | None = None, client_ip: str | None = None
    ) -> datetime | None:
        """When the ``n``-th most recent refused login since ``since`` happened (None if fewer)."""
        query = select(LoginFailure.created_at).where(LoginFailure.scope == scope, LoginFailure.created_at > since)
        if subject_hash is not None:
            query = query.where(LoginFailure.subject_hash == subject_hash)
        if client_ip is not None:
            query = query.where(LoginFailure.client_ip == client_ip)
        query = query.order_by(LoginFailure.created_at.desc()).offset(n - 1).limit(1)
        return await self.session.scalar(query)

    async def nth_latest_login(self, n: int, *, account: Account, since: datetime) -> datetime | None:
        """When the account's ``n``-th most recent session since ``since`` opened (None if fewer)."""
        query = (
            select(AuthSession.created_at)
            .where(AuthSession.account_id == account.id, AuthSession.created_at > since)
            .order_by(AuthSession.created_at.desc())
            .offset(n - 1)
            .limit(1)
        )
        return await self.session.scalar(query)

    async def failure_run(self, *, scope: str, subject_hash: str, since: datetime) -> tuple[int, datetime | None]:
        """How many refused logins the username had since ``since`` (any address), and the latest."""
        row = (
            await self.session.execute(
                select(func.count(), func.max(LoginFailure.created_at)).where(
                    LoginFailure.scope == scope,
                    LoginFailure.subject_hash == subject_hash,
                    LoginFailure.created_at > since,
                )
            )
        ).one()
        return int(row[0]), row[1]

    async def clear_failures(self, *, scope: str, subject_hash: str, client_ip: str | None = None) -> int:
        """Delete the username's refused logins (from one address, or from all); how many."""
        query = delete(LoginFailure).where(LoginFailure.scope == scope, LoginFailure.subject_hash == subject_hash)
        if client_ip is not None:
            query = query.where(LoginFailure.client_ip == client_ip)
        result = await self.session.execute(query)
        return int(getattr(result, "rowcount", 0) or 0)


_LIVE_STAFF = """
SELECT s.token_hash, u.id, u.username, u.role, u.hospital_id, u.active
FROM auth_session s JOIN staff_user u ON u.id = s.staff_id
WHERE s.token_hash = ANY($1::text[]) AND s.revoked_at IS NULL AND s.expires_at > $2"""
