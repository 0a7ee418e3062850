"""Every query about hospitals."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.models import Hospital


class HospitalRepository:
    """Hospitals by id, and the list a staff member may see."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, hospital_id: uuid.UUID) -> Hospital | None:
        return await self.session.get(Hospital, hospital_id)

    async def visible(self, *, only: uuid.UUID | None) -> Sequence[Hospital]:
        """Every hospital by code, or only the one a hospital's staff member belongs to."""
        query = select(Hospital).order_by(Hospital.code)
        if only is not None:
            query = query.where(Hospital.id == only)
        return (await self.session.scalars(query)).unique().all()
