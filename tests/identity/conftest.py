"""Fixtures for the identity tests: a logged-in patient's headers."""

from __future__ import annotations

import httpx
import pytest

from medcard.adapters import Adapters
from tests.factories import bearer, patient_token


@pytest.fixture
async def patient(client: httpx.AsyncClient, adapters: Adapters) -> dict[str, str]:
    """Authorization headers of a freshly logged-in, unverified patient."""
    return bearer(await patient_token(client, adapters))


@pytest.fixture
async def other_patient(client: httpx.AsyncClient, adapters: Adapters) -> dict[str, str]:
    return bearer(await patient_token(client, adapters))
