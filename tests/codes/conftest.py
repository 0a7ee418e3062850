"""Code and security fixtures: a patient with an active card and a login, POS logins."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.models import Account, Card
from tests.card.conftest import issue_card
from tests.factories import Demo, bearer, patient_token, staff_token, verified_account


@dataclass
class Holder:
    """A verified patient with an active card at the first demo hospital, logged in.
    Plain values stay readable after a refused request expired the session's objects."""

    account: Account
    card: Card
    account_id: uuid.UUID
    card_id: uuid.UUID
    card_number: str
    document_number: str
    phone: str
    name: str
    headers: dict[str, str]


async def make_holder(
    db: AsyncSession, client: httpx.AsyncClient, adapters: Adapters, demo: Demo, *, name: str = "赵支付"
) -> Holder:
    account = await verified_account(db, name=name)
    card = await issue_card(db, adapters, account, demo.hospital)
    await db.commit()
    token = await patient_token(client, adapters, openid=account.openid)
    return Holder(
        account=account,
        card=card,
        account_id=account.id,
        card_id=card.id,
        card_number=card.card_number,
        document_number=card.document_number,
        phone=card.phone,
        name=card.name,
        headers=bearer(token),
    )


@pytest.fixture
async def holder(db: AsyncSession, client: httpx.AsyncClient, adapters: Adapters, demo: Demo) -> Holder:
    return await make_holder(db, client, adapters, demo)


@pytest.fixture
async def cashier(client: httpx.AsyncClient, demo: Demo) -> dict[str, str]:
    return bearer(await staff_token(client, "cashier1"))


@pytest.fixture
async def pharmacy(client: httpx.AsyncClient, demo: Demo) -> dict[str, str]:
    return bearer(await staff_token(client, "pharmacy1"))


async def new_code(client: httpx.AsyncClient, holder: Holder) -> str:
    response = await client.post("/api/v1/codes/payment", json={"card_id": str(holder.card_id)}, headers=holder.headers)
    assert response.status_code == 200, response.text
    return str(response.json()["code"])


async def redeem(
    client: httpx.AsyncClient, headers: dict[str, str], code: str, amount_fen: int = 5_000, pin: str | None = None
) -> httpx.Response:
    body: dict[str, object] = {"code": code, "amount_fen": amount_fen}
    if pin is not None:
        body["pin"] = pin
    return await client.post("/api/v1/codes/redeem", json=body, headers=headers)
