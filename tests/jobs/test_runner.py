"""The worker as people run it: ``medcard worker --once`` and in-process in the app (``make
run``); jobs are rows, so a job enqueued before a restart runs after it (R-PAY-04)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from medcard.adapters import sandbox_adapters
from medcard.app import create_app
from medcard.cli import app as cli
from medcard.config import Settings, get_settings
from medcard.db import make_engine, make_sessionmaker, unit_of_work
from medcard.jobs.registry import JobContext, handles
from medcard.jobs.service import enqueue
from medcard.migrate import upgrade
from medcard.models import Job
from tests.support import run_async


@handles("test.runner")
async def noop(job: JobContext) -> None:
    return None


@handles("test.runner-broken")
async def broken(job: JobContext) -> None:
    raise RuntimeError("the HIS is down")


def _cli(*arguments: str):  # type: ignore[no-untyped-def]
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(CliRunner().invoke, cli, list(arguments)).result()


@pytest.fixture
def database(tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'jobs.db'}"
    local = settings.model_copy(update={"database_url": url})
    upgrade(local)
    monkeypatch.setenv("MEDCARD_DATABASE_URL", url)
    monkeypatch.setenv("MEDCARD_ENVIRONMENT", "development")
    get_settings.cache_clear()
    yield local
    get_settings.cache_clear()


async def _enqueue(settings: Settings, count: int, kind: str = "test.runner", **options: int) -> None:
    engine = make_engine(settings)
    async with unit_of_work(make_sessionmaker(engine)) as session:
        for index in range(count):
            await enqueue(session, kind, {"index": index}, **options)
    await engine.dispose()


async def _states(settings: Settings, kind: str = "test.runner") -> list[str]:
    engine = make_engine(settings)
    async with make_sessionmaker(engine)() as session:
        states = list(await session.scalars(select(Job.state).where(Job.kind == kind)))
    await engine.dispose()
    return states


def test_r_pay_04_medcard_worker_once_runs_the_jobs_due(database: Settings) -> None:
    run_async(_enqueue(database, 3))
    result = _cli("worker", "--once")
    assert result.exit_code == 0, result.output
    assert "ran" in result.output
    assert run_async(_states(database)) == ["done"] * 3


async def test_r_pay_04_the_app_runs_jobs_in_process_after_a_restart(database: Settings) -> None:
    await _enqueue(database, 2)  # enqueued while no app was running
    settings = database.model_copy(update={"job_worker_interval_seconds": 0.01})
    application = create_app(settings, sandbox_adapters(settings))
    async with application.router.lifespan_context(application):
        for _ in range(500):  # wait for the background worker (a count of polls, not a time limit)
            if await _states(database) == ["done", "done"]:
                break
            await asyncio.sleep(0.01)
    assert await _states(database) == ["done", "done"]


async def test_the_worker_is_off_in_tests_unless_asked(database: Settings, settings: Settings) -> None:
    await _enqueue(database, 1)
    quiet = database.model_copy(update={"job_worker_interval_seconds": settings.job_worker_interval_seconds})
    application = create_app(quiet, sandbox_adapters(quiet))
    async with application.router.lifespan_context(application):
        await asyncio.sleep(0.05)
    assert await _states(database) == ["pending"]


def test_jobs_status_shows_failed_jobs_and_retry_queues_them_again(database: Settings) -> None:
    run_async(_enqueue(database, 1, "test.runner-broken", max_attempts=1))
    assert _cli("worker", "--once").exit_code == 0
    status = _cli("jobs", "status")
    assert status.exit_code == 0, status.output
    assert "test.runner-broken" in status.output
    assert "RuntimeError: the HIS is down" in status.output
    job_id = status.output.split("FAILED ")[1].split()[0]
    assert _cli("jobs", "retry", job_id).exit_code == 0
    assert run_async(_states(database, "test.runner-broken")) == ["pending"]
    assert _cli("jobs", "retry", job_id).exit_code == 1  # pending, not failed
