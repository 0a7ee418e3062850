"""Small helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from medcard.db import DRIVER_STATEMENT_HOOKS

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from sync code, in a thread of its own (Playwright's sync API keeps a
    loop running in the main thread once the browser tests have started)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every SQL statement sent through ``engine`` inside the block, to prove work by counting it
    (never by timing). Savepoints are left out: the test's session commits by releasing one,
    production by COMMIT."""
    sent: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if "SAVEPOINT" not in statement:
            sent.append(statement)

    def count_driver(statement: str) -> None:
        sent.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    DRIVER_STATEMENT_HOOKS.append(count_driver)  # hot paths that send statements straight to asyncpg
    try:
        yield sent
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
        DRIVER_STATEMENT_HOOKS.remove(count_driver)
