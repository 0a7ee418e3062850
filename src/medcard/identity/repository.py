"""Every query about verification sessions, SMS codes, persons and guardianships."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import SmsCode


class IdentityRepository:
    """Lookups for the identity domain."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def sms_codes_since(self, *, since: datetime, phone: str | None = None, client_ip: str | None = None) -> int:
        query = select(func.count()).select_from(SmsCode).where(SmsCode.created_at >= since)
        if phone is not None:
            query = query.where(SmsCode.phone == phone)
        if client_ip is not None:
            query = query.where(SmsCode.client_ip == client_ip)
        return int(await self.session.scalar(query) or 0)

    async def latest_sms_code(self, *, phone: str, purpose: str) -> SmsCode | None:
        query = (
            select(SmsCode)
            .where(SmsCode.phone == phone, SmsCode.purpose == purpose)
            .order_by(SmsCode.created_at.desc())
            .limit(1)
            .with_for_update()
        )
        return await self.session.scalar(query)
