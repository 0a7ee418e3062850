"""The floor of this stack: FastAPI + asyncpg on uvicorn doing the least a payment code needs —
one INSERT per issue, one conditional UPDATE per redeem — with the same URLs and bodies as
MedCard's API, so the same load-generator script drives both (bench/http_codes.py).

    FLOOR_DSN=postgresql://postgres@127.0.0.1/db uvicorn --factory floor_app:create_app

The table is ``floor_code`` (created by the benchmark). No authentication, no audit row, no
ORM: what is left is HTTP parsing, pydantic, the pool and two statements' round trips.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

FLOOR_TABLE = """
CREATE TABLE IF NOT EXISTS floor_code (
    code text PRIMARY KEY, card_id uuid, status text NOT NULL DEFAULT 'issued', amount_fen integer
)"""


class IssueBody(BaseModel):
    card_id: uuid.UUID


class RedeemBody(BaseModel):
    code: str = Field(min_length=1, max_length=400)
    amount_fen: int = Field(gt=0)


def create_app() -> FastAPI:
    pools: list[asyncpg.Pool] = []

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        pools.append(await asyncpg.create_pool(os.environ["FLOOR_DSN"], min_size=4, max_size=10))
        yield
        await pools[0].close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/api/v1/codes/payment")
    async def issue(body: IssueBody) -> dict[str, str]:
        code = f"29{secrets.randbelow(10**16):016d}"
        async with pools[0].acquire() as connection:
            await connection.execute("INSERT INTO floor_code (code, card_id) VALUES ($1, $2)", code, body.card_id)
        return {"code": code, "card_id": str(body.card_id)}

    @app.post("/api/v1/codes/redeem", response_model=None)
    async def redeem(body: RedeemBody) -> dict[str, str] | JSONResponse:
        async with pools[0].acquire() as connection:
            card_id = await connection.fetchval(
                "UPDATE floor_code SET status = 'consumed', amount_fen = $2"
                " WHERE code = $1 AND status = 'issued' RETURNING card_id",
                body.code,
                body.amount_fen,
            )
        if card_id is None:
            return JSONResponse({"code": "PAYMENT_CODE_USED"}, status_code=409)
        return {"card_id": str(card_id)}

    return app
