"""Pure rules of a hospital's card settings (R-CARD-08…10). No session, no clock."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from medcard.errors import MedCardError
from medcard.hospital.errors import (
    CreditLimitOutOfRange,
    CreditLimitRequired,
    DepositMinimumTooLow,
    PhysicalCardFeeOutOfRange,
)

PHYSICAL_CARD_FEE_MIN_FEN = 500
"""R-CARD-08: 5 yuan …"""
PHYSICAL_CARD_FEE_MAX_FEN = 2000
"""… to 20 yuan, or 0 (free)."""
DEPOSIT_MIN_FLOOR_FEN = 1000
"""R-CARD-09: a required deposit is at least 10 yuan."""
CREDIT_LIMIT_MAX_FEN = 200_000
"""R-CARD-10: at most 2000 yuan outstanding."""

_YUAN = re.compile(r"^\s*([0-9]{1,7})(?:\.([0-9]{1,2}))?\s*$")


@dataclass(frozen=True)
class CardSettings:
    """The settings of one hospital that an administrator edits. Money in fen."""

    physical_card_fee_fen: int
    deposit_required: bool
    deposit_min_fen: int
    credit_enabled: bool
    credit_limit_fen: int
    requires_kiosk_activation: bool
    foreigner_insurance: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def violations(settings: CardSettings) -> list[MedCardError]:
    """Every rule the settings break, in form order; empty when they may be saved."""
    found: list[MedCardError] = []
    fee = settings.physical_card_fee_fen
    if fee != 0 and not PHYSICAL_CARD_FEE_MIN_FEN <= fee <= PHYSICAL_CARD_FEE_MAX_FEN:
        found.append(PhysicalCardFeeOutOfRange(field="physical_card_fee_fen"))
    if settings.deposit_required and settings.deposit_min_fen < DEPOSIT_MIN_FLOOR_FEN:
        found.append(DepositMinimumTooLow(field="deposit_min_fen"))
    if not 0 <= settings.credit_limit_fen <= CREDIT_LIMIT_MAX_FEN:
        found.append(CreditLimitOutOfRange(field="credit_limit_fen"))
    elif settings.credit_enabled and settings.credit_limit_fen == 0:
        found.append(CreditLimitRequired(field="credit_limit_fen"))
    return found


def changes(before: CardSettings, after: CardSettings) -> tuple[dict[str, Any], dict[str, Any]]:
    """The fields that differ, as (before, after) dictionaries for the audit row."""
    old, new = before.as_dict(), after.as_dict()
    changed = [name for name in new if old[name] != new[name]]
    return {name: old[name] for name in changed}, {name: new[name] for name in changed}


def parse_yuan(text: str) -> int | None:
    """``"12.5"`` → ``1250`` fen; None when the text is not a plain yuan amount (no float)."""
    match = _YUAN.match(text)
    if match is None:
        return None
    whole, cents = match.group(1), (match.group(2) or "").ljust(2, "0")
    return int(whole) * 100 + int(cents)
