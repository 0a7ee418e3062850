"""Pure rules of the three codes: shapes, validity window, verification-code claims."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

PAYMENT_CODE_PREFIX = "29"
PAYMENT_CODE_LENGTH = 18
PAYMENT_CODE_TTL = timedelta(seconds=60)
ISSUE_WINDOW = timedelta(minutes=1)
ISSUES_PER_WINDOW = 10
AUTHORISATION_TTL = timedelta(minutes=2)
PIN_FREE_LIMIT_FEN = 20_000
"""Amounts above 200 yuan need the payment password at the POS (小额免密)."""
DISPLAY_CODE_PREFIX = "MCQR1."


def normalise(text: str) -> str:
    """Scanners may add spaces or a newline; the printed code groups digits in fours."""
    return "".join(text.split())


def is_display_code(text: str) -> bool:
    return normalise(text).startswith(DISPLAY_CODE_PREFIX)


def is_payment_code_shape(text: str) -> bool:
    code = normalise(text)
    return len(code) == PAYMENT_CODE_LENGTH and code.isdigit() and code.startswith(PAYMENT_CODE_PREFIX)


def still_valid(expires_at: datetime, now: datetime) -> bool:
    """Valid strictly before the 60th second after issue: 59.999 s yes, 60.000 s no."""
    return now < expires_at


def grouped(code: str) -> str:
    """``290123456789012345`` → ``2901 2345 6789 0123 45`` for reading aloud."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


def issue_rate_exceeded(issued_in_window: int) -> bool:
    return issued_in_window >= ISSUES_PER_WINDOW


@dataclass(frozen=True)
class AuthorisationClaims:
    """What a verification code (核验码) binds: the consumed code, card, merchant, ceiling, expiry."""

    code_id: str
    card_number: str
    merchant_id: str
    ceiling_fen: int
    expires_epoch: int

    def as_payload(self) -> dict[str, str | int]:
        return {
            "i": self.code_id,
            "c": self.card_number,
            "m": self.merchant_id,
            "x": self.ceiling_fen,
            "e": self.expires_epoch,
        }

    @classmethod
    def from_payload(cls, payload: dict[str, object]) -> AuthorisationClaims | None:
        try:
            return cls(
                code_id=str(payload["i"]),
                card_number=str(payload["c"]),
                merchant_id=str(payload["m"]),
                ceiling_fen=int(str(payload["x"])),
                expires_epoch=int(str(payload["e"])),
            )
        except (KeyError, ValueError):
            return None


def card_pays_at(
    *,
    card_scope: str,
    card_hospital_id: uuid.UUID,
    merchant_hospital_id: uuid.UUID | None,
    merchant_region_code: str | None,
) -> bool:
    """R-CARD-05: a hospital-scoped card (``H:…``) pays only at its own hospital; a regional card
    (``R:<region>``) at every hospital of that region. Platform staff (no hospital) act everywhere."""
    if merchant_hospital_id is None or merchant_hospital_id == card_hospital_id:
        return True
    return (
        card_scope.startswith("R:") and merchant_region_code is not None and card_scope == f"R:{merchant_region_code}"
    )


CODE_STATES = ("live", "expired", "paid", "pending", "unpaid", "revoked")


def code_state(
    status: str, *, amount_fen: int | None, consumed_at: datetime | None, expires_at: datetime, now: datetime
) -> str:
    """What the patient's page shows of one code (R-SEC-02): ``live`` until used or expired;
    ``paid`` once a POS took the payment; ``pending`` while a scanned code waits for the payment
    password within its authorisation; ``unpaid`` when that window closed without a payment."""
    if status == "revoked":
        return "revoked"
    if status == "consumed":
        if amount_fen is not None:
            return "paid"
        if consumed_at is not None and now < consumed_at + AUTHORISATION_TTL:
            return "pending"
        return "unpaid"
    return "live" if still_valid(expires_at, now) else "expired"
