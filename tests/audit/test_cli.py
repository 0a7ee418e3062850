"""`medcard audit verify` reports an intact chain and fails on a tampered one (R-SEC-08)."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from medcard.audit.service import Actor, record
from medcard.cli import app
from medcard.config import Settings, get_settings
from medcard.db import make_engine, make_sessionmaker, unit_of_work
from medcard.migrate import upgrade
from medcard.models import Region
from tests.support import run_async


@pytest.fixture
def database(tmp_path: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    local = settings.model_copy(update={"database_url": url})
    upgrade(local)
    monkeypatch.setenv("MEDCARD_DATABASE_URL", url)
    monkeypatch.setenv("MEDCARD_ENVIRONMENT", "development")
    get_settings.cache_clear()
    yield local
    get_settings.cache_clear()


def _history(settings: Settings) -> None:
    async def run() -> None:
        engine = make_engine(settings)
        async with unit_of_work(make_sessionmaker(engine)) as session:
            region = Region(code="990000", name_zh="测试", name_en="Test", card_scope="hospital")
            session.add(region)
            await session.flush()
            for step in range(3):
                await record(session, actor=Actor.system("cli-test"), action=f"test.step{step}", subject=region)
        await engine.dispose()

    run_async(run())


def _sql(settings: Settings, statement: str) -> None:
    async def run() -> None:
        engine = make_engine(settings)
        async with engine.begin() as connection:
            await connection.execute(text(statement))
        await engine.dispose()

    run_async(run())


def _verify() -> Result:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(CliRunner().invoke, app, ["audit", "verify"]).result()


def test_r_sec_08_cli_verifies_an_intact_chain(database: Settings) -> None:
    _history(database)
    result = _verify()
    assert result.exit_code == 0, result.output
    assert "3 rows, 0 signed checkpoints, intact" in result.output


def test_r_sec_08_cli_signs_a_checkpoint_then_verifies_it(database: Settings) -> None:
    _history(database)
    with ThreadPoolExecutor(max_workers=1) as pool:
        signed = pool.submit(CliRunner().invoke, app, ["audit", "checkpoint"]).result()
    assert signed.exit_code == 0 and "checkpoint at row 3" in signed.output
    result = _verify()
    assert result.exit_code == 0 and "1 signed checkpoints, intact" in result.output


def test_r_sec_08_cli_fails_when_a_row_is_edited(database: Settings) -> None:
    _history(database)
    _sql(database, "UPDATE audit_event SET result = 'refused' WHERE chain_seq = 2")
    result = _verify()
    assert result.exit_code == 1
    assert "BROKEN" in result.output and "row 2" in result.output


def test_r_sec_08_cli_fails_when_a_row_is_deleted(database: Settings) -> None:
    _history(database)
    _sql(database, "DELETE FROM audit_event WHERE chain_seq = 2")
    result = _verify()
    assert result.exit_code == 1 and "missing" in result.output
