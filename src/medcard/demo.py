"""Demo data: a region, two hospitals of different levels, a staff account for every role and
the shipped policy data (regions, schemes, working-day calendar).

Existing HIS patients live in the HIS sandbox fixture (``data/sandbox_his.json``).
Idempotent: running it twice changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.audit.service import Actor, record
from medcard.kit.crypto import hash_password
from medcard.models import STAFF_ROLES, Hospital, Region, StaffUser
from medcard.policy.service import load_shipped as load_policy

DEMO_PASSWORD = "medcard-demo"  # noqa: S105 - printed by `make run`; refused nowhere because demo only


@dataclass(frozen=True)
class DemoSummary:
    region: Region
    hospitals: list[Hospital]
    staff: list[StaffUser]


HOSPITALS = [
    {
        "code": "H110001",
        "name_zh": "京华大学第一医院（三甲）",
        "name_en": "Jinghua University First Hospital",
        "level": "tertiary",
        "is_county": False,
        "physical_card_fee_fen": 1000,
        "deposit_required": False,
        "deposit_min_fen": 1000,
        "credit_enabled": True,
        "credit_limit_fen": 200_000,
        "requires_kiosk_activation": False,
        "foreigner_insurance": False,
    },
    {
        "code": "H110002",
        "name_zh": "密云县人民医院（二级）",
        "name_en": "Miyun County People's Hospital",
        "level": "secondary",
        "is_county": True,
        "physical_card_fee_fen": 500,
        "deposit_required": True,
        "deposit_min_fen": 1000,
        "credit_enabled": False,
        "credit_limit_fen": 0,
        "requires_kiosk_activation": True,
        "foreigner_insurance": False,
    },
]


@cache
def _demo_password_hash() -> str:
    """One scrypt hash (≈ 60 ms) for every demo staff user, made once per process: they share a
    password the README publishes, so a shared salt hides nothing, and every test that loads the
    demo data (most API tests) does not pay seven hashes."""
    return hash_password(DEMO_PASSWORD)


async def load(session: AsyncSession) -> DemoSummary:
    """Create (or find) the demo region, hospitals and staff users."""
    actor = Actor.system("demo-data")
    region = await session.scalar(select(Region).where(Region.code == "110000"))
    if region is None:
        region = Region(code="110000", name_zh="北京市", name_en="Beijing", card_scope="hospital")
        session.add(region)
        await session.flush()
        await record(session, actor=actor, action="region.create", subject=region)
    hospitals = []
    for spec in HOSPITALS:
        hospital = await session.scalar(select(Hospital).where(Hospital.code == spec["code"]))
        if hospital is None:
            hospital = Hospital(region_id=region.id, **spec)
            session.add(hospital)
            await session.flush()
            await record(session, actor=actor, action="hospital.create", subject=hospital)
        hospitals.append(hospital)
    staff = []
    for role in STAFF_ROLES:
        username = f"{role}1"
        user = await session.scalar(select(StaffUser).where(StaffUser.username == username))
        if user is None:
            user = StaffUser(
                username=username,
                display_name=f"Demo {role}",
                password_hash=_demo_password_hash(),
                role=role,
                hospital_id=None if role == "admin" else hospitals[0].id,
            )
            session.add(user)
            await session.flush()
            await record(session, actor=actor, action="staff.create", subject=user)
        staff.append(user)
    await load_policy(session)
    return DemoSummary(region=region, hospitals=hospitals, staff=staff)
