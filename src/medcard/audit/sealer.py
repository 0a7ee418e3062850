"""Running the audit sealer (R-SEC-08): in the app as a background task, and from the CLI.

Each batch is its own unit of work, so the chain lock is held for one batch at a time and
the rows are committed as soon as they are linked. Several app workers may each run a
sealer: the chain lock makes them take turns, and a sealer that finds nothing left commits
an empty transaction. See :mod:`medcard.audit.chain` for the chain itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from medcard.audit.chain import SEAL_BATCH, seal
from medcard.db import database_unavailable, root_cause, unit_of_work

log = structlog.get_logger(__name__)


async def seal_pending(sessions: async_sessionmaker[AsyncSession], *, batch: int = SEAL_BATCH) -> int:
    """Seal every row committed so far, one batch per transaction; returns how many were sealed."""
    total = 0
    while True:
        async with unit_of_work(sessions) as session:
            sealed = await seal(session, batch=batch)
        total += sealed
        if sealed < batch:
            return total


MAX_BACKOFF_SECONDS = 60.0


def next_delay(failures: int, *, interval: float, cap: float = MAX_BACKOFF_SECONDS) -> float:
    """Seconds to wait before the next round: ``interval`` while sealing works; after ``failures``
    failed rounds in a row, ``interval`` doubled per failure, at most ``cap`` (never below
    ``interval``)."""
    if failures <= 0:
        return interval
    return max(interval, min(interval * (1 << min(failures, 32)), cap))


async def run(
    sessions: async_sessionmaker[AsyncSession],
    *,
    interval: float,
    cap: float = MAX_BACKOFF_SECONDS,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Seal, then sleep, until cancelled. While rounds fail (the database is down) the sleep
    backs off exponentially up to ``cap``, and the cause is logged once when the sealer goes
    down and once when it recovers — not every round. The rows stay pending meanwhile;
    ``verify`` shows them as stale if it lasts."""
    failures = 0
    while True:
        try:
            sealed = await seal_pending(sessions)
        except Exception as error:  # noqa: BLE001 - the background loop survives any failure; logged once
            failures += 1
            if failures == 1:
                _log_down(error)
        else:
            if failures:
                log.info("audit_sealer_recovered", failed_rounds=failures)
            failures = 0
            if sealed:
                log.debug("audit_sealed", rows=sealed)
        await sleep(next_delay(failures, interval=interval, cap=cap))


def _log_down(error: Exception) -> None:
    """An outage is expected and needs no traceback; anything else is a bug and gets one."""
    if database_unavailable(error):
        log.warning("audit_sealer_down", cause=root_cause(error))
    else:
        log.exception("audit_sealer_failed", cause=type(error).__name__)


@contextlib.asynccontextmanager
async def running(sessions: async_sessionmaker[AsyncSession], *, interval: float) -> AsyncIterator[None]:
    """Run the sealer in the background while the block runs (the app's lifespan); ``interval``
    0 disables it. On the way out it is stopped and seals once more, so a clean shutdown leaves
    nothing pending."""
    if interval <= 0:
        yield
        return
    task = asyncio.create_task(run(sessions, interval=interval), name="medcard-audit-sealer")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        try:
            await seal_pending(sessions)
        except Exception as error:  # noqa: BLE001 - shutdown goes on; the rows stay pending, logged
            _log_down(error)
