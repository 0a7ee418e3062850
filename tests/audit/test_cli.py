"""`medcard audit seal|verify|checkpoint`: seal pending rows, report an intact chain, fail on a
tampered one (R-SEC-08)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import structlog
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


def _history(settings: Settings, region_code: str = "990000") -> None:
    async def run() -> None:
        engine = make_engine(settings)
        async with unit_of_work(make_sessionmaker(engine)) as session:
            region = Region(code=region_code, name_zh="测试", name_en="Test", card_scope="hospital")
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


def _audit(command: str) -> Result:
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(CliRunner().invoke, app, ["audit", command]).result()


def test_r_sec_08_cli_verify_reports_unsealed_rows_as_pending(database: Settings) -> None:
    """R-SEC-08: verify is read-only and counts unsealed rows as pending, exit 0."""
    _history(database)
    result = _audit("verify")
    assert result.exit_code == 0, result.output
    assert "0 rows, 0 signed checkpoints, intact; 3 pending" in result.output


def test_r_sec_08_cli_seals_then_verifies_an_intact_chain(database: Settings) -> None:
    """R-SEC-08: `audit seal` links the rows once; a second run finds nothing."""
    _history(database)
    sealed = _audit("seal")
    assert sealed.exit_code == 0 and "sealed 3 rows" in sealed.output
    assert "sealed 0 rows" in _audit("seal").output
    result = _audit("verify")
    assert result.exit_code == 0, result.output
    assert "3 rows, 0 signed checkpoints, intact; 0 pending" in result.output


def test_r_sec_08_cli_verify_fails_on_rows_the_sealer_left_too_long(database: Settings) -> None:
    """R-SEC-08: rows older than the grace period are stale: exit 1, though the chain is intact."""
    _history(database)
    _sql(database, "UPDATE audit_event SET at = '2020-01-01 00:00:00.000000'")
    result = _audit("verify")
    assert result.exit_code == 1
    assert "STALE: 3 rows unsealed" in result.output and "intact" in result.output


def test_r_sec_08_cli_checkpoint_seals_first_then_signs(database: Settings) -> None:
    """R-SEC-08: `audit checkpoint` seals pending rows, then signs the new head."""
    _history(database)
    signed = _audit("checkpoint")
    assert signed.exit_code == 0 and "sealed 3 rows; checkpoint at row 3" in signed.output
    result = _audit("verify")
    assert result.exit_code == 0 and "1 signed checkpoints, intact" in result.output


def test_r_sec_08_cli_fails_when_a_row_is_edited(database: Settings) -> None:
    _history(database)
    _audit("seal")
    _sql(database, "UPDATE audit_event SET result = 'refused' WHERE chain_seq = 2")
    result = _audit("verify")
    assert result.exit_code == 1
    assert "BROKEN" in result.output and "row 2" in result.output


def test_r_sec_08_cli_fails_when_a_row_is_deleted(database: Settings) -> None:
    _history(database)
    _audit("seal")
    _sql(database, "DELETE FROM audit_event WHERE chain_seq = 2")
    result = _audit("verify")
    assert result.exit_code == 1 and "missing" in result.output


def test_r_sec_08_cli_verify_walks_from_the_newest_checkpoint_unless_full(database: Settings) -> None:
    """R-SEC-08: `audit verify` checks only the rows after the newest checkpoint; `--full` all rows."""
    _history(database)
    assert "checkpoint at row 3" in _audit("checkpoint").output
    _history(database, "990001")
    _audit("seal")
    result = _audit("verify")
    assert result.exit_code == 0, result.output
    assert "3 rows, 1 signed checkpoints, intact" in result.output
    assert "after the checkpoint at row 3" in result.output
    _sql(database, "UPDATE audit_event SET result = 'refused' WHERE chain_seq = 5")
    assert _audit("verify").exit_code == 1
    with ThreadPoolExecutor(max_workers=1) as pool:
        full = pool.submit(CliRunner().invoke, app, ["audit", "verify", "--full"]).result()
    assert full.exit_code == 1 and "6 rows" in full.output and "from the first row" in full.output


def test_r_sec_08_cli_keeps_sealing_in_its_own_process_until_interrupted(database: Settings) -> None:
    """R-SEC-08: `audit seal --every S` seals what commits, round after round, in a process of its
    own (the web processes' sealer then off), and stops cleanly on Ctrl-C."""
    command = [str(Path(sys.executable).with_name("medcard")), "audit", "seal", "--every", "0.05"]
    process = subprocess.Popen(command, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        for sealed, region in ((3, "990001"), (6, "990002")):  # rows committed while it runs
            _history(database, region)
            for _ in range(400):  # a count of polls, not a time limit
                if "0 pending" in _audit("verify").output:
                    break
                time.sleep(0.05)
            assert f"{sealed} rows, 0 signed checkpoints, intact; 0 pending" in _audit("verify").output
    finally:
        process.send_signal(signal.SIGINT)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert b"every 0.05 s" in output


def test_r_sec_08_the_command_logs_as_the_app_does(database: Settings) -> None:
    """R-SEC-08: a command configures logging from the settings as the app does — tracebacks as
    plain text, never rich panels with every frame's local variables (where a database URL's
    password, a key or personal data may sit). ``medcard worker`` and ``audit seal --every`` run
    for days logging failed rounds; they logged with structlog's defaults."""
    saved = structlog.get_config()
    structlog.reset_defaults()
    try:
        assert _audit("verify").exit_code == 0
        renderer = structlog.get_config()["processors"][-1]
        try:
            raise RuntimeError("a failed round")
        except RuntimeError:
            line = renderer(None, "error", {"event": "audit_sealer_failed", "exc_info": True})
    finally:
        structlog.configure(**saved)
    assert "Traceback (most recent call last)" in line and "RuntimeError: a failed round" in line
    assert "╭" not in line and "locals" not in line
