"""Work that must follow a commit (SMS, pushes, calls out) is queued on the session."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

log = structlog.get_logger(__name__)
AfterCommit = Callable[[], Awaitable[object]]
_KEY = "medcard_after_commit"


def after_commit(session: AsyncSession, action: AfterCommit) -> None:
    """Queue ``action`` to run once the surrounding unit of work has committed."""
    session.info.setdefault(_KEY, []).append(action)


def discard(session: AsyncSession) -> None:
    """Drop queued actions (the transaction rolled back)."""
    session.info.pop(_KEY, None)


async def run(session: AsyncSession) -> None:
    """Run and clear queued actions; one failing action does not stop the others."""
    actions: list[AfterCommit] = session.info.pop(_KEY, [])
    for action in actions:
        try:
            await action()
        except Exception:
            log.exception("after_commit_failed")
