"""Device fixtures: clients at chosen addresses (the sandbox IP table maps them to cities),
API logins that keep or drop the device key, fresh identity verifications."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.account.rules import CONSENT_VERSION
from medcard.adapters import Adapters
from medcard.adapters.oauth import SandboxOAuth
from medcard.kit.clock import clock
from medcard.models import VerificationSession
from tests.codes.conftest import cashier, holder, pharmacy
from tests.factories import bearer

__all__ = ["cashier", "holder", "pharmacy"]

SHANGHAI = "203.0.113.7"  # the default test client's address
URUMQI = "203.0.113.200"
GUANGZHOU = "198.51.100.20"
TIANJIN = "192.0.2.9"

ClientAt = Callable[[str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def client_at(app: Any) -> ClientAt:
    """``async with client_at(ip) as http``: a new browser (empty cookie jar) at ``ip``."""

    @asynccontextmanager
    async def make(ip: str) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app, client=(ip, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http

    return make


@dataclass
class Login:
    """An API login: its headers (bearer + the device key) and what the server answered."""

    headers: dict[str, str]
    device_key: str
    step_up_required: list[str]


async def login(http: httpx.AsyncClient, adapters: Adapters, openid: str, *, device_key: str | None = None) -> Login:
    assert isinstance(adapters.oauth, SandboxOAuth)
    code = adapters.oauth.issue_code(openid=openid, nickname="设备用户")
    extra = {"X-Device-Key": device_key} if device_key else {}
    response = await http.post("/api/v1/auth/oauth", json={"code": code}, headers=extra)
    assert response.status_code == 200, response.text
    body = response.json()
    headers = {**bearer(body["token"]), "X-Device-Key": body["device_key"]}
    # The agreements come first, as the pages ask at first login (a no-op for a later login).
    consent = await http.post("/api/v1/me/consent", json={"version": CONSENT_VERSION}, headers=headers)
    assert consent.status_code == 200, consent.text
    return Login(
        headers=headers,
        device_key=body["device_key"],
        step_up_required=body["step_up_required"],
    )


async def fresh_verification(db: AsyncSession, account_id: Any, document_number: str, name: str) -> str:
    """A passed face verification finished a second from now (as the R-ID-02 flow leaves it)."""
    finished = clock.now() + timedelta(seconds=1)
    verification = VerificationSession(
        account_id=account_id,
        method="face",
        status="passed",
        document_type="resident_id",
        document_number=document_number,
        name=name,
        expires_at=finished + timedelta(minutes=5),
        finished_at=finished,
    )
    db.add(verification)
    await db.commit()
    return str(verification.id)
