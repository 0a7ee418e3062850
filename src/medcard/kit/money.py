"""Money is integer fen (分). Formatting only; arithmetic stays in ``int``."""

from __future__ import annotations


def format_yuan(fen: int) -> str:
    """``1234`` → ``"12.34"`` (sign kept, no float)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"


def yuan_text(fen: int) -> str:
    """Fen as the yuan string outside systems exchange: ``1234`` → ``"12.34"``."""
    return format_yuan(fen)


def fen_from_yuan(text: str | int | float) -> int:
    """A yuan amount from an outside message (``"12.34"``, ``12.34``, ``12``) as fen; refuses
    fractions of a fen instead of rounding them away."""
    from decimal import Decimal, InvalidOperation

    try:
        amount = Decimal(str(text)) * 100
    except InvalidOperation as error:
        raise ValueError(f"not a yuan amount: {text!r}") from error
    if amount != amount.to_integral_value():
        raise ValueError(f"amount has fractions of a fen: {text!r}")
    return int(amount)
