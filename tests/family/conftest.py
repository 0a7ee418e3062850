"""Fixtures for the family tests: a fixed day and a verified adult holder's headers."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
import pytest

from medcard.adapters import Adapters
from medcard.config import Settings
from medcard.kit.clock import clock
from tests.factories import Demo, bearer, patient_token
from tests.family.helpers import person, verify

HOLDER_BIRTH = date(1988, 6, 15)


@pytest.fixture(autouse=True)
def _today() -> None:
    clock.freeze(datetime(2026, 11, 23, 10, 0, tzinfo=UTC))  # 18:00 in China


@pytest.fixture
async def holder(client: httpx.AsyncClient, adapters: Adapters, settings: Settings, demo: Demo) -> dict[str, str]:
    """A patient verified by face through the API (张伟, born 1988)."""
    headers = bearer(await patient_token(client, adapters))
    await verify(client, headers, name="张伟", number=person(settings, "张伟", HOLDER_BIRTH))
    return headers
