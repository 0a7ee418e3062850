"""Pure security rules: PIN shape and lockout, limits, velocity. No session, no clock read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from medcard.i18n import N_, Msg
from medcard.security.errors import LimitExceeded, VelocityExceeded

PIN_PATTERN = re.compile(r"^[0-9]{6}$")
MAX_PIN_FAILURES = 5
PIN_LOCK = timedelta(hours=3)
FRESH_VERIFICATION = timedelta(minutes=10)
VELOCITY_WINDOW = timedelta(minutes=1)
VELOCITY_MAX_PAYMENTS = 5
WEAK_PINS = frozenset({"123456", "654321", "111111", "000000", "123123", "112233", "121212"})


def pin_shape_ok(pin: str) -> bool:
    """6 digits, not all the same, not a trivial sequence."""
    return bool(PIN_PATTERN.fullmatch(pin)) and pin not in WEAK_PINS and len(set(pin)) > 1


def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and now < locked_until


@dataclass(frozen=True)
class FailureOutcome:
    """The counter after one wrong PIN, and the lock it may start."""

    failures: int
    locked_until: datetime | None
    attempts_left: int


def after_wrong_pin(failures: int, now: datetime) -> FailureOutcome:
    """One more wrong attempt: the fifth in a row locks for three hours."""
    count = failures + 1
    if count >= MAX_PIN_FAILURES:
        return FailureOutcome(failures=count, locked_until=now + PIN_LOCK, attempts_left=0)
    return FailureOutcome(failures=count, locked_until=None, attempts_left=MAX_PIN_FAILURES - count)


def verification_is_fresh(finished_at: datetime | None, now: datetime, not_before: datetime | None) -> bool:
    """A passed verification counts for a reset within 10 minutes, and only once (after the last reset)."""
    if finished_at is None or now - finished_at > FRESH_VERIFICATION:
        return False
    return not_before is None or finished_at > not_before


@dataclass(frozen=True)
class LimitBreach:
    """Which limit a payment would break."""

    kind: str
    limit_fen: int


def limit_breach(
    amount_fen: int, *, spent_today_fen: int, per_transaction_fen: int, daily_fen: int
) -> LimitBreach | None:
    if amount_fen > per_transaction_fen:
        return LimitBreach("per_transaction", per_transaction_fen)
    if spent_today_fen + amount_fen > daily_fen:
        return LimitBreach("daily", daily_fen)
    return None


def velocity_exceeded(payments_in_window: int) -> bool:
    return payments_in_window >= VELOCITY_MAX_PAYMENTS


# Real-time risk monitoring (风控监控，R-SEC-06): which audit rows are risk signals, and of what kind.
RISK_KINDS: dict[str, Msg] = {
    "velocity": N_("Payment velocity exceeded"),
    "limit": N_("Payment limit exceeded"),
    "payment_refused": N_("Other refused payments"),
    "pin_wrong": N_("Wrong payment password"),
    "pin_locked": N_("Payment password locked"),
    "abnormal_login": N_("Abnormal login (step-up required)"),
    "login_refused": N_("Refused login"),
    "freeze": N_("Freeze / loss report"),
    "authenticator_clone": N_("Suspected cloned authenticator"),
}
RISK_ACTIONS = (
    "code.redeem_refused",
    "security.pin_wrong",
    "auth.login",
    "auth.login_refused",
    "security.freeze",
    "device.webauthn_clone_suspected",
)
MONITOR_RECENT = timedelta(minutes=15)
MONITOR_DAY = timedelta(hours=24)


def risk_kind(action: str, details: dict[str, object]) -> str | None:
    """The risk kind of one audit row, or None when the row is not a risk signal (a normal login)."""
    if action == "code.redeem_refused":
        refusal = details.get("code")
        if refusal == VelocityExceeded.code:
            return "velocity"
        return "limit" if refusal == LimitExceeded.code else "payment_refused"
    if action == "security.pin_wrong":
        return "pin_locked" if details.get("locked") else "pin_wrong"
    if action == "auth.login":
        return "abnormal_login" if details.get("step_up") else None
    return {
        "auth.login_refused": "login_refused",
        "security.freeze": "freeze",
        "device.webauthn_clone_suspected": "authenticator_clone",
    }.get(action)
