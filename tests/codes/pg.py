"""Committed setup for the PostgreSQL concurrency tests (they need separate connections, so
they cannot run inside the rolled-back test transaction). They run on ``isolated_engine``, a
database of their own that is dropped afterwards, so their committed rows never meet other tests."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from medcard.adapters import sandbox_adapters
from medcard.config import Settings
from medcard.db import make_sessionmaker, unit_of_work
from medcard.models import Account, Card, StaffUser
from tests.card.conftest import issue_card
from tests.factories import demo, resident_id, verified_account

postgres_only = pytest.mark.postgres


def skip_unless_postgres(settings: Settings) -> None:
    if settings.is_sqlite:
        pytest.skip("concurrency needs PostgreSQL (SQLite serialises every writer)")


@dataclass
class World:
    sessions: async_sessionmaker[AsyncSession]
    cashier: StaffUser
    accounts: list[Account]
    cards: list[Card]


async def committed_world(engine: AsyncEngine, settings: Settings, *, holders: int) -> World:
    sessions = make_sessionmaker(engine)
    adapters = sandbox_adapters(settings)
    accounts: list[Account] = []
    cards: list[Card] = []
    async with unit_of_work(sessions) as session:
        where = await demo(session)
        for index in range(holders):
            # Birth dates far from the factories' default, so committed IDs never meet another test's.
            birth = date(1950, 1, 1) + timedelta(days=secrets.randbelow(3650))
            number = resident_id(birth=birth, sequence=secrets.randbelow(100))
            name = "并发" + "甲乙丙丁戊己庚辛壬癸"[index % 10] + "子丑寅卯辰巳午未申酉"[index // 10 % 10]
            account = await verified_account(session, name=name, document_number=number, birth=birth)
            accounts.append(account)
            cards.append(await issue_card(session, adapters, account, where.hospital))
    return World(sessions=sessions, cashier=where.staff["cashier"], accounts=accounts, cards=cards)
