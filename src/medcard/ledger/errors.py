"""Ledger errors: stable codes, zh-CN + English text and a hint."""

from __future__ import annotations

from medcard.errors import MedCardError
from medcard.i18n import N_, NC_

SOURCE_LABELS = {
    "personal_account": ("医保个人账户", "personal insurance account"),
    "deposit": ("预交金", "deposit"),
    "credit_line": ("信用额度", "credit line"),
    "fund": ("统筹基金", "pooled fund"),
    "channel": ("支付渠道", "payment channel"),
}


class UnbalancedEntry(ValueError):
    """A programming error: the postings of an entry do not sum to zero."""


class InsufficientFunds(MedCardError):
    status = 409
    code = "INSUFFICIENT_FUNDS"
    message = N_("Not enough money in the {source_en}")
    hint = NC_(
        "INSUFFICIENT_FUNDS",
        "Top up or choose another way to pay; if money just arrived, retry the same request shortly.",
    )

    @classmethod
    def of(cls, source: str) -> InsufficientFunds:
        zh, en = SOURCE_LABELS.get(source, (source, source.replace("_", " ")))
        return cls(source_zh=zh, source_en=en)


class HoldAlreadyResolved(MedCardError):
    status = 409
    code = "HOLD_ALREADY_RESOLVED"
    message = N_("This hold was already posted or voided")
    hint = N_("Refresh to see the order's current state.")
