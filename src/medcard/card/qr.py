"""The display code (展示码，R-CARD-07 / R-SEC-01): a signed, versioned QR that proves
which card is shown. It identifies; it never pays.

Format ``MCQR1.<body>.<mac>``: body = base64url JSON ``{"c": card number, "v": qr version,
"i": issued-at epoch}``, mac = HMAC-SM3 under a key derived for this purpose only. A change
of personal data bumps ``Card.qr_version``, so every older code is refused at once.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass

import segno

from medcard.i18n import N_
from medcard.kit.crypto import derive_key, sign_token, verify_token

PREFIX = "MCQR1"


@dataclass(frozen=True)
class DisplayCode:
    """What a verified display code claims."""

    card_number: str
    version: int
    issued_at: int


def display_key(secret: str) -> bytes:
    return derive_key(secret, "display-code")


def issue(*, secret: str, card_number: str, version: int, issued_at: int | None = None) -> str:
    """The display-code text for a card at its current QR version."""
    payload = {"c": card_number, "v": version, "i": issued_at if issued_at is not None else int(time.time())}
    return sign_token(display_key(secret), PREFIX, payload)


def read(*, secret: str, text: str) -> DisplayCode | None:
    """The claims of a genuine display code, or None when forged, altered or not a display code.

    The caller still compares ``version`` with the card's current ``qr_version``.
    """
    payload = verify_token(display_key(secret), PREFIX, text)
    if payload is None:
        return None
    try:
        return DisplayCode(card_number=str(payload["c"]), version=int(payload["v"]), issued_at=int(payload["i"]))
    except (KeyError, TypeError, ValueError):
        return None


CARD_QR = N_("Health card QR")
"""The accessible name of the card's QR (translated by the page)."""


def svg(text: str, *, title: str, scale: int = 6) -> str:
    """An inline SVG of the QR (error correction M), with a title for screen readers. It keeps
    its natural size but carries a viewBox, so a page may scale it with CSS."""
    buffer = io.BytesIO()
    symbol = segno.make(text, error="m", micro=False)
    symbol.save(
        buffer,
        kind="svg",
        scale=scale,
        border=2,
        xmldecl=False,
        svgns=True,
        omitsize=True,
        title=title,
    )
    width, height = symbol.symbol_size(scale=scale, border=2)
    return buffer.getvalue().decode().replace("<svg ", f'<svg width="{width}" height="{height}" ', 1)
