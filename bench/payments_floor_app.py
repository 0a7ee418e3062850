"""The floor of this stack for a payment: FastAPI + asyncpg on uvicorn doing one INSERT (the
order) and one conditional UPDATE (the balance, refused below zero) in one transaction per
request, with MedCard's URL and body, so bench/payments.lua drives both (bench/payments.py).

    FLOOR_DSN=postgresql://postgres@127.0.0.1/db uvicorn --factory payments_floor_app:create_app

Tables ``floor_payment`` and ``floor_wallet`` (created by the benchmark). No authentication,
no idempotency store, no split, no ledger, no ORM: HTTP parsing, pydantic, the pool and two
statements in one transaction.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

FLOOR_TABLES = (
    "CREATE TABLE IF NOT EXISTS floor_wallet (card_id uuid PRIMARY KEY, balance_fen bigint NOT NULL)",
    "CREATE TABLE IF NOT EXISTS floor_payment (id uuid PRIMARY KEY, card_id uuid NOT NULL,"
    " bill_number text NOT NULL UNIQUE, amount_fen integer NOT NULL, created_at timestamptz DEFAULT now())",
)
AMOUNT_FEN = 12_000


class Refused(Exception):
    """The conditional UPDATE matched no row: the transaction rolls back, the answer is 409."""


class PayBody(BaseModel):
    card_id: uuid.UUID
    bill_number: str = Field(min_length=1, max_length=40)


def create_app() -> FastAPI:
    pools: list[asyncpg.Pool] = []

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        pools.append(await asyncpg.create_pool(os.environ["FLOOR_DSN"], min_size=4, max_size=10))
        yield
        await pools[0].close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/api/v1/settlement/orders", response_model=None)
    async def pay(body: PayBody) -> dict[str, str] | JSONResponse:
        order_id = uuid.uuid4()
        async with pools[0].acquire() as connection, connection.transaction():
            await connection.execute(
                "INSERT INTO floor_payment (id, card_id, bill_number, amount_fen) VALUES ($1, $2, $3, $4)",
                order_id,
                body.card_id,
                body.bill_number,
                AMOUNT_FEN,
            )
            moved = await connection.execute(
                "UPDATE floor_wallet SET balance_fen = balance_fen - $2 WHERE card_id = $1 AND balance_fen >= $2",
                body.card_id,
                AMOUNT_FEN,
            )
            if moved != "UPDATE 1":
                raise Refused()
        return {"id": str(order_id), "state": "paid"}

    @app.exception_handler(Refused)
    async def refused(_request: object, _error: Exception) -> JSONResponse:
        return JSONResponse({"code": "INSUFFICIENT_FUNDS"}, status_code=409)

    return app
