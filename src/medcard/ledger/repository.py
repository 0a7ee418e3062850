"""Every SQL statement of the ledger. Accounts with a floor are locked in id order (``SELECT …
FOR UPDATE ORDER BY id``) so two transactions touching the same accounts never deadlock;
accounts without a floor (fund pools, channel clearing, hospital receivables, refunds, world)
are never locked ahead: their balances move by one ``UPDATE … SET balance = balance + x``
(in id order) as late as the caller can issue it (ADR 0012); an entry changes state by one
conditional UPDATE."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam, case, func, insert, select, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.db import Driver, among, driver_connection, insert_rows, json_text
from medcard.kit.ids import new_id
from medcard.ledger.rules import AccountState, Leg
from medcard.models import JournalEntry, LedgerAccount, Posting

_ACCOUNT: Table = LedgerAccount.metadata.tables["ledger_account"]
_ENTRY: Table = JournalEntry.metadata.tables["journal_entry"]
_POSTING: Table = Posting.metadata.tables["posting"]


class LedgerRepository:
    """Accounts, entries and postings."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def ensure_accounts(self, rows: Sequence[Mapping[str, Any]]) -> dict[str, uuid.UUID]:
        """Create the accounts whose ``key`` is new (concurrent creators meet on the unique key)
        and return the id of every requested key."""
        return {key: state.id for key, state in (await self.ensure_states(rows)).items()}

    async def ensure_states(
        self, rows: Sequence[Mapping[str, Any]], *, lock: Collection[str] = ()
    ) -> dict[str, AccountState]:
        """:meth:`ensure_accounts` with each account's state as read, by key; those of ``lock``
        that have a floor are locked (``FOR UPDATE``, in id order, in the same statement), the
        others read unlocked.

        Existing accounts are read first and only missing keys are inserted: an ``INSERT … ON
        CONFLICT DO NOTHING`` that meets an existing row waits for any transaction updating that
        row to end, and the hot accounts (the hospital's receivable, channel clearing) are updated
        by every payment in flight — every payment's quote queued behind them (ADR 0012, fourth
        round: 27 ms of waiting per statement at 32 connections)."""
        keys = [row["key"] for row in rows]
        found = await self._by_key(keys, lock)
        missing = [row for row in rows if row["key"] not in found]
        if missing:
            values = [{"id": new_id(), "balance_fen": 0, "held_fen": 0, **row} for row in missing]
            driver = await driver_connection(self.session)
            if driver is not None:
                # One statement for the batch's new accounts (their first payments), not one each.
                await insert_rows(driver, _ACCOUNT, values, skip_conflicts=True)
            else:
                statement = sqlite.insert(_ACCOUNT).on_conflict_do_nothing(index_elements=["key"])
                await self.session.execute(statement, values)
            found |= await self._by_key([row["key"] for row in missing], lock)
        return found

    async def _by_key(self, keys: Collection[str], lock: Collection[str]) -> dict[str, AccountState]:
        driver = await driver_connection(self.session)
        if driver is not None:
            # With a block's kept writes when none is on the accounts (the payment gateway's keys).
            if lock:
                rows = await driver.fetch_beside(_BY_KEY_LOCKING, list(keys), list(lock), touches=("ledger_account",),
                                                 ctes=(_LOCKED_BY_KEY,))  # fmt: skip
            else:
                rows = await driver.fetch_beside(_BY_KEY, list(keys), touches=("ledger_account",))
            return {row[0]: AccountState(*row[1:]) for row in rows}
        # SQLite: the transaction began IMMEDIATE, holding the database's one write lock, so no
        # row lock is needed for what it reads to stay true until it commits.
        query = select(
            LedgerAccount.key,
            LedgerAccount.id,
            LedgerAccount.kind,
            LedgerAccount.floor_fen,
            LedgerAccount.balance_fen,
            LedgerAccount.held_fen,
        ).where(among(self.session, LedgerAccount.key, keys))
        return {row[0]: AccountState(*row[1:]) for row in await self.session.execute(query)}

    async def lock(self, account_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, AccountState]:
        """Lock those of the accounts that have a floor, in id order, and read their state.
        Accounts without a floor are left out: nothing is checked on them, so nothing needs
        them locked before their balance changes (ADR 0012)."""
        driver = await driver_connection(self.session)
        if driver is not None:
            return _states(await driver.fetch(_LOCK, list(account_ids)))
        rows = await self.session.execute(
            select(
                LedgerAccount.id,
                LedgerAccount.kind,
                LedgerAccount.floor_fen,
                LedgerAccount.balance_fen,
                LedgerAccount.held_fen,
            )
            .where(among(self.session, LedgerAccount.id, account_ids), LedgerAccount.floor_fen.is_not(None))
            .order_by(LedgerAccount.id)
            .with_for_update()
        )
        return {row.id: AccountState(row.id, row.kind, row.floor_fen, row.balance_fen, row.held_fen) for row in rows}

    async def move_locked(self, changes: Mapping[uuid.UUID, tuple[int, int]]) -> None:
        """:meth:`move` for accounts this transaction has already locked (``FOR UPDATE``): no lock
        order to keep, so on PostgreSQL it is one write a :func:`medcard.db.together` block can
        send with its others."""
        driver = await driver_connection(self.session)
        if driver is None or not changes:
            await self.move(changes)
            return
        accounts, balances, helds = zip(*((account, b, h) for account, (b, h) in changes.items()), strict=True)
        await driver.write(_MOVE_LOCKED, list(accounts), list(balances), list(helds))

    async def move(self, changes: Mapping[uuid.UUID, tuple[int, int]], *, first: Collection[uuid.UUID] = ()) -> None:
        """Apply ``(balance delta, held delta)`` per account in one executemany UPDATE (one round
        trip), its rows locked in this order: the accounts in ``first`` (the payer's own, locked
        ones) in id order, then the others (the hot, floor-less ones) in id order. A held delta
        applies only where the account has a floor (a hold reserves nothing elsewhere): the
        database decides, not the caller."""
        if not changes:
            return
        ordered = sorted(changes.items(), key=lambda item: (item[0] not in first, item[0]))
        driver = await driver_connection(self.session)
        if driver is not None:
            await driver.executemany(_MOVE, [(account, balance, held) for account, (balance, held) in ordered])
            return
        column = _ACCOUNT.c.held_fen
        held = case((_ACCOUNT.c.floor_fen.is_(None), column), else_=column + bindparam("held"))
        statement = (
            update(_ACCOUNT)
            .where(_ACCOUNT.c.id == bindparam("account"))
            .values(balance_fen=_ACCOUNT.c.balance_fen + bindparam("balance"), held_fen=held)
        )
        params = [{"account": account, "balance": balance, "held": held} for account, (balance, held) in ordered]
        await self.session.execute(statement, params, execution_options={"synchronize_session": False})

    async def insert_entry(self, values: Mapping[str, Any], legs: Sequence[Leg]) -> None:
        await self.insert_entries([(values, legs)])

    async def insert_entries(self, entries: Sequence[tuple[Mapping[str, Any], Sequence[Leg]]]) -> None:
        """Entries and their postings: one INSERT for the entries, one for every posting."""
        driver = await driver_connection(self.session)
        if driver is not None:
            await _insert_entries(driver, entries)
            return
        await self.session.execute(insert(_ENTRY), [dict(values) for values, _ in entries])
        await self.session.execute(
            insert(_POSTING),
            [
                {
                    "id": new_id(),
                    "created_at": values["created_at"],
                    "entry_id": values["id"],
                    "account_id": leg.account_id,
                    "amount_fen": leg.amount_fen,
                    "source": leg.source,
                }
                for values, legs in entries
                for leg in legs
            ],
        )

    async def transition(self, entry_ids: Collection[uuid.UUID], *, to: str, now: datetime) -> set[uuid.UUID]:
        """``pending`` → ``to`` exactly once: the ids of the entries this UPDATE moved (an entry
        another transaction resolved first is left out)."""
        driver = await driver_connection(self.session)
        if driver is not None:
            return {row[0] for row in await driver.fetch(TRANSITION, to, now, list(entry_ids))}
        result = await self.session.execute(
            update(_ENTRY)
            .where(among(self.session, _ENTRY.c.id, entry_ids), _ENTRY.c.state == "pending")
            .values(state=to, resolved_at=now)
            .returning(_ENTRY.c.id)
        )
        return set(result.scalars())

    async def legs(self, entry_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[Leg]]:
        driver = await driver_connection(self.session)
        rows: Any = (
            await driver.fetch(_LEGS, list(entry_ids))
            if driver is not None
            else await self.session.execute(
                select(Posting.entry_id, Posting.account_id, Posting.amount_fen, Posting.source).where(
                    among(self.session, Posting.entry_id, entry_ids)
                )
            )
        )
        found: dict[uuid.UUID, list[Leg]] = {entry_id: [] for entry_id in entry_ids}
        for entry_id, account_id, amount_fen, source in rows:
            found[entry_id].append(Leg(account_id, amount_fen, source))
        return found

    async def entry(self, entry_id: uuid.UUID) -> JournalEntry | None:
        return await self.session.scalar(
            select(JournalEntry).where(JournalEntry.id == entry_id).execution_options(populate_existing=True)
        )

    async def balances(self, account_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, AccountState]:
        """Current state without a lock (for pages and checks)."""
        driver = await driver_connection(self.session)
        if driver is not None:
            return _states(await driver.fetch(_BALANCES, list(account_ids)))
        rows = await self.session.execute(
            select(
                LedgerAccount.id,
                LedgerAccount.kind,
                LedgerAccount.floor_fen,
                LedgerAccount.balance_fen,
                LedgerAccount.held_fen,
            ).where(among(self.session, LedgerAccount.id, account_ids))
        )
        return {row.id: AccountState(row.id, row.kind, row.floor_fen, row.balance_fen, row.held_fen) for row in rows}

    async def drift(self) -> list[tuple[uuid.UUID, int, int]]:
        """Accounts whose stored balance differs from the sum of their posted postings:
        ``(account, stored, summed)``. Empty when the books are right (I4)."""
        summed = (
            select(Posting.account_id, func.sum(Posting.amount_fen).label("total"))
            .join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(JournalEntry.state == "posted")
            .group_by(Posting.account_id)
            .subquery()
        )
        rows = await self.session.execute(
            select(LedgerAccount.id, LedgerAccount.balance_fen, func.coalesce(summed.c.total, 0)).outerjoin(
                summed, summed.c.account_id == LedgerAccount.id
            )
        )
        return [(row[0], int(row[1]), int(row[2])) for row in rows if int(row[1]) != int(row[2])]

    async def total(self) -> int:
        """Σ of every stored balance: 0 when the books balance (I1)."""
        return int(await self.session.scalar(select(func.coalesce(func.sum(LedgerAccount.balance_fen), 0))) or 0)

    async def unbalanced_entries(self) -> list[uuid.UUID]:
        """Entries whose postings do not sum to zero (none, ever)."""
        rows = await self.session.execute(
            select(Posting.entry_id).group_by(Posting.entry_id).having(func.sum(Posting.amount_fen) != 0)
        )
        return list(rows.scalars())


# PostgreSQL: the statements of the payment path straight to asyncpg, each one prepared statement
# whatever the number of rows (arrays and ``unnest``); SQLAlchemy's per-statement and per-row work
# was most of a payment batch's CPU (ADR 0012, fifth round). The SQLAlchemy forms above stay for
# SQLite and say the same.
_BY_KEY = "SELECT key, id, kind, floor_fen, balance_fen, held_fen FROM ledger_account WHERE key = ANY($1::text[])"
_LOCKED_BY_KEY = (
    "locked AS (SELECT key, id, kind, floor_fen, balance_fen, held_fen FROM ledger_account"
    " WHERE key = ANY($2::text[]) AND floor_fen IS NOT NULL ORDER BY id FOR UPDATE)"
)
_BY_KEY_LOCKING = (
    "SELECT * FROM locked UNION ALL"
    " SELECT key, id, kind, floor_fen, balance_fen, held_fen FROM ledger_account"
    " WHERE key = ANY($1::text[]) AND key NOT IN (SELECT key FROM locked)"
)
""":data:`_BY_KEY` locking those of ``$2`` that have a floor, in id order (the rest unlocked), with
its CTE :data:`_LOCKED_BY_KEY`."""
_LOCK = (
    "SELECT id, kind, floor_fen, balance_fen, held_fen FROM ledger_account"
    " WHERE id = ANY($1::uuid[]) AND floor_fen IS NOT NULL"
    " ORDER BY id FOR UPDATE"
)
_BALANCES = "SELECT id, kind, floor_fen, balance_fen, held_fen FROM ledger_account WHERE id = ANY($1::uuid[])"
_MOVE = (
    "UPDATE ledger_account SET balance_fen = balance_fen + $2,"
    " held_fen = CASE WHEN floor_fen IS NULL THEN held_fen ELSE held_fen + $3 END WHERE id = $1"
)
"""One account's move; :meth:`LedgerRepository.move` sends it for each account in turn (one
executemany), so each UPDATE locks its row in that order. One UPDATE of many rows would lock
them in its plan's order; locking them first in a CTE of the same statement deadlocks under
contention (the UPDATE, on the statement's snapshot, follows a row's newer version through the
tuple lock queue the CTE's lock put others in)."""
TRANSITION = (
    "UPDATE journal_entry SET state = $1, resolved_at = $2 WHERE id = ANY($3::uuid[]) AND state = 'pending'"
    " RETURNING id"
)
"""Pending entries resolved (``$1``: ``posted`` or ``voided``) once each: the ids moved. Public for
the payment gateway's posting, which sends it as a CTE beside its orders'
(:meth:`medcard.settlement.repository.SettlementRepository.pay_and_post`)."""
_LEGS = "SELECT entry_id, account_id, amount_fen, source FROM posting WHERE entry_id = ANY($1::uuid[])"
_ENTRIES_CTE = (
    "ledger_entries AS (INSERT INTO journal_entry (id, created_at, kind, state, reference_kind, reference_id,"
    " reverses_id, memo, resolved_at) SELECT * FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::text[],"
    " $5::text[], $6::uuid[], $7::uuid[], $8::jsonb[], $9::timestamptz[]))"
)
_INSERT_POSTINGS = (
    "INSERT INTO posting (id, created_at, entry_id, account_id, amount_fen, source)"
    " SELECT * FROM unnest($10::uuid[], $11::timestamptz[], $12::uuid[], $13::uuid[], $14::int8[], $15::text[])"
)
"""Entries (a CTE) and their postings in one statement (the postings' foreign key is checked at
its end)."""
_MOVE_LOCKED = (
    "UPDATE ledger_account a SET balance_fen = a.balance_fen + m.balance,"
    " held_fen = CASE WHEN a.floor_fen IS NULL THEN a.held_fen ELSE a.held_fen + m.held END"
    " FROM unnest($1::uuid[], $2::int8[], $3::int8[]) AS m(id, balance, held) WHERE a.id = m.id"
)
""":data:`_MOVE` for accounts this transaction has locked already: one UPDATE whose row order
does not matter, so it can join the other writes of a :func:`medcard.db.together` block."""


def _states(rows: Sequence[Any]) -> dict[uuid.UUID, AccountState]:
    return {row[0]: AccountState(row[0], row[1], row[2], row[3], row[4]) for row in rows}


async def _insert_entries(driver: Driver, entries: Sequence[tuple[Mapping[str, Any], Sequence[Leg]]]) -> None:
    columns = ("id", "created_at", "kind", "state", "reference_kind", "reference_id", "reverses_id")
    values = [values for values, _ in entries]
    memos = [json_text(row["memo"]) for row in values]
    resolved = [row["resolved_at"] for row in values]
    postings = [(new_id(), row["created_at"], row["id"], leg.account_id, leg.amount_fen, leg.source)
                for row, legs in entries for leg in legs]  # fmt: skip
    await driver.write(
        _INSERT_POSTINGS,
        *([row[name] for row in values] for name in columns),
        memos,
        resolved,
        *(list(column) for column in zip(*postings, strict=True)),
        ctes=(_ENTRIES_CTE,),
    )
