"""Payment codes (R-SEC-02): issue and POS redeem (consume + verification code) operations per
second on one core (one process, one request at a time), and the crypto cost per request.

    .venv/bin/python bench/codes.py [--cards 1000]
    MEDCARD_DATABASE_URL=postgresql+asyncpg://... .venv/bin/python bench/codes.py

Uses a fresh SQLite file unless ``MEDCARD_DATABASE_URL`` names a database (it is emptied).
Not part of the pass/fail test run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from common import fresh_database
from kiosk_issuance import SECRET, seed
from sqlalchemy import select

from medcard.codes import service
from medcard.config import Settings
from medcard.db import make_engine, make_sessionmaker, unit_of_work
from medcard.kit.crypto import derive_key, sign_token, verify_token
from medcard.models import Account, Card, StaffUser


def crypto_cost(settings: Settings, rounds: int = 20_000) -> float:
    """Microseconds of HMAC-SM3 per redeem: hash the code, sign and verify the verification code."""
    key = derive_key(settings.secret_key, "bench")
    payload = {"i": "0" * 36, "c": "1100001234567890", "m": "0" * 36, "x": 12_345, "e": 1_800_000_000}
    started = time.perf_counter()
    for index in range(rounds):
        service.code_hash(settings, f"29{index:016d}")
        verify_token(key, "MCVA1", sign_token(key, "MCVA1", payload))
    return (time.perf_counter() - started) / rounds * 1e6


async def run(settings: Settings, cards: int) -> None:
    await seed(settings, cards)
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    async with sessions() as session:
        rows = (await session.execute(select(Card, Account).join(Account, Card.account_id == Account.id))).all()
        cashier = await session.scalar(select(StaffUser).where(StaffUser.username == "cashier1"))
    assert cashier is not None
    codes: list[str] = []
    started = time.perf_counter()
    for card, account in rows:
        async with unit_of_work(sessions) as session:
            issued = await service.issue(session, account=account, card=card, settings=settings)
        codes.append(issued.code)
    issue_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for code in codes:
        async with unit_of_work(sessions) as session:
            staff = await session.get(StaffUser, cashier.id)
            assert staff is not None
            await service.redeem(session, staff=staff, text=code, amount_fen=1_000, pin=None, settings=settings)
    redeem_seconds = time.perf_counter() - started
    await engine.dispose()
    kind = "SQLite" if settings.is_sqlite else "PostgreSQL"
    print(f"{kind}, {len(codes)} cards, one core, sequential:")
    print(f"  issue : {len(codes) / issue_seconds:8.0f} ops/s  ({issue_seconds / len(codes) * 1000:.2f} ms each)")
    print(f"  redeem: {len(codes) / redeem_seconds:8.0f} ops/s  ({redeem_seconds / len(codes) * 1000:.2f} ms each)")
    print(f"  crypto per redeem (code hash + sign + verify, HMAC-SM3): {crypto_cost(settings):.1f} µs")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cards", type=int, default=1000)
    args = parser.parse_args()
    url = os.environ.get("MEDCARD_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        database = url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        settings = Settings(
            environment="test",
            database_url=database,
            secret_key=SECRET,
            sandbox_latency_scale=0.0,
            _env_file=None,  # type: ignore[call-arg]
        )
        fresh_database(settings)
        asyncio.run(run(settings, args.cards))


if __name__ == "__main__":
    main()
