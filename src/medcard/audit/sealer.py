"""Running the audit sealer (R-SEC-08): in the app as a background task, and from the CLI.

Each batch is its own unit of work, so the chain lock is held for one batch at a time and
the rows are committed as soon as they are linked. Several app workers may each run a
sealer: the chain lock makes them take turns, and a sealer that finds nothing left commits
an empty transaction. See :mod:`medcard.audit.chain` for the chain itself.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from medcard.audit.chain import SEAL_BATCH, seal
from medcard.db import unit_of_work

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


async def run(sessions: async_sessionmaker[AsyncSession], *, interval: float) -> None:
    """Seal, then sleep ``interval`` seconds, until cancelled. A failed round is logged and
    retried at the next tick (the rows stay pending; ``verify`` shows them as stale if it lasts)."""
    while True:
        try:
            sealed = await seal_pending(sessions)
            if sealed:
                log.debug("audit_sealed", rows=sealed)
        except Exception:
            log.exception("audit_seal_failed")
        await asyncio.sleep(interval)


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
        except Exception:
            log.exception("audit_seal_failed")
