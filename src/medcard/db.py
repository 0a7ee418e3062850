"""Async engine and sessions; the request dependency is the one commit point."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from medcard.config import Settings
from medcard.errors import MedCardError
from medcard.kit import keys, side_effects

T = TypeVar("T")


def make_engine(settings: Settings, **kwargs: Any) -> AsyncEngine:
    """Engine for ``settings.database_url``; SQLite gets real transactions and foreign keys.

    Installs the settings' field-encryption key ring: encrypted columns read and write through it."""
    keys.install(settings.key_ring())
    if settings.is_sqlite:
        path = settings.database_url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"timeout": 30})
    elif "poolclass" not in kwargs:
        kwargs.setdefault("pool_size", 10)
        kwargs.setdefault("max_overflow", 20)
        kwargs.setdefault("pool_pre_ping", True)
    engine = create_async_engine(settings.database_url, echo=settings.database_echo, **kwargs)
    if settings.is_sqlite:
        _sqlite_transactions(engine)
    return engine


def _sqlite_transactions(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; take BEGIN over (SQLAlchemy docs recipe).
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


@asynccontextmanager
async def transaction(session: AsyncSession) -> AsyncIterator[AsyncSession]:
    """The one commit point. Success commits; an error rolls back, except a
    :class:`MedCardError` with ``keep_changes`` (a counted wrong try, a lockout), whose
    changes are committed before it propagates. After-commit side effects run last."""
    try:
        yield session
    except MedCardError as error:
        if not error.keep_changes:
            await _rollback(session)
            raise
        await session.commit()
        await side_effects.run(session)
        raise
    except BaseException:
        await _rollback(session)
        raise
    await session.commit()
    await side_effects.run(session)


async def _rollback(session: AsyncSession) -> None:
    await session.rollback()
    side_effects.discard(session)


async def attempt(session: AsyncSession, operation: Callable[[], Awaitable[T]]) -> tuple[T | None, MedCardError | None]:
    """Run one service call in a savepoint so a page can show its refusal instead of raising.

    A refusal is undone as :func:`transaction` would undo it, except one raised with
    ``keep_changes`` (a counted wrong code), whose changes stay. The page's request still
    commits once at its end.
    """
    savepoint = await session.begin_nested()
    try:
        result = await operation()
    except MedCardError as error:
        if error.keep_changes:
            await savepoint.commit()
        else:
            await savepoint.rollback()
            side_effects.discard(session)
        return None, error
    await savepoint.commit()
    return result, None


@asynccontextmanager
async def unit_of_work(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A new session inside :func:`transaction` (requests, CLI, jobs)."""
    async with sessions() as session, transaction(session):
        yield session
