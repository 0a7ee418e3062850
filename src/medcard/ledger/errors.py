"""Ledger errors: stable codes, zh-CN + English text and a hint."""

from __future__ import annotations

from medcard.errors import MedCardError
from medcard.i18n import N_, NC_, Msg

SOURCE_LABELS = {
    "personal_account": N_("personal insurance account"),
    "deposit": N_("deposit"),
    "credit_line": NC_("ledger/errors", "credit line"),
    "fund": N_("pooled fund"),
    "channel": N_("payment channel"),
}


class UnbalancedEntry(ValueError):
    """A programming error: the postings of an entry do not sum to zero."""


class InsufficientFunds(MedCardError):
    status = 409
    code = "INSUFFICIENT_FUNDS"
    message = N_("Not enough money in the {source}")
    hint = NC_(
        "INSUFFICIENT_FUNDS",
        "Top up or choose another way to pay; if money just arrived, retry the same request shortly.",
    )

    @classmethod
    def of(cls, source: str) -> InsufficientFunds:
        return cls(source=SOURCE_LABELS.get(source, Msg(source.replace("_", " "))))


class HoldAlreadyResolved(MedCardError):
    status = 409
    code = "HOLD_ALREADY_RESOLVED"
    message = N_("This hold was already posted or voided")
    hint = N_("Refresh to see the order's current state.")
