"""Job tests run the worker on the test's own connection: each unit of work the worker opens is
a savepoint of the rolled-back test transaction (its commits release the savepoint)."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from medcard.adapters import Adapters
from medcard.config import Settings
from medcard.jobs.worker import Worker


@pytest.fixture
def sessions(db: AsyncSession) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(
        bind=db.bind, join_transaction_mode="create_savepoint", expire_on_commit=False, autoflush=False
    )


@pytest.fixture
def worker(sessions: async_sessionmaker[AsyncSession], settings: Settings, adapters: Adapters) -> Worker:
    return Worker(sessions, settings=settings, adapters=adapters)
