"""Card issuance throughput (R-CARD-01): verified accounts submit complete applications through
the service layer (``card.service.submit``: form validation, one card per scope, HIS check and
registration, card number, audit), each in its own unit of work, with N concurrent workers in each
of P processes (as a deployment runs one app worker per core). Each process also runs the audit
sealer in the background, as each app worker does (``MEDCARD_AUDIT_SEAL_INTERVAL_SECONDS``), and the
run ends by sealing what is left and verifying the chain.
Sandbox adapters at zero latency, so the figure is MedCard + database. Prints cards/s, p50, p99.

    .venv/bin/python bench/card_issuance.py [--cards 3000] [--processes 2] [--workers 8]
    MEDCARD_DATABASE_URL=postgresql+asyncpg://... .venv/bin/python bench/card_issuance.py

Default database: postgresql+asyncpg://postgres@127.0.0.1:5432/medcard_bench, created if missing
and recreated on every run (bench/common.py). Target: >= 200 cards/s on 2 cores.
Not part of the pass/fail test run.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from common import CARD_FORM as FORM
from common import bench_settings, fresh_database, verified_account
from sqlalchemy import make_url, select

from medcard.adapters import sandbox_adapters
from medcard.audit import chain, sealer
from medcard.card import service
from medcard.config import Settings
from medcard.db import make_engine, make_sessionmaker, unit_of_work
from medcard.demo import load
from medcard.models import Account, Card, Hospital
from medcard.observability import configure_logging

DEFAULT_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/medcard_bench"
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def resident_id(index: int) -> tuple[str, date]:
    """A distinct valid resident ID per index (birth date and sequence vary), and its birth date."""
    born = date(1950, 1, 1) + timedelta(days=index // 500)
    body = f"110101{born:%Y%m%d}{index % 500:03d}"
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, WEIGHTS, strict=True)) % 11], born


async def seed(settings: Settings, count: int) -> list[uuid.UUID]:
    """Demo hospitals and ``count`` real-name verified accounts (not timed)."""
    engine = make_engine(settings)
    async with unit_of_work(make_sessionmaker(engine)) as session:
        await load(session)
        ids = []
        for index in range(count):
            number, born = resident_id(index)
            person, account = verified_account(number, born, openid=f"o-bench-{index}")
            session.add_all([person, account])
            ids.append(account.id)
        await session.flush()
    await engine.dispose()
    return ids


async def run(
    settings: Settings, account_ids: list[uuid.UUID], workers: int, ready: Callable[[], None] = lambda: None
) -> tuple[float, float, list[float]]:
    """Issue a card for every account with ``workers`` concurrent units of work; returns the wall-clock
    start and end (``time.time()``) and each card's latency in seconds."""
    engine = make_engine(settings, pool_size=workers + 1, max_overflow=0)  # + the sealer's connection
    sessions = make_sessionmaker(engine)
    adapters = sandbox_adapters(settings)
    queue: asyncio.Queue[uuid.UUID] = asyncio.Queue()
    for account_id in account_ids:
        queue.put_nowait(account_id)
    latencies: list[float] = []

    async def worker() -> None:
        while not queue.empty():
            account_id = queue.get_nowait()
            started = time.perf_counter()
            async with unit_of_work(sessions) as session:
                account = await session.get(Account, account_id)
                assert account is not None
                hospital = await service.hospital_by_code(session, "H110001")
                subject = await service.resolve_subject(session, account=account, subject_key="self")
                await service.submit(
                    session, account=account, hospital=hospital, subject=subject, adapters=adapters, fields=FORM
                )
            latencies.append(time.perf_counter() - started)

    # Open the pool's connections before the clock starts.
    async def warm() -> None:
        async with unit_of_work(sessions) as session:
            await session.scalar(select(Hospital).where(Hospital.code == "H110001"))

    await asyncio.gather(*(warm() for _ in range(workers)))
    ready()
    async with sealer.running(sessions, interval=settings.audit_seal_interval_seconds):
        started = time.time()
        await asyncio.gather(*(worker() for _ in range(workers)))
        ended = time.time()
    await engine.dispose()
    return started, ended, latencies


def _process(url: str, account_ids: list[uuid.UUID], workers: int, barrier: Any, results: Any) -> None:
    """One OS process of the benchmark (a deployment runs several app workers the same way)."""
    settings = bench_settings(url)
    configure_logging(settings)  # as the app does: the sealer's debug lines stay quiet
    results.put(asyncio.run(run(settings, account_ids, workers, barrier.wait)))


async def _count_cards(settings: Settings) -> int:
    engine = make_engine(settings)
    async with unit_of_work(make_sessionmaker(engine)) as session:
        issued = len((await session.scalars(select(Card.id))).all())
    await engine.dispose()
    return issued


async def _seal_and_verify(settings: Settings) -> tuple[int, float, chain.ChainReport]:
    """Seal what the background sealers left (timed), then verify the whole chain."""
    engine = make_engine(settings)
    sessions = make_sessionmaker(engine)
    started = time.perf_counter()
    left = await sealer.seal_pending(sessions)
    took = time.perf_counter() - started
    async with sessions() as session:
        report = await chain.verify(session)
    await engine.dispose()
    return left, took, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cards", type=int, default=3000)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1, help="OS processes (default: cores)")
    parser.add_argument("--workers", type=int, default=8, help="concurrent units of work per process")
    args = parser.parse_args()
    url = os.environ.get("MEDCARD_DATABASE_URL", DEFAULT_URL)
    settings = bench_settings(url)
    fresh_database(settings)
    account_ids = asyncio.run(seed(settings, args.cards))

    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(args.processes)
    results = context.Queue()
    chunks = [account_ids[i :: args.processes] for i in range(args.processes)]
    processes = [
        context.Process(target=_process, args=(url, chunk, args.workers, barrier, results)) for chunk in chunks
    ]
    for process in processes:
        process.start()
    outcomes = [results.get() for _ in processes]
    for process in processes:
        process.join()
    elapsed = max(end for _start, end, _lat in outcomes) - min(start for start, _end, _lat in outcomes)
    latencies = sorted(latency for _start, _end, lats in outcomes for latency in lats)
    issued = asyncio.run(_count_cards(settings))
    left, took, report = asyncio.run(_seal_and_verify(settings))
    assert issued == len(account_ids) == len(latencies), f"{issued} cards for {len(account_ids)} applications"
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"database      {make_url(url).render_as_string(hide_password=True)}")
    print(f"concurrency   {args.processes} processes x {args.workers} workers  (CPU cores: {os.cpu_count()})")
    print(f"cards         {len(latencies)} in {elapsed:.2f} s")
    print(f"throughput    {len(latencies) / elapsed:.1f} cards/s")
    print(f"latency p50   {statistics.median(latencies) * 1000:.1f} ms")
    print(f"latency p99   {p99 * 1000:.1f} ms")
    state = "intact" if report.intact else "BROKEN"
    print(f"audit chain   {report.rows} rows sealed, {state}; {left} left after the run, sealed in {took:.2f} s")


if __name__ == "__main__":
    main()
