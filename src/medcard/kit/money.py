"""Money is integer fen (分). Formatting only; arithmetic stays in ``int``."""

from __future__ import annotations


def format_yuan(fen: int) -> str:
    """``1234`` → ``"12.34"`` (sign kept, no float)."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole}.{cents:02d}"
