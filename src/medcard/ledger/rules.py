"""Pure ledger rules: balanced legs, nets per account, what a hold reserves. No session."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from medcard.ledger.errors import UnbalancedEntry


@dataclass(frozen=True)
class Leg:
    """One posting to be written: a signed amount (fen) on an account, tagged with its source."""

    account_id: uuid.UUID
    amount_fen: int
    source: str


@dataclass(frozen=True)
class AccountState:
    """The columns of a locked account that the checks need."""

    id: uuid.UUID
    kind: str
    floor_fen: int | None
    balance_fen: int
    held_fen: int

    @property
    def available_fen(self) -> int:
        return self.balance_fen - self.held_fen


def check_balanced(legs: Iterable[Leg]) -> list[Leg]:
    """The legs without zero amounts; raises when they do not sum to zero or are empty."""
    kept = [leg for leg in legs if leg.amount_fen != 0]
    if not kept:
        raise UnbalancedEntry("an entry needs at least one non-zero posting")
    if any(not isinstance(leg.amount_fen, int) for leg in kept):
        raise UnbalancedEntry("amounts are integer fen")
    total = sum(leg.amount_fen for leg in kept)
    if total != 0:
        raise UnbalancedEntry(f"postings sum to {total} fen, not 0")
    return kept


def net_by_account(legs: Iterable[Leg]) -> dict[uuid.UUID, int]:
    """The signed total per account."""
    nets: dict[uuid.UUID, int] = {}
    for leg in legs:
        nets[leg.account_id] = nets.get(leg.account_id, 0) + leg.amount_fen
    return nets


def reservations(legs: Iterable[Leg]) -> dict[uuid.UUID, int]:
    """What a hold reserves per account: the net debit (credits count only once posted)."""
    return {account: -net for account, net in net_by_account(legs).items() if net < 0}


def with_reserved(
    states: Mapping[uuid.UUID, AccountState], reserved: Mapping[uuid.UUID, int]
) -> dict[uuid.UUID, AccountState]:
    """The states after reserving ``reserved`` on those of them it names (held, no longer available)."""
    after = dict(states)
    for account, amount in reserved.items():
        if account in after:
            after[account] = replace(after[account], held_fen=after[account].held_fen + amount)
    return after


def short_account(accounts: Mapping[uuid.UUID, AccountState], debits: Mapping[uuid.UUID, int]) -> AccountState | None:
    """The first account (by id) whose floor a debit would break, else None."""
    for account_id in sorted(debits):
        account = accounts[account_id]
        if account.floor_fen is not None and account.available_fen - debits[account_id] < account.floor_fen:
            return account
    return None


def reversed_legs(legs: Iterable[Leg]) -> list[Leg]:
    """The legs of a reversal entry: every amount negated."""
    return [Leg(leg.account_id, -leg.amount_fen, leg.source) for leg in legs]
