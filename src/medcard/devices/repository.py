"""Queries for devices, login history and WebAuthn credentials."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import Account, AuthSession, Device, WebAuthnCredential


def _trusted_login() -> ColumnElement[bool]:
    """A login that was normal, or stepped up: only those teach us the owner's regions."""
    return or_(AuthSession.step_up_reasons == "", AuthSession.stepped_up_at.is_not(None))


class DeviceRepository:
    """An account's devices, its trusted logins and its authenticators."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock_account(self, account: Account) -> None:
        await self.session.execute(select(Account.id).where(Account.id == account.id).with_for_update())

    async def by_key(self, account: Account, key_hash: str) -> Device | None:
        query = select(Device).where(Device.account_id == account.id, Device.key_hash == key_hash)
        return await self.session.scalar(query)

    async def has_any(self, account: Account) -> bool:
        return bool(await self.session.scalar(select(exists().where(Device.account_id == account.id))))

    async def of_account(self, account: Account) -> Sequence[Device]:
        query = (
            select(Device)
            .where(Device.account_id == account.id, Device.revoked_at.is_(None))
            .order_by(Device.last_seen_at.desc())
        )
        return (await self.session.scalars(query)).all()

    async def device(self, account: Account, device_id: uuid.UUID) -> Device | None:
        query = select(Device).where(Device.id == device_id, Device.account_id == account.id)
        return await self.session.scalar(query)

    async def trusted_regions(self, account: Account) -> set[str]:
        query = select(AuthSession.region).where(AuthSession.account_id == account.id, _trusted_login()).distinct()
        return set((await self.session.scalars(query)).all())

    async def latest_trusted_login(self, account: Account) -> AuthSession | None:
        query = (
            select(AuthSession)
            .where(AuthSession.account_id == account.id, _trusted_login())
            .order_by(AuthSession.created_at.desc())
            .limit(1)
        )
        return await self.session.scalar(query)

    async def credentials(
        self, account: Account, *, device_id: uuid.UUID | None = None
    ) -> Sequence[WebAuthnCredential]:
        query = select(WebAuthnCredential).where(
            WebAuthnCredential.account_id == account.id, WebAuthnCredential.revoked_at.is_(None)
        )
        if device_id is not None:
            query = query.where(WebAuthnCredential.device_id == device_id)
        return (await self.session.scalars(query)).all()

    async def credential(self, account: Account, credential_id: str) -> WebAuthnCredential | None:
        query = (
            select(WebAuthnCredential)
            .where(
                WebAuthnCredential.account_id == account.id,
                WebAuthnCredential.credential_id == credential_id,
                WebAuthnCredential.revoked_at.is_(None),
            )
            .with_for_update()
        )
        return await self.session.scalar(query)

    async def credential_id_taken(self, credential_id: str) -> bool:
        query = select(exists().where(WebAuthnCredential.credential_id == credential_id))
        return bool(await self.session.scalar(query))

    async def revoke(self, device_ids: Sequence[uuid.UUID], *, now: datetime) -> None:
        """Revoke devices, their login sessions and their authenticators (three UPDATEs)."""
        if not device_ids:
            return
        for statement in (
            update(AuthSession).where(AuthSession.device_id.in_(device_ids), AuthSession.revoked_at.is_(None)),
            update(WebAuthnCredential).where(
                WebAuthnCredential.device_id.in_(device_ids), WebAuthnCredential.revoked_at.is_(None)
            ),
            update(Device).where(Device.id.in_(device_ids), Device.revoked_at.is_(None)),
        ):
            await self.session.execute(statement.values(revoked_at=now).execution_options(synchronize_session=False))
