"""PostgreSQL: relatives added by concurrent requests never push an account past 5 patients
(R-FAM-01): the account row is locked before counting, so the racers count one after the other."""

from __future__ import annotations

import asyncio
from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from medcard.adapters import sandbox_adapters
from medcard.config import Settings
from medcard.db import make_sessionmaker, unit_of_work
from medcard.family import service
from medcard.family.errors import FamilyLimitReached
from medcard.family.schemas import FamilyMemberCreate
from medcard.models import Account, FamilyMember
from tests.factories import verified_account
from tests.family.helpers import PROOF, person

pytestmark = pytest.mark.postgres

RACERS = [
    ("赵一", date(1950, 1, 1)),
    ("钱二", date(1951, 2, 2)),
    ("孙三", date(1952, 3, 3)),
    ("李四", date(1953, 4, 4)),
]
ALREADY = [("周甲", date(1940, 1, 1)), ("吴乙", date(1941, 1, 1)), ("郑丙", date(1942, 1, 1))]


async def test_r_fam_01_concurrent_additions_never_exceed_five_patients(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    sessions = make_sessionmaker(isolated_engine)
    adapters = sandbox_adapters(settings)
    async with unit_of_work(sessions) as session:
        account = await verified_account(session, name="张伟", birth=date(1980, 1, 1))
        for name, birth in ALREADY:  # three relatives through the real path (3 + holder = 4 patients)
            claim = FamilyMemberCreate(
                document_number=person(settings, name, birth),
                name=name,
                relation="parent",
                proof_kind="household_register",
            )
            await service.add_member(
                session,
                account=account,
                claim=claim,
                documents={"relation_proof": PROOF},
                adapters=adapters,
                settings=settings,
            )
        account_id = account.id

    async def add(name: str, birth: date) -> FamilyMember:
        async with unit_of_work(sessions) as session:
            holder = await session.get(Account, account_id)
            assert holder is not None
            claim = FamilyMemberCreate(
                document_number=person(settings, name, birth),
                name=name,
                relation="parent",
                proof_kind="household_register",
            )
            return await service.add_member(
                session,
                account=holder,
                claim=claim,
                documents={"relation_proof": PROOF},
                adapters=adapters,
                settings=settings,
            )

    results = await asyncio.gather(*(add(name, birth) for name, birth in RACERS), return_exceptions=True)
    added = [r for r in results if isinstance(r, FamilyMember)]
    refused = [r for r in results if isinstance(r, FamilyLimitReached)]
    assert (len(added), len(refused)) == (1, 3), results
    async with sessions() as session:
        count = await session.scalar(
            select(func.count()).select_from(FamilyMember).where(FamilyMember.account_id == account_id)
        )
    assert count == 4
