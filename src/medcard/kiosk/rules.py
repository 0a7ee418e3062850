"""Pure kiosk rules: which card states allow what, physical-card fees and serials,
matching the ID card on the reader, the services that need the physical card.
No session, no clock."""

from __future__ import annotations

from datetime import date
from typing import Literal, get_args

from medcard.card.rules import PHYSICAL_CARD_SERVICES, luhn_check_digit
from medcard.errors import MedCardError
from medcard.kiosk.errors import CardAlreadyActive, CardPendingActivation, ReissueReasonRequired

Purpose = Literal["scan", "issue", "activate", "service"]
ReissueReason = Literal["lost", "damaged", "details_changed", "other"]
"""Why a physical card is replaced (遗失，损坏，信息变更，其他)."""
REISSUE_REASONS: tuple[str, ...] = get_args(ReissueReason)
SERVICES = PHYSICAL_CARD_SERVICES
"""R-CARD-11: the kiosk services that still need the physical card, slug → (zh, en)."""


def status_refusal(status: str, purpose: Purpose) -> MedCardError | None:
    """The refusal for a card in ``status`` at the kiosk, or None when ``purpose`` may go on.

    Frozen and cancelled cards never get this far (the display code is refused). A card
    waiting for in-person activation (R-ID-06) may be scanned and activated, nothing else;
    an active card needs no activation.
    """
    if status == "pending_activation" and purpose in ("issue", "service"):
        return CardPendingActivation()
    if status == "active" and purpose == "activate":
        return CardAlreadyActive()
    return None


def fee_status(fee_fen: int) -> str:
    """R-CARD-08: a free card is ``waived``; otherwise ``unpaid`` until settlement collects it."""
    return "waived" if fee_fen == 0 else "unpaid"


def reissue_refusal(*, has_issued_card: bool, reason: str | None) -> MedCardError | None:
    """R-CARD-08: a second physical card replaces the first and needs a reason."""
    if has_issued_card and not reason:
        return ReissueReasonRequired(field="reason")
    return None


def serial(*, day: date, random_digits: str) -> str:
    """Physical card serial ``PC`` + yymmdd + 8 random digits + Luhn digit (17 characters)."""
    if len(random_digits) != 8 or not random_digits.isdigit():
        raise ValueError("eight random digits expected")
    body = f"{day:%y%m%d}{random_digits}"
    return f"PC{body}{luhn_check_digit(body)}"


def normalize_document(number: str) -> str:
    """Card readers and keyboards differ in spaces and the case of the final ``x``."""
    return "".join(number.split()).upper()


def document_matches(on_card: str, on_reader: str) -> bool:
    """R-ID-06: the original ID card read at the kiosk is the card holder's."""
    return normalize_document(on_card) == normalize_document(on_reader) != ""
