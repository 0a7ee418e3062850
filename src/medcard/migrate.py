"""Run Alembic programmatically (CLI, tests, demo)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from alembic import command
from alembic.config import Config

from medcard.config import PROJECT_ROOT, Settings


def alembic_config(settings: Settings) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.attributes["database_url"] = settings.database_url
    return config


def _off_loop(function: Callable[[], None]) -> None:
    """Alembic's env.py starts its own event loop; give it a thread when one is running here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        function()
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(function).result()


def upgrade(settings: Settings, revision: str = "head") -> None:
    _off_loop(lambda: command.upgrade(alembic_config(settings), revision))


def downgrade(settings: Settings, revision: str) -> None:
    _off_loop(lambda: command.downgrade(alembic_config(settings), revision))
