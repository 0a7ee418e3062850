"""Async engine and sessions; the request dependency is the one commit point."""

from __future__ import annotations

import functools
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar, cast

import asyncpg  # type: ignore[import-untyped]
import orjson
from sqlalchemy import JSON, ColumnElement, Table, any_, bindparam, event, exc
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import configure_mappers

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
    else:
        _drop_broken_connections(engine)
    return engine


def _drop_broken_connections(engine: AsyncEngine) -> None:
    # A connection interrupted by a server restart can come back from the pool with asyncpg's
    # protocol out of step ("another operation is in progress"); SQLAlchemy does not see that as
    # a disconnect and would hand it out again and again. Mark it so the pool discards it.
    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: Any) -> None:
        if database_unavailable(context.original_exception) or isinstance(
            context.original_exception, asyncpg.InternalClientError
        ):
            context.is_disconnect = True


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
        # An AUTOCOMMIT connection (the readiness probe) reads without taking the write lock.
        if connection.get_execution_options().get("isolation_level") != "AUTOCOMMIT":
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


# What "the database is unavailable" looks like from here: the server refused or dropped the
# connection, is starting up or shutting down, or the pool timed out waiting for one. Requests
# that meet one answer 503 with Retry-After instead of a bare 500 (``medcard.ops``).
# asyncpg raises some connect-time errors unwrapped.
UNAVAILABLE: tuple[type[Exception], ...] = (
    exc.OperationalError,
    exc.InterfaceError,
    exc.DisconnectionError,
    exc.TimeoutError,
    ConnectionError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.exceptions.TooManyConnectionsError,
)


def database_unavailable(error: BaseException) -> bool:
    """Whether ``error`` (or what caused it) means the database cannot be reached right now."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, UNAVAILABLE) or getattr(current, "connection_invalidated", False):
            return True
        seen.add(id(current))
        current = _next_in_chain(current)
    return False


def _next_in_chain(error: BaseException) -> BaseException | None:
    """What caused ``error``: the driver error SQLAlchemy wraps (``orig``), or the chained one."""
    orig = getattr(error, "orig", None)
    if isinstance(orig, BaseException) and orig is not error:
        return orig
    return error.__cause__ or error.__context__


def root_cause(error: BaseException) -> str:
    """The type name of the innermost exception behind ``error`` (``ConnectionRefusedError``
    rather than SQLAlchemy's wrapper, whose text would carry the statement and parameters)."""
    seen: set[int] = set()
    current = error
    while id(current) not in seen:
        seen.add(id(current))
        following = _next_in_chain(current)
        if following is None:
            break
        current = following
    return type(current).__name__


def transient(model: type[T], **values: Any) -> T:
    """An instance of a mapped class holding ``values``, for rows read straight from the driver
    on hot paths and never added to a session: built by the mapper without the constructor's
    per-attribute events (~1 µs instead of ~20 here). Attributes not given read as ``None``, as on
    any new instance."""
    if not model.__mapper__.configured:  # type: ignore[attr-defined]
        configure_mappers()  # what a constructor would do first (a fresh process's first request)
    instance: T = model._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    instance.__dict__.update(values)
    return instance


DRIVER_STATEMENT_HOOKS: list[Callable[[str], None]] = []
"""Called with each statement sent through a :class:`Driver` (tests count work with it, as they
count SQLAlchemy's statements with ``before_cursor_execute``)."""


Kept = list[tuple[str, tuple[str, ...], tuple[Any, ...]]]
"""Writes kept by a :func:`together` block: (statement, its own CTEs, its arguments)."""


class Driver:
    """The asyncpg connection of a session's transaction (see :func:`driver_connection`).

    Inside :func:`together`, :meth:`write` keeps writes whose result nobody reads and sends them
    as **one** statement (each a data-modifying CTE) just before the next statement that reads,
    or at the block's end: independent writes cost one round trip instead of one each."""

    __slots__ = ("connection", "pending", "top_level")

    def __init__(self, connection: asyncpg.Connection, *, top_level: bool = True) -> None:
        self.connection = connection
        self.pending: Kept | None = None
        self.top_level = top_level
        """Whether the session's transaction is the connection's own (not a savepoint inside a
        transaction someone else began, as the tests' sessions are)."""

    async def fetch(self, query: str, *args: Any) -> list[Any]:
        await self.flush()
        _seen(query)
        rows: list[Any] = await self.connection.fetch(query, *args)
        return rows

    async def execute(self, query: str, *args: Any) -> str:
        await self.flush()
        _seen(query)
        status: str = await self.connection.execute(query, *args)
        return status

    async def executemany(self, query: str, rows: list[tuple[Any, ...]]) -> None:
        """One prepared statement run for each row, in order, in one round trip."""
        await self.flush()
        _seen(query)
        await self.connection.executemany(query, rows)

    async def fetch_beside(
        self, query: str, *args: Any, touches: Collection[str], ctes: tuple[str, ...] = ()
    ) -> list[Any]:
        """:meth:`fetch` for a statement on the tables ``touches`` only (``ctes``: the ``name AS
        (…)`` parts of its own WITH clause), sent as the main query of the kept writes' statement
        (one round trip): it runs on their snapshot, so it must not need what they write. A kept
        write that names one of those tables is sent first instead."""
        pending = self.pending
        if not pending or any(table in " ".join((*kept_ctes, kept)) for kept, kept_ctes, _ in pending
                              for table in touches):  # fmt: skip
            return await self.fetch(f"WITH {', '.join(ctes)} {query}" if ctes else query, *args)
        self.pending = []
        combined, kept_args = _statement(pending, query, ctes)
        rows: list[Any] = await self.connection.fetch(combined, *kept_args, *args)
        return rows

    async def write(self, query: str, *args: Any, ctes: tuple[str, ...] = ()) -> None:
        """An INSERT, UPDATE or DELETE whose result is not read (``ctes``: the ``name AS (…)``
        parts of its own WITH clause): kept for the block's one statement inside
        :func:`together`, sent at once outside."""
        if self.pending is not None:
            self.pending.append((query, ctes, args))
            return
        await self.execute(f"WITH {', '.join(ctes)} {query}" if ctes else query, *args)

    async def flush(self) -> None:
        """Send the writes kept so far, as one statement."""
        if not self.pending:
            return
        writes, self.pending = self.pending, []
        query, args = _statement(writes)
        await self.connection.execute(query, *args)


def _statement(writes: Kept, main: str = "SELECT 1", main_ctes: tuple[str, ...] = ()) -> tuple[str, list[Any]]:
    """Kept writes (and ``main``, with its own CTEs) as one statement and its arguments, counted
    as sent."""
    query = _together(tuple((write, ctes) for write, ctes, _ in writes), main, main_ctes)
    _seen(query)
    return query, [arg for _, _, args in writes for arg in args]


def _seen(query: str) -> None:
    for hook in DRIVER_STATEMENT_HOOKS:
        hook(query)


_PLACEHOLDER = re.compile(r"\$(\d+)")


@functools.lru_cache(maxsize=512)
def _together(
    writes: tuple[tuple[str, tuple[str, ...]], ...], main: str = "SELECT 1", main_ctes: tuple[str, ...] = ()
) -> str:
    """Writes as one statement: ``WITH <their own CTEs>, w0 AS (<write>), w1 AS (…), <main's own
    CTEs> <main>``, each write's ``$n`` (and the main query's) shifted past the parameters of the
    writes before it. PostgreSQL runs every data-modifying CTE once, to completion, whether or not the main
    query reads it; they share one snapshot (none sees another's rows, so they must be
    independent: no row written twice) and their foreign keys and triggers are checked at the
    statement's end."""
    if len(writes) == 1 and not writes[0][1] and main == "SELECT 1" and not main_ctes:
        return writes[0][0]
    parts: list[str] = []
    offset = 0
    for index, (query, ctes) in enumerate(writes):
        for name in (cte.split(None, 1)[0] for cte in ctes):  # each write's own CTEs, named apart
            rename = re.compile(rf"\b{name}\b")
            query, ctes = rename.sub(f"w{index}_{name}", query), tuple(rename.sub(f"w{index}_{name}", c) for c in ctes)
        parts += [shifted(cte, offset) for cte in ctes]
        parts.append(f"w{index} AS ({shifted(query, offset)})")
        offset += max((int(number) for number in _PLACEHOLDER.findall(" ".join((*ctes, query)))), default=0)
    parts += [shifted(cte, offset) for cte in main_ctes]
    return f"WITH {', '.join(parts)} {shifted(main, offset)}"


def shifted(sql: str, by: int) -> str:
    """``sql`` with each ``$n`` made ``$(n + by)``."""
    return _PLACEHOLDER.sub(lambda match: f"${int(match.group(1)) + by}", sql)


@asynccontextmanager
async def together(session: AsyncSession) -> AsyncIterator[None]:
    """Inside the block, the PostgreSQL writes sent through :meth:`Driver.write` go as one
    statement (flushed before any statement that reads, and at the block's end). A no-op on
    SQLite, and inside another such block. A block left by an exception drops what it kept (the
    transaction is rolled back)."""
    driver = await driver_connection(session)
    if driver is None or driver.pending is not None:
        yield
        return
    driver.pending = []
    try:
        yield
        await driver.flush()
    finally:
        driver.pending = None


async def driver_connection(session: AsyncSession) -> Driver | None:
    """The session's asyncpg connection inside its transaction, for hot paths that send their
    statements without SQLAlchemy's per-statement work (docs/adr/0005: the code gateway); None on
    SQLite, where callers keep their SQLAlchemy statements.

    The statements join the session's transaction: SQLAlchemy's asyncpg adapter begins it lazily,
    on its first statement, so it is begun here if nothing ran yet; the session still commits or
    rolls back. asyncpg prepares and caches each statement text once per connection, so these
    statements are written with arrays (``= ANY($1)``, ``unnest``) and stay one prepared
    statement whatever the batch size."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    found = _current_driver(session)
    if found is not None:
        return found
    connection = await session.connection()
    adapted = (await connection.get_raw_connection()).dbapi_connection
    if adapted is None:  # pragma: no cover - a checked-out connection always has one
        raise RuntimeError("no database connection")
    if adapted._transaction is None:  # SQLAlchemy's adapter begins lazily
        await adapted._start_transaction()
    driver = Driver(adapted._connection, top_level=not connection.in_nested_transaction())
    session.info[_DRIVER] = (session.sync_session.get_transaction(), driver)
    return driver


_DRIVER = "medcard.driver_connection"
"""``session.info`` key: (the transaction it belongs to, its :class:`Driver`)."""


def _current_driver(session: AsyncSession) -> Driver | None:
    """The :class:`Driver` of the session's current transaction, if one was made for it."""
    root = session.sync_session.get_transaction()
    cached = session.info.get(_DRIVER)
    if root is None or cached is None or cached[0] is not root:
        return None
    driver: Driver = cached[1]
    return driver


async def commit_and_begin(session: AsyncSession) -> None:
    """Commit the session's work so far and go on in a new transaction of the same session.

    On PostgreSQL, once the session's transaction has a :class:`Driver`, the commit and the next
    ``BEGIN`` go as **one** message (``COMMIT; BEGIN``: one round trip, where the session's
    commit and the driver's lazy begin cost one each, docs/adr/0012). SQLAlchemy sees neither:
    for it the session is still in its one transaction, which its own commit (or rollback) ends
    later. The session never expires what it loaded on commit (``expire_on_commit`` is off), so
    nothing it holds goes stale either way. A commit that fails raises, as the session's would,
    and nothing is begun. Elsewhere (SQLite; no driver yet; a session whose transaction is a
    savepoint in someone else's) it is the session's commit."""
    driver = _current_driver(session)
    if driver is None or not driver.top_level:
        await session.commit()
        return
    await driver.flush()
    _seen("COMMIT; BEGIN")
    await driver.connection.execute("COMMIT; BEGIN")


def among(session: AsyncSession, column: Any, values: Collection[Any]) -> ColumnElement[bool]:
    """``column IN values`` written as one statement whatever the number of values: on
    PostgreSQL ``column = ANY($1)`` with one array parameter (an IN list of n values is a
    statement of its own for every n, parsed, planned and prepared again on each connection —
    what a batch of varying size pays on every statement); an IN list elsewhere."""
    if session.get_bind().dialect.name == "postgresql":
        array = _ARRAYS.get(column.type)
        if array is None:  # one ARRAY type per column type: a new one would be adapted anew each time
            array = _ARRAYS[column.type] = ARRAY(column.type)
        return cast(ColumnElement[bool], column == any_(bindparam(None, list(values), type_=array)))
    return cast(ColumnElement[bool], column.in_(values))


_ARRAYS: dict[Any, ARRAY[Any]] = {}


async def insert_rows(
    driver: Driver,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    skip_conflicts: bool = False,
    returning: Sequence[str] = (),
) -> list[Any]:
    """Rows of ``table`` (values by column name, every row the same columns) in one statement on
    PostgreSQL, ``INSERT … SELECT * FROM unnest($1::type[], …)``: one prepared statement whatever
    the number of rows. JSON columns are sent as text. ``skip_conflicts``: ``ON CONFLICT DO
    NOTHING``; ``returning``: the columns of the rows written."""
    if not rows:
        return []
    given = set(rows[0])
    # The columns' Python-side defaults, as SQLAlchemy's INSERT would fill them.
    defaults = [column for column in table.c if column.name not in given and column.default is not None]
    if defaults:
        rows = [{**row, **{c.name: _default(c) for c in defaults}} for row in rows]
    names = tuple(rows[0])
    query = _unnest_insert(table, names, skip_conflicts, tuple(returning))
    json_columns = {name for name in names if isinstance(table.c[name].type, JSON | JSONB)}
    arrays = [
        [json_text(row[name]) for row in rows] if name in json_columns else [row[name] for row in rows]
        for name in names
    ]
    if returning:
        return await driver.fetch(query, *arrays)
    await driver.write(query, *arrays)
    return []


def _default(column: Any) -> Any:
    default = column.default
    return default.arg(None) if default.is_callable else default.arg  # SQLAlchemy wraps fn() as fn(context)


_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
"""orjson written as ``json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)``
writes: dates, times and dataclasses through ``str`` as there, keys that are not strings as
strings; a float is the same number, sometimes in other digits (``0.00001`` for ``1e-05``).
orjson is several times faster, and a payment batch encodes every order's JSON columns (ADR
0012, eighth round)."""


def json_text(value: Any) -> str | None:
    """A JSON column's value as asyncpg takes it for ``jsonb`` (compact text; None stays NULL)."""
    return None if value is None else orjson.dumps(value, default=str, option=_JSON_OPTIONS).decode()


@functools.cache
def _unnest_insert(table: Table, names: tuple[str, ...], skip_conflicts: bool, returning: tuple[str, ...]) -> str:
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    types = [table.c[name].type.compile(dialect=dialect) for name in names]
    arrays = ", ".join(f"${n}::{type_}[]" for n, type_ in enumerate(types, start=1))
    query = f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays})"  # noqa: S608 - names from metadata
    if skip_conflicts:
        query += " ON CONFLICT DO NOTHING"
    if returning:
        query += f" RETURNING {', '.join(returning)}"
    return query
