"""Kiosk end-to-end time (R-CARD-08: target within 30 s): scan the e-card QR, then issue the
physical card, through the HTTP API in-process. Prints p50 / p99 / max per patient.

    .venv/bin/python bench/kiosk_issuance.py [--cards 200]
    MEDCARD_DATABASE_URL=postgresql+asyncpg://... .venv/bin/python bench/kiosk_issuance.py

Uses a fresh SQLite file unless ``MEDCARD_DATABASE_URL`` names a database (it is emptied).
Not part of the pass/fail test run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
from common import bench_settings, fresh_database
from sqlalchemy import select

from medcard.app import create_app
from medcard.card import qr
from medcard.card.rules import make_card_number
from medcard.config import Settings
from medcard.db import make_engine, make_sessionmaker, unit_of_work
from medcard.demo import DEMO_PASSWORD, load
from medcard.kit.clock import clock
from medcard.models import Account, Card, Hospital, Person

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(index: int) -> str:
    body = f"11010119{80 + index // 1000 % 20:02d}0101{index % 1000:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11]


async def seed(settings: Settings, count: int) -> list[str]:
    """``count`` active e-cards at the first demo hospital; returns their display codes."""
    engine = make_engine(settings)
    codes = []
    async with unit_of_work(make_sessionmaker(engine)) as session:
        await load(session)
        hospital = await session.scalar(select(Hospital).where(Hospital.code == "H110001"))
        assert hospital is not None
        for index in range(count):
            number = resident_id(index)
            person = Person(
                document_type="resident_id",
                document_number=number,
                name="测试",
                gender="M",
                birth_date=date(1980, 1, 1),
                verified_at=clock.now(),
                verification_method="face",
            )
            account = Account(openid=f"o-bench-{index}", person=person)
            card_number = make_card_number("110000", secrets.randbelow(10**9))
            session.add_all([person, account])
            await session.flush()
            session.add(
                Card(
                    card_number=card_number,
                    hospital_id=hospital.id,
                    scope="H:H110001",
                    person_id=person.id,
                    account_id=account.id,
                    status="active",
                    his_patient_id=f"B{index}",
                    name="测试",
                    gender="M",
                    ethnicity="汉族",
                    birth_date=date(1980, 1, 1),
                    document_type="resident_id",
                    document_number=number,
                    nationality="CHN",
                    phone="13900000000",
                    region_code="110101",
                    address="北京市东城区示范路1号",
                    postal_code="100010",
                    occupation="professional",
                    employer="",
                    marital_status="married",
                    education="bachelor",
                    emergency_name="李四",
                    emergency_phone="13700001111",
                    emergency_relation="spouse",
                )
            )
            codes.append(qr.issue(secret=settings.secret_key, card_number=card_number, version=1))
    await engine.dispose()
    return codes


async def run(settings: Settings, count: int) -> list[float]:
    codes = await seed(settings, count)
    app = create_app(settings)
    timings = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://kiosk") as client:
        login = await client.post("/api/v1/auth/staff", json={"username": "kiosk1", "password": DEMO_PASSWORD})
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        for code in codes:
            started = time.perf_counter()
            scanned = await client.post("/api/v1/kiosk/scan", json={"code": code}, headers=headers)
            issued = await client.post("/api/v1/kiosk/physical-cards", json={"code": code}, headers=headers)
            timings.append(time.perf_counter() - started)
            assert scanned.status_code == 200 and issued.status_code == 201, issued.text
    await app.state.engine.dispose()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=200)
    args = parser.parse_args()
    url = os.environ.get("MEDCARD_DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        settings = bench_settings(url)
        fresh_database(settings)
        timings = asyncio.run(run(settings, args.cards))
    ordered = sorted(timings)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(f"kiosk scan + issue, {len(timings)} patients on {url.split(':', 1)[0]}")
    print(
        f"  p50 {statistics.median(timings) * 1000:.1f} ms · p99 {p99 * 1000:.1f} ms · max {ordered[-1] * 1000:.1f} ms"
        f" · {len(timings) / sum(timings):.0f} patients/s sequential  (target: < 30 s per patient, R-CARD-08)"
    )


if __name__ == "__main__":
    main()
