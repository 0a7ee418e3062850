"""Queries over policy versions."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import PolicyVersion


class PolicyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def in_force(self, kind: str, key: str, on: date) -> PolicyVersion | None:
        """The newest version effective on ``on``."""
        statement = (
            select(PolicyVersion)
            .where(PolicyVersion.kind == kind, PolicyVersion.key == key, PolicyVersion.effective_from <= on)
            .order_by(PolicyVersion.effective_from.desc(), PolicyVersion.version.desc())
            .limit(1)
        )
        return await self.session.scalar(statement)

    async def in_force_many(self, kind: str, keys: list[str], on: date) -> dict[str, PolicyVersion]:
        found: dict[str, PolicyVersion] = {}
        statement = (
            select(PolicyVersion)
            .where(PolicyVersion.kind == kind, PolicyVersion.key.in_(keys), PolicyVersion.effective_from <= on)
            .order_by(PolicyVersion.effective_from, PolicyVersion.version)
        )
        for version in await self.session.scalars(statement):
            found[version.key] = version
        return found

    async def history(self, kind: str, key: str) -> list[PolicyVersion]:
        statement = (
            select(PolicyVersion)
            .where(PolicyVersion.kind == kind, PolicyVersion.key == key)
            .order_by(PolicyVersion.version.desc())
        )
        return list(await self.session.scalars(statement))

    async def latest_number(self, kind: str, key: str) -> int:
        statement = select(func.max(PolicyVersion.version)).where(PolicyVersion.kind == kind, PolicyVersion.key == key)
        return int(await self.session.scalar(statement) or 0)

    async def documents(self) -> list[tuple[str, str]]:
        statement = (
            select(PolicyVersion.kind, PolicyVersion.key).distinct().order_by(PolicyVersion.kind, PolicyVersion.key)
        )
        return [(kind, key) for kind, key in (await self.session.execute(statement)).all()]

    async def by_kind(self, kind: str) -> list[PolicyVersion]:
        statement = select(PolicyVersion).where(PolicyVersion.kind == kind).order_by(PolicyVersion.version)
        return list(await self.session.scalars(statement))
