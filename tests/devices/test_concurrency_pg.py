"""Simultaneous first logins of one account on PostgreSQL (R-SEC-04, R-SEC-06)."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from medcard.adapters.oauth import OAuthIdentity
from medcard.auth.service import Client, login_patient
from medcard.config import Settings
from medcard.db import unit_of_work
from medcard.kit.crypto import random_token
from medcard.models import Account, Device
from tests.codes.pg import committed_world, postgres_only, skip_unless_postgres

pytestmark = postgres_only
ANDROID = "Mozilla/5.0 (Linux; Android 14) Chrome/120"


async def test_r_sec_04_two_simultaneous_first_logins_bind_one_device_and_trust_one(
    isolated_engine: AsyncEngine, settings: Settings
) -> None:
    """A double-submitted login (same device key twice) binds one device, without a unique-key
    error; two new devices logging in at once do not both become the trusted first device."""
    skip_unless_postgres(settings)
    world = await committed_world(isolated_engine, settings, holders=2)
    account_id = world.accounts[0].id
    same_key = random_token()

    async def login(device_key: str, holder: int = 0) -> tuple[str, ...]:
        async with unit_of_work(world.sessions) as session:
            account = await session.get(Account, world.accounts[holder].id)
            assert account is not None
            done = await login_patient(
                session,
                identity=OAuthIdentity(openid=account.openid, nickname=""),
                client=Client(
                    ip="127.0.0.1", user_agent="Mozilla/5.0 (Linux; Android 14) Chrome/120", device_key=device_key
                ),
                settings=settings,
            )
            return done.step_up_reasons

    assert await asyncio.gather(login(same_key), login(same_key)) == [(), ()]
    async with world.sessions() as session:
        assert await session.scalar(select(func.count()).where(Device.account_id == account_id)) == 1

    outcomes = await asyncio.gather(login(random_token(), holder=1), login(random_token(), holder=1))
    assert sorted(outcomes) == [(), ("new_device",)]  # exactly one is the trusted first device
