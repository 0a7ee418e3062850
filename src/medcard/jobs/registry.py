"""Handlers by job kind. A domain registers its handlers in a module listed in
:data:`HANDLER_MODULES`; the worker imports them before it starts."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.config import Settings

HANDLER_MODULES = [
    "medcard.jobs.housekeeping",
    "medcard.settlement.jobs",
    "medcard.family.jobs",
    "medcard.settlement.reconciliation",
]
"""Modules whose import registers handlers (add a domain's ``jobs`` module here)."""


@dataclass(frozen=True)
class JobContext:
    """What a handler gets: its unit of work's session (commit is the worker's), the payload,
    the outside systems and settings, and which attempt this is (1 = first)."""

    session: AsyncSession
    payload: dict[str, Any]
    adapters: Adapters
    settings: Settings
    attempt: int
    job_id: Any


Handler = Callable[[JobContext], Awaitable[None]]


@dataclass(frozen=True)
class Registration:
    handler: Handler
    every: timedelta | None = None
    """Periodic: the worker enqueues one run per period (``unique_key`` = kind + period start)."""


HANDLERS: dict[str, Registration] = {}


def handles(kind: str, *, every: timedelta | None = None) -> Callable[[Handler], Handler]:
    """Register ``handler`` for jobs of ``kind`` (and, with ``every``, run it periodically).
    A handler must tolerate running again after a crash: its database effects commit with the
    job's completion, but calls to outside systems may repeat (make them idempotent)."""

    def register(handler: Handler) -> Handler:
        HANDLERS[kind] = Registration(handler=handler, every=every)
        return handler

    return register


def load_handlers() -> dict[str, Registration]:
    for module in HANDLER_MODULES:
        importlib.import_module(module)
    return HANDLERS
