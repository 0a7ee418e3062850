"""Code 128 barcodes (一维码) for the payment code, as inline SVG.

segno draws QR codes only; cashier scanners that read 1-D codes need the 18 digits as a Code 128
barcode. python-barcode does the encoding (it picks code set C for an all-digit payload, two
digits per symbol, so the 18-digit code is 9 data symbols wide); the SVG is drawn here in user
units with a viewBox, so the page can stretch it to the screen width.
"""

from __future__ import annotations

import re

from barcode import Code128

QUIET_ZONE = 10
"""Light modules each side (Code 128 asks for at least 10)."""
HEIGHT = 50


def modules(text: str) -> str:
    """The bar pattern (``1`` = dark module) that :func:`svg` draws."""
    return str(Code128(text).build()[0])


def svg(text: str, *, label: str) -> str:
    """An inline SVG of ``text`` as Code 128, one rect per bar, without the human-readable line
    (the page prints the grouped digits itself), labelled for screen readers."""
    pattern = modules(text)
    width = len(pattern) + 2 * QUIET_ZONE
    bars = "".join(
        f'<rect x="{QUIET_ZONE + run.start()}" y="0" width="{len(run.group())}" height="{HEIGHT}"/>'
        for run in re.finditer("1+", pattern)
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{label}" viewBox="0 0 {width} {HEIGHT}" '
        f'preserveAspectRatio="none" shape-rendering="crispEdges">'
        f'<rect width="{width}" height="{HEIGHT}" fill="#fff"/><g fill="#000">{bars}</g></svg>'
    )
