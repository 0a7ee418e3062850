"""Idempotency through HTTP, on a tiny router registered only in this test (R-PAY-05, R-PAY-07):
the one-line dependency, the replayed answer, 422 for another body, 409 in flight, 400 without a key."""

from __future__ import annotations

from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Header
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.errors import MedCardError
from medcard.idempotency.deps import idempotency
from medcard.idempotency.service import IdempotentRequest, begin, fingerprint


class ChargeIn(BaseModel):
    amount: int
    transient: bool = False


class ChargeOut(BaseModel):
    charge: int
    amount: int


class InsufficientWhileThereIsBalance(MedCardError):
    status = 409
    code = "TEST_CHANNEL_NOTENOUGH"


async def header_actor(x_test_actor: Annotated[str, Header()]) -> str:
    return f"test:{x_test_actor}"


TestIdempotencyDep = Annotated[IdempotentRequest, idempotency(header_actor)]


@pytest.fixture
def effects(app: FastAPI) -> list[int]:
    charged: list[int] = []
    attempts: list[int] = []
    router = APIRouter()

    @router.post("/api/v1/test-idempotency/charges", status_code=201)
    async def charge(body: ChargeIn, idempotency: TestIdempotencyDep) -> ChargeOut:
        async def work() -> ChargeOut:
            attempts.append(body.amount)
            if body.transient and len(attempts) == 1:
                raise InsufficientWhileThereIsBalance()
            charged.append(body.amount)
            return ChargeOut(charge=len(charged), amount=body.amount)

        return await idempotency.run(work, status_code=201)

    app.include_router(router)
    return charged


def headers(key: str | None = "key-1", actor: str = "alice") -> dict[str, str]:
    sent = {"X-Test-Actor": actor}
    if key is not None:
        sent["Idempotency-Key"] = key
    return sent


URL = "/api/v1/test-idempotency/charges"


async def test_r_pay_05_retry_with_the_same_key_gets_the_same_answer_and_charges_once(
    client: httpx.AsyncClient, effects: list[int]
) -> None:
    first = await client.post(URL, json={"amount": 1500}, headers=headers())
    again = await client.post(URL, json={"amount": 1500}, headers=headers())
    assert first.status_code == again.status_code == 201, first.text
    assert first.json() == again.json() == {"charge": 1, "amount": 1500}
    assert again.headers["Idempotent-Replayed"] == "true"
    assert effects == [1500]
    other_key = await client.post(URL, json={"amount": 1500}, headers=headers("key-2"))
    assert other_key.json()["charge"] == 2


async def test_r_pay_05_same_key_with_another_body_is_422(client: httpx.AsyncClient, effects: list[int]) -> None:
    await client.post(URL, json={"amount": 1500}, headers=headers())
    reused = await client.post(URL, json={"amount": 9900}, headers=headers())
    assert reused.status_code == 422
    assert reused.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    assert reused.json()["title_zh"]
    assert effects == [1500]


async def test_r_pay_05_same_key_in_flight_is_409(
    client: httpx.AsyncClient, effects: list[int], db: AsyncSession
) -> None:
    body = b'{"amount": 1500}'
    assert fingerprint("POST", URL, body) == fingerprint("POST", URL, b'{"amount":1500}')
    await begin(db, actor="test:alice", key="key-1", method="POST", path=URL, body=body, lock_seconds=60)
    in_flight = await client.post(URL, json={"amount": 1500}, headers=headers())
    assert in_flight.status_code == 409
    assert in_flight.json()["code"] == "IDEMPOTENCY_IN_FLIGHT"
    assert in_flight.headers["Retry-After"] == "1"
    assert effects == []


async def test_r_pay_07_transient_refusal_then_the_same_request_succeeds(
    client: httpx.AsyncClient, effects: list[int]
) -> None:
    refused = await client.post(URL, json={"amount": 800, "transient": True}, headers=headers())
    assert refused.status_code == 409
    assert refused.json()["code"] == "TEST_CHANNEL_NOTENOUGH"
    retried = await client.post(URL, json={"amount": 800, "transient": True}, headers=headers())
    assert retried.status_code == 201
    assert effects == [800]


async def test_a_key_is_required_and_scoped_to_the_caller(client: httpx.AsyncClient, effects: list[int]) -> None:
    missing = await client.post(URL, json={"amount": 100}, headers=headers(key=None))
    assert (missing.status_code, missing.json()["code"]) == (400, "IDEMPOTENCY_KEY_MISSING")
    await client.post(URL, json={"amount": 100}, headers=headers(actor="alice"))
    bob = await client.post(URL, json={"amount": 100}, headers=headers(actor="bob"))
    assert bob.status_code == 201
    assert "Idempotent-Replayed" not in bob.headers
    assert effects == [100, 100]
