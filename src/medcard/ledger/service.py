"""Ledger operations (R-PAY-01). Services flush, never commit; the caller's unit of work does.

Every operation locks the accounts it touches in id order, checks the floors on the locked
rows (the CHECK constraints are the backstop), then writes the entry, its postings and the
balance changes with a fixed number of statements. Nothing here updates a posted entry:
corrections and refunds are new entries.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.kit.clock import clock
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
    _check_floors(accounts, {account: -net for account, net in nets.items() if net < 0})
    entry_id = await _insert(repository, kind, "posted", kept, reference, memo, reverses)
    await repository.move({account: (net, 0) for account, net in nets.items()})
    return entry_id


async def hold(
    session: AsyncSession,
    *,
    kind: str,
    legs: Sequence[Leg],
    reference: tuple[str, uuid.UUID] | None = None,
    memo: dict[str, Any] | None = None,
) -> uuid.UUID:
    """Write a pending entry (a hold, 预授权): its net debits are reserved on their accounts
    until :func:`resolve` posts or voids it; balances do not move yet."""
    kept = rules.check_balanced(legs)
    reserved = rules.reservations(kept)
    repository = LedgerRepository(session)
    accounts = await repository.lock(rules.net_by_account(kept))
    _check_floors(accounts, reserved)
    entry_id = await _insert(repository, kind, "pending", kept, reference, memo, None)
    await repository.move({account: (0, amount) for account, amount in reserved.items()})
    return entry_id


async def resolve(session: AsyncSession, entry_id: uuid.UUID, *, post_it: bool) -> bool:
    """Post (``post_it``) or void a pending entry, exactly once: the conditional UPDATE on its
    state decides; a loser gets False and changes nothing."""
    repository = LedgerRepository(session)
    if not await repository.transition(entry_id, to="posted" if post_it else "voided", now=clock.now()):
        return False
    legs = (await repository.legs([entry_id]))[entry_id]
    nets = rules.net_by_account(legs)
    reserved = rules.reservations(legs)
    await repository.lock(nets)
    changes = {
        account: (net if post_it else 0, -reserved.get(account, 0))
        for account, net in nets.items()
        if post_it or account in reserved
    }
    await repository.move(changes)
    return True


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
    now = clock.now()
    entry_id = uuid.uuid4()
    values = {
        "id": entry_id,
        "created_at": now,
        "kind": kind,
        "state": state,
        "reference_kind": reference[0] if reference else None,
        "reference_id": reference[1] if reference else None,
        "reverses_id": reverses,
        "memo": memo or {},
        "resolved_at": now if state == "posted" else None,
    }
    await repository.insert_entry(values, legs)
    return entry_id


async def entry(session: AsyncSession, entry_id: uuid.UUID) -> JournalEntry | None:
    return await LedgerRepository(session).entry(entry_id)
