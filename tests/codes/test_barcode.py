"""The payment code as a Code 128 barcode (R-SEC-02: numeric, scannable as QR and barcode)."""

from __future__ import annotations

from medcard.kit import barcode

CODE = "290123456789012345"


def test_r_sec_02_eighteen_digits_encode_in_code_set_c() -> None:
    """Code set C packs two digits per 11-module symbol: start + 9 pairs + checksum = 11
    symbols, plus the 13-module stop = 134 modules (code set B would need 233)."""
    pattern = barcode.modules(CODE)
    assert len(pattern) == 11 * 11 + 13
    assert pattern.startswith("11010011100")  # START C
    assert pattern.endswith("1100011101011")  # STOP


def test_r_sec_02_barcode_svg_draws_every_bar_and_has_a_label() -> None:
    svg = barcode.svg(CODE, label="付款码条形码")
    assert svg.startswith("<svg ") and 'aria-label="付款码条形码"' in svg
    dark_runs = [run for run in barcode.modules(CODE).split("0") if run]
    assert svg.count("<rect") == len(dark_runs) + 1  # one per bar, plus the white background
    assert 'viewBox="0 0 154 50"' in svg  # 134 modules + two quiet zones of 10


def test_different_codes_draw_different_bars() -> None:
    assert barcode.modules(CODE) != barcode.modules("290123456789012346")
