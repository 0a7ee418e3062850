"""Insurance binding throughput (R-INS-01/02): verified patients with a health card bind their
e-voucher through the service layer (``insurance.service.bind``: regional policy lookup,
prerequisites, 1101 person query, e-voucher activation, binding with its policy version,
attempt + audit rows), each in its own unit of work, with N concurrent workers.
Sandbox insurance platform at zero latency, so the figure is MedCard + database.
Prints bindings/s, p50, p99.

    .venv/bin/python bench/insurance_binding.py [--bindings 2000] [--workers 8]
    MEDCARD_DATABASE_URL=sqlite+aiosqlite:///var/bench_ins.db .venv/bin/python bench/insurance_binding.py

Default database: postgresql+asyncpg://postgres@127.0.0.1:5432/medcard_bench_insurance, recreated on
every run (bench/common.py). Not part of the pass/fail test run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid
from datetime import date, timedelta

from common import CARD_FORM as FORM
from common import bench_settings, fresh_database, verified_account
from sqlalchemy import func, make_url, select

from medcard.adapters import sandbox_adapters
from medcard.adapters.insurance import SandboxInsurancePlatform, valid_id
from medcard.card import service as card_service
from medcard.config import Settings
from medcard.db import make_engine, make_sessionmaker, unit_of_work
from medcard.demo import load
from medcard.insurance import service
from medcard.models import Account, Card, InsuranceBinding

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/medcard_bench_insurance"
SCHEME_KEYS = {"310": "employee", "390": "resident", "380": "new_rural"}


def resident_id(index: int) -> tuple[str, date]:
    """Distinct Beijing IDs whose sequence digits (00–79) are ordinary insured people."""
    born = date(1950, 1, 1) + timedelta(days=index // 800)
    return valid_id(f"110101{born:%Y%m%d}{index % 800:03d}"), born


async def seed(settings: Settings, count: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """Demo data, policy, and ``count`` verified accounts with a card each (not timed)."""
    engine = make_engine(settings)
    adapters = sandbox_adapters(settings)
    pairs = []
    async with unit_of_work(make_sessionmaker(engine)) as session:
        await load(session)
        hospital = await card_service.hospital_by_code(session, "H110001")
        for index in range(count):
            number, born = resident_id(index)
            person, account = verified_account(number, born, openid=f"o-bench-ins-{index}")
            session.add_all([person, account])
            await session.flush()
            subject = await card_service.resolve_subject(session, account=account, subject_key="self")
            card = await card_service.submit(
                session, account=account, hospital=hospital, subject=subject, adapters=adapters, fields=FORM
            )
            pairs.append((account.id, card.id))
    await engine.dispose()
    return pairs


async def run(settings: Settings, pairs: list[tuple[uuid.UUID, uuid.UUID]], workers: int) -> tuple[float, list[float]]:
    engine = make_engine(settings, **({} if settings.is_sqlite else {"pool_size": workers, "max_overflow": 0}))
    sessions = make_sessionmaker(engine)
    platform = sandbox_adapters(settings).insurance
    assert isinstance(platform, SandboxInsurancePlatform)
    queue: asyncio.Queue[tuple[uuid.UUID, uuid.UUID]] = asyncio.Queue()
    for pair in pairs:
        queue.put_nowait(pair)
    latencies: list[float] = []

    async def worker() -> None:
        while not queue.empty():
            account_id, card_id = queue.get_nowait()
            started = time.perf_counter()
            async with unit_of_work(sessions) as session:
                account = await session.get(Account, account_id)
                card = await session.get(Card, card_id)
                assert account is not None and card is not None and account.person is not None
                truth = platform.person(account.person.document_number, account.person.name)
                request = service.BindRequest(
                    card_number=truth.card_number,
                    scheme=SCHEME_KEYS[truth.scheme_code or "310"],
                    region_code="110000",
                    client_version="7.1.0",
                    face_image=b"SANDBOX-LIVE",
                )
                await service.bind(session, platform=platform, account=account, card=card, request=request)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(workers)))
    elapsed = time.perf_counter() - started
    await engine.dispose()
    return elapsed, latencies


async def count_bindings(settings: Settings) -> int:
    engine = make_engine(settings)
    async with unit_of_work(make_sessionmaker(engine)) as session:
        bound = int(await session.scalar(select(func.count()).select_from(InsuranceBinding)) or 0)
    await engine.dispose()
    return bound


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bindings", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args()
    url = os.environ.get("MEDCARD_DATABASE_URL", DEFAULT_URL)
    settings = bench_settings(url)
    fresh_database(settings)
    pairs = asyncio.run(seed(settings, args.bindings))
    elapsed, latencies = asyncio.run(run(settings, pairs, args.workers))
    bound = asyncio.run(count_bindings(settings))
    assert bound == len(pairs), f"{bound} bindings for {len(pairs)} patients"
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"database      {make_url(url).render_as_string(hide_password=True)}")
    print(f"concurrency   1 process x {args.workers} workers")
    print(f"bindings      {len(latencies)} in {elapsed:.2f} s")
    print(f"throughput    {len(latencies) / elapsed:.1f} bindings/s")
    print(f"latency p50   {statistics.median(latencies) * 1000:.1f} ms")
    print(f"latency p99   {p99 * 1000:.1f} ms")


if __name__ == "__main__":
    main()
