"""No account enumeration by timing (R-SEC-06): median answer times of the paths that must look
alike — a staff login with an unknown username vs a wrong password, and a hotline loss report
for a missing card vs an existing card with wrong answers. Prints the medians and their ratio.

    .venv/bin/python bench/enumeration.py [--tries 50]

The tests prove the same thing by counting the work (tests/auth/test_enumeration.py); this
script only shows the times. Uses a fresh SQLite file unless ``MEDCARD_DATABASE_URL`` names a
database (it is emptied). Not part of the pass/fail test run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from common import bench_settings, fresh_database
from kiosk_issuance import seed
from sqlalchemy import select

from medcard.app import create_app
from medcard.config import Settings
from medcard.db import make_engine, make_sessionmaker, unit_of_work
from medcard.demo import DEMO_PASSWORD
from medcard.models import Card


async def _median(tries: int, call: Callable[[int], Awaitable[httpx.Response]]) -> float:
    times = []
    for attempt in range(tries):
        started = time.perf_counter()
        await call(attempt)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def run(settings: Settings, tries: int) -> None:
    await seed(settings, 1)
    engine = make_engine(settings)
    async with unit_of_work(make_sessionmaker(engine)) as session:
        card_number = await session.scalar(select(Card.card_number))
    await engine.dispose()
    no_locks = settings.model_copy(update={"login_failures_per_subject": 10**6, "login_failures_per_ip": 10**6})
    app = create_app(no_locks)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:

        async def unknown(attempt: int) -> httpx.Response:
            return await client.post("/api/v1/auth/staff", json={"username": f"nobody{attempt}", "password": "x" * 12})

        async def wrong(attempt: int) -> httpx.Response:
            return await client.post("/api/v1/auth/staff", json={"username": "admin1", "password": "x" * 12})

        login = await client.post("/api/v1/auth/staff", json={"username": "hotline1", "password": DEMO_PASSWORD})
        hotline = {"Authorization": f"Bearer {login.json()['token']}"}
        answers = {"name": "不对", "document_last4": "0000", "phone_last4": "0000"}

        async def existing(attempt: int) -> httpx.Response:
            body = {**answers, "card_number": card_number}
            return await client.post("/api/v1/security/loss-reports", json=body, headers=hotline)

        async def missing(attempt: int) -> httpx.Response:
            body = {**answers, "card_number": f"{9000000000000000 + attempt}"}
            return await client.post("/api/v1/security/loss-reports", json=body, headers=hotline)

        for label, first, second in (
            ("staff login: unknown user / wrong password", unknown, wrong),
            ("loss report: missing card / wrong answers", missing, existing),
        ):
            await first(0), await second(0)  # warm up
            a, b = await _median(tries, first), await _median(tries, second)
            print(f"  {label}: {a * 1000:.2f} ms / {b * 1000:.2f} ms  (ratio {a / b:.2f})")
    await app.state.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=50)
    args = parser.parse_args()
    url = os.environ.get("MEDCARD_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        settings = bench_settings(url)
        fresh_database(settings)
        print(f"enumeration timing, median of {args.tries} tries on {url.split(':', 1)[0]}")
        asyncio.run(run(settings, args.tries))


if __name__ == "__main__":
    main()
