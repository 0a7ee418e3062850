"""Kiosk fixtures: an e-card issued through the card service, its display code, kiosk logins."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.card import service as card_service
from medcard.config import Settings
from medcard.demo import DEMO_PASSWORD
from medcard.kit.crypto import hash_password
from medcard.models import Card, Hospital, StaffUser
from tests.card.conftest import issue_card
from tests.factories import Demo, bearer, staff_token, verified_account


@dataclass
class IssuedCard:
    """A card and the text its display QR carries right now. The plain values stay readable
    after a refused request expired the session's objects."""

    card: Card
    card_id: uuid.UUID
    card_number: str
    code: str
    document_number: str


async def make_card(
    db: AsyncSession, adapters: Adapters, settings: Settings, hospital: Hospital, *, name: str = "王小明"
) -> IssuedCard:
    """An e-card issued through the real submit path (pending activation when the hospital says so).

    Committed (inside the test's outer transaction) so that a refused request, which rolls
    its own changes back, does not take the card with it."""
    account = await verified_account(db, name=name)
    card = await issue_card(db, adapters, account, hospital)
    await db.commit()
    text = card_service.display_code(card, settings=settings).text
    return IssuedCard(
        card=card, card_id=card.id, card_number=card.card_number, code=text, document_number=card.document_number
    )


async def make_staff(db: AsyncSession, *, username: str, role: str, hospital: Hospital | None) -> StaffUser:
    """A staff user with the demo password (the demo has one per role, all at the first hospital)."""
    staff = StaffUser(
        username=username,
        display_name=username,
        password_hash=hash_password(DEMO_PASSWORD),
        role=role,
        hospital_id=hospital.id if hospital else None,
    )
    db.add(staff)
    await db.commit()
    return staff


@pytest.fixture
async def kiosk(client: httpx.AsyncClient, demo: Demo) -> dict[str, str]:
    """Headers of the demo kiosk (first hospital)."""
    return bearer(await staff_token(client, "kiosk1"))


@pytest.fixture
async def issued(db: AsyncSession, adapters: Adapters, settings: Settings, demo: Demo) -> IssuedCard:
    """An active e-card at the first demo hospital (fee 10 yuan, credit up to 2000 yuan)."""
    return await make_card(db, adapters, settings, demo.hospital)


@pytest.fixture
async def pending(db: AsyncSession, adapters: Adapters, settings: Settings, demo: Demo) -> IssuedCard:
    """A new e-card at the county hospital, which requires kiosk activation (R-ID-06)."""
    return await make_card(db, adapters, settings, demo.county_hospital, name="李小红")
