"""Viewing and editing a hospital's card settings. Staff of one hospital see only theirs."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.audit.service import record
from medcard.auth.service import actor_for_staff
from medcard.errors import NotFound
from medcard.hospital import rules
from medcard.hospital.repository import HospitalRepository
from medcard.models import Hospital, StaffUser

SETTING_FIELDS = tuple(rules.CardSettings.__dataclass_fields__)


def card_settings(hospital: Hospital) -> rules.CardSettings:
    """The hospital's current card settings as plain data."""
    return rules.CardSettings(**{name: getattr(hospital, name) for name in SETTING_FIELDS})


async def visible_hospitals(session: AsyncSession, *, staff: StaffUser) -> Sequence[Hospital]:
    """The hospitals ``staff`` may see: all for platform staff, else only their own."""
    return await HospitalRepository(session).visible(only=staff.hospital_id)


async def hospital_for_staff(session: AsyncSession, *, staff: StaffUser, hospital_id: uuid.UUID) -> Hospital:
    """One hospital, or 404 when it does not exist or belongs to another hospital's staff."""
    hospital = await HospitalRepository(session).get(hospital_id)
    if hospital is None or (staff.hospital_id is not None and staff.hospital_id != hospital.id):
        raise NotFound()
    return hospital


async def update_settings(
    session: AsyncSession, *, staff: StaffUser, hospital: Hospital, changes: dict[str, Any]
) -> Hospital:
    """Apply ``changes`` (a subset of the card settings) after checking the merged result
    against R-CARD-08…10; writes one audit row with the values before and after."""
    unknown = set(changes) - set(SETTING_FIELDS)
    if unknown:
        raise ValueError(f"not card settings: {sorted(unknown)}")
    before = card_settings(hospital)
    after = rules.CardSettings(**{**before.as_dict(), **changes})
    refused = rules.violations(after)
    if refused:
        raise refused[0]
    old, new = rules.changes(before, after)
    if not new:
        return hospital
    for name, value in new.items():
        setattr(hospital, name, value)
    await session.flush()
    await record(
        session,
        actor=actor_for_staff(staff),
        action="hospital.settings_update",
        subject=hospital,
        hospital_id=hospital.id,
        details={"before": old, "after": new},
    )
    return hospital
