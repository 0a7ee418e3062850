"""Queries for accounts, staff users and login sessions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import Account, AuthSession, StaffUser


class AuthRepository:
    """Lookups by openid, username and token hash."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def account_by_openid(self, openid: str) -> Account | None:
        return await self.session.scalar(select(Account).where(Account.openid == openid))

    async def staff_by_username(self, username: str) -> StaffUser | None:
        return await self.session.scalar(select(StaffUser).where(StaffUser.username == username))

    async def session_by_token_hash(self, token_hash: str) -> AuthSession | None:
        return await self.session.scalar(select(AuthSession).where(AuthSession.token_hash == token_hash))
