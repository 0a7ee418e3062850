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


async def _enqueue(settings: Settings, count: int) -> None:
    engine = make_engine(settings)
    async with unit_of_work(make_sessionmaker(engine)) as session:
        for index in range(count):
            await enqueue(session, "test.runner", {"index": index})
    await engine.dispose()


async def _states(settings: Settings) -> list[str]:
    engine = make_engine(settings)
    async with make_sessionmaker(engine)() as session:
        states = list(await session.scalars(select(Job.state).where(Job.kind == "test.runner")))
    await engine.dispose()
    return states


def test_r_pay_04_medcard_worker_once_runs_the_jobs_due(database: Settings) -> None:
    run_async(_enqueue(database, 3))
    with ThreadPoolExecutor(max_workers=1) as pool:
        result = pool.submit(CliRunner().invoke, cli, ["worker", "--once"]).result()
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
