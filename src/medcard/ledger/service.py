"""Ledger operations (R-PAY-01). Services flush, never commit; the caller's unit of work does.

Every operation locks the accounts with a floor it touches in id order (the patient's personal
account, deposit, credit line), checks the floors on the locked rows (the CHECK constraints are
the backstop), then writes the entry and its postings and moves the balances by one
executemany UPDATE: the locked accounts first, the floor-less ones (hot rows shared by every
payment: the hospital's receivable, channel clearing, the fund pool) last, each group in id
order, so a transaction holds them for the fewest statements (ADR 0012). A hold reserves only
on accounts with a floor: an account without one has nothing to protect. Nothing here updates a posted entry:
corrections and refunds are new entries.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.kit.clock import clock
from medcard.kit.ids import new_id
from medcard.ledger import rules
from medcard.ledger.errors import HoldAlreadyResolved, InsufficientFunds
from medcard.ledger.repository import LedgerRepository
from medcard.ledger.rules import Leg
from medcard.models import JournalEntry
from medcard.models.ledger import CREDIT_LINE_FLOOR_FEN

KIND_SOURCE = {
    "fund_pool": "fund",
    "personal_account": "personal_account",
    "deposit": "deposit",
    "credit_line": "credit_line",
    "channel_clearing": "channel",
    "hospital_receivable": "hospital",
    "refunds": "refunds",
    "world": "world",
}


@dataclass(frozen=True)
class AccountSpec:
    """An account to find or create: its kind, unique key, owners and floor."""

    kind: str
    key: str
    hospital_id: uuid.UUID | None = None
    person_id: uuid.UUID | None = None
    floor_fen: int | None = None

    def row(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "key": self.key,
            "hospital_id": self.hospital_id,
            "person_id": self.person_id,
            "floor_fen": self.floor_fen,
            "created_at": clock.now(),
        }


def fund_pool(region_code: str, scheme_code: str) -> AccountSpec:
    """The pooled fund (统筹基金) of a coordinating region and scheme."""
    return AccountSpec("fund_pool", f"fund_pool:{region_code}:{scheme_code}")


def personal_account(person_id: uuid.UUID) -> AccountSpec:
    """The insured person's personal account (个人账户), never negative."""
    return AccountSpec("personal_account", f"personal_account:{person_id}", person_id=person_id, floor_fen=0)


def deposit(hospital_id: uuid.UUID, person_id: uuid.UUID) -> AccountSpec:
    """The patient's prepaid deposit (预交金) at one hospital, never negative (R-CARD-09)."""
    return AccountSpec("deposit", f"deposit:{hospital_id}:{person_id}", hospital_id, person_id, floor_fen=0)


def credit_line(hospital_id: uuid.UUID, person_id: uuid.UUID, limit_fen: int) -> AccountSpec:
    """Treat first, pay later (先诊疗后付费) at one hospital: at most ``limit_fen`` owed (R-CARD-10)."""
    floor = max(-limit_fen, CREDIT_LINE_FLOOR_FEN)
    return AccountSpec("credit_line", f"credit_line:{hospital_id}:{person_id}", hospital_id, person_id, floor)


def hospital_receivable(hospital_id: uuid.UUID) -> AccountSpec:
    return AccountSpec("hospital_receivable", f"hospital_receivable:{hospital_id}", hospital_id=hospital_id)


CHANNEL_CLEARING = AccountSpec("channel_clearing", "channel_clearing")
REFUNDS = AccountSpec("refunds", "refunds")
WORLD = AccountSpec("world", "world")


async def ensure(session: AsyncSession, specs: Sequence[AccountSpec]) -> dict[str, uuid.UUID]:
    """The ids of the accounts named by ``specs`` (keyed by ``spec.key``), created when missing."""
    unique = {spec.key: spec for spec in specs}
    return await LedgerRepository(session).ensure_accounts([spec.row() for spec in unique.values()])


async def ensure_states(
    session: AsyncSession, specs: Sequence[AccountSpec], *, lock: Collection[str] = ()
) -> dict[str, rules.AccountState]:
    """:func:`ensure` with each account's state as read: one statement for both. The accounts of
    ``lock`` (keys) that have a floor are locked, in id order, by the same statement."""
    unique = {spec.key: spec for spec in specs}
    return await LedgerRepository(session).ensure_states([spec.row() for spec in unique.values()], lock=lock)


OWN_SOURCES = frozenset({"personal_account", "deposit", "credit_line", "family_mutual_aid"})
"""Posting sources on a person's own (floored) accounts: their balances move first when an
entry is resolved, the shared hot accounts' last (an ordering only; the database decides
which accounts carry holds, by their floor)."""


async def post(
    session: AsyncSession,
    *,
    kind: str,
    legs: Sequence[Leg],
    reference: tuple[str, uuid.UUID] | None = None,
    memo: dict[str, Any] | None = None,
    reverses: uuid.UUID | None = None,
) -> uuid.UUID:
    """Write one posted entry; refuses with :class:`InsufficientFunds` when a debit would take
    an account below its floor (available = balance − held)."""
    kept = rules.check_balanced(legs)
    nets = rules.net_by_account(kept)
    repository = LedgerRepository(session)
    accounts = await repository.lock(nets)
    _check_floors(accounts, {account: -net for account, net in nets.items() if net < 0 and account in accounts})
    entry_id = await _insert(repository, kind, "posted", kept, reference, memo, reverses)
    await repository.move({account: (net, 0) for account, net in nets.items()}, first=accounts.keys())
    return entry_id


@dataclass(frozen=True)
class Hold:
    """A pending entry to write (:func:`hold_many`)."""

    kind: str
    legs: Sequence[Leg]
    reference: tuple[str, uuid.UUID] | None = None
    memo: dict[str, Any] | None = None
    entry_id: uuid.UUID | None = None


async def hold(
    session: AsyncSession,
    *,
    kind: str,
    legs: Sequence[Leg],
    reference: tuple[str, uuid.UUID] | None = None,
    memo: dict[str, Any] | None = None,
    entry_id: uuid.UUID | None = None,
    locked: Mapping[uuid.UUID, rules.AccountState] | None = None,
) -> uuid.UUID:
    """Write a pending entry (a hold, 预授权): its net debits are reserved on their accounts
    that have a floor until :func:`resolve` posts or voids it; balances do not move yet.

    ``locked``: the states of the legs' floored accounts the caller has already read under
    ``FOR UPDATE`` in this transaction (the payment path does, to decide the funding); the hold
    then does not lock them again. ``entry_id``: the id to give the entry (the order names it)."""
    kept = rules.check_balanced(legs)
    states = dict(locked) if locked is not None else await LedgerRepository(session).lock(rules.net_by_account(kept))
    return (await hold_many(session, [Hold(kind, kept, reference, memo, entry_id)], locked=states))[0]


async def hold_many(
    session: AsyncSession, holds: Sequence[Hold], *, locked: Mapping[uuid.UUID, rules.AccountState]
) -> list[uuid.UUID]:
    """Write pending entries in two statements whatever their number (the payment gateway's
    batch), or two writes of a :func:`medcard.db.together` block on PostgreSQL. ``locked``: the
    states of every floored account the holds touch, read under ``FOR UPDATE`` by the caller in
    this transaction; each hold's floors are checked against them with the earlier holds'
    reservations taken off."""
    reserved_total: dict[uuid.UUID, int] = {}
    rows: list[tuple[dict[str, Any], list[Leg]]] = []
    states = dict(locked)
    for one in holds:
        kept = rules.check_balanced(one.legs)
        reserved = {account: amount for account, amount in rules.reservations(kept).items() if account in states}
        _check_floors(states, reserved)
        states = rules.with_reserved(states, reserved)
        for account, amount in reserved.items():
            reserved_total[account] = reserved_total.get(account, 0) + amount
        rows.append((_entry_values(one.kind, "pending", one.reference, one.memo, None, one.entry_id), kept))
    repository = LedgerRepository(session)
    await repository.insert_entries(rows)
    # Every reserved account is one of ``locked``: no lock order to keep.
    await repository.move_locked({account: (0, amount) for account, amount in reserved_total.items()})
    return [values["id"] for values, _ in rows]


async def resolve(session: AsyncSession, entry_id: uuid.UUID, *, post_it: bool) -> bool:
    """Post (``post_it``) or void a pending entry, exactly once: the conditional UPDATE on its
    state decides; a loser gets False and changes nothing."""
    return entry_id in await resolve_many(session, [entry_id], post_it=post_it)


async def resolve_many(
    session: AsyncSession,
    entry_ids: Collection[uuid.UUID],
    *,
    post_it: bool,
) -> set[uuid.UUID]:
    """Post or void pending entries in three statements whatever their number; returns those
    this call resolved (one another transaction resolved first is left alone).

    No account is locked ahead: posting or voiding never lowers an account's available money
    (a posted debit was reserved; a voided hold gives its reservation back), so there is no
    floor to check. One UPDATE moves every balance once with the sum of its entries' changes
    (a hot account shared by every payment: once per call, not once per entry), the payers'
    own accounts first and the hot shared ones last; the database releases holds only where an
    account has a floor."""
    repository = LedgerRepository(session)
    resolved = await repository.transition(entry_ids, to="posted" if post_it else "voided", now=clock.now())
    if not resolved:
        return resolved
    await _move_resolved(repository, (await repository.legs(resolved)).values(), post_it=post_it)
    return resolved


async def move_for_posting(session: AsyncSession, legs: Collection[Sequence[Leg]]) -> None:
    """The balance moves of posting these entries (their legs as the caller wrote them), which
    the caller resolved in this transaction itself — every one of them, or it rolls back (the
    payment gateway, which posts its holds beside its orders in one statement)."""
    await _move_resolved(LedgerRepository(session), legs, post_it=True)


async def _move_resolved(repository: LedgerRepository, legs: Collection[Sequence[Leg]], *, post_it: bool) -> None:
    """One UPDATE moves every balance once with the sum of these resolved entries' changes: a
    posted entry its nets and its reservations released, a voided one its reservations only."""
    changes: dict[uuid.UUID, tuple[int, int]] = {}
    own: set[uuid.UUID] = set()
    for entry_legs in legs:
        nets = rules.net_by_account(entry_legs)
        reserved = rules.reservations(entry_legs)
        for account, net in nets.items():
            if post_it or account in reserved:
                balance, held = changes.get(account, (0, 0))
                changes[account] = (balance + (net if post_it else 0), held - reserved.get(account, 0))
        own |= {leg.account_id for leg in entry_legs if leg.source in OWN_SOURCES}
    await repository.move(changes, first=own)


async def resolve_or_refuse(session: AsyncSession, entry_id: uuid.UUID, *, post_it: bool) -> None:
    if not await resolve(session, entry_id, post_it=post_it):
        raise HoldAlreadyResolved()


async def reverse(session: AsyncSession, entry_id: uuid.UUID, *, kind: str = "reversal") -> uuid.UUID:
    """A new posted entry undoing a posted one (posted entries are never edited)."""
    repository = LedgerRepository(session)
    entry = await repository.entry(entry_id)
    if entry is None or entry.state != "posted":
        raise HoldAlreadyResolved()
    legs = (await repository.legs([entry_id]))[entry_id]
    return await post(session, kind=kind, legs=rules.reversed_legs(legs), reverses=entry_id)


def _check_floors(accounts: dict[uuid.UUID, rules.AccountState], debits: dict[uuid.UUID, int]) -> None:
    short = rules.short_account(accounts, debits)
    if short is not None:
        raise InsufficientFunds.of(KIND_SOURCE.get(short.kind, short.kind))


async def _insert(
    repository: LedgerRepository,
    kind: str,
    state: str,
    legs: list[Leg],
    reference: tuple[str, uuid.UUID] | None,
    memo: dict[str, Any] | None,
    reverses: uuid.UUID | None,
) -> uuid.UUID:
    values = _entry_values(kind, state, reference, memo, reverses, None)
    await repository.insert_entry(values, legs)
    entry_id: uuid.UUID = values["id"]
    return entry_id


def _entry_values(
    kind: str,
    state: str,
    reference: tuple[str, uuid.UUID] | None,
    memo: dict[str, Any] | None,
    reverses: uuid.UUID | None,
    entry_id: uuid.UUID | None,
) -> dict[str, Any]:
    now = clock.now()
    return {
        "id": entry_id or new_id(),
        "created_at": now,
        "kind": kind,
        "state": state,
        "reference_kind": reference[0] if reference else None,
        "reference_id": reference[1] if reference else None,
        "reverses_id": reverses,
        "memo": memo or {},
        "resolved_at": now if state == "posted" else None,
    }


async def entry(session: AsyncSession, entry_id: uuid.UUID) -> JournalEntry | None:
    return await LedgerRepository(session).entry(entry_id)
