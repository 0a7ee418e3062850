"""R-SEC-08: the session's log scan finds what it must (planted lines), and it really sees the
application's structlog output and library logs."""

from __future__ import annotations

import logging
from pathlib import Path

import structlog

from tests.identity.helpers import with_check
from tests.logscan import CAPTURE, scan, typed_pins

ID_NUMBER = with_check("11010519880615123")
BAD_CHECK = ID_NUMBER[:17] + ("0" if ID_NUMBER[17] != "0" else "1")
KEY = "data-key-secret-0123456789abcdef"


def _kinds(*lines: str, pins: tuple[str, ...] = ("000000",)) -> list[str]:
    return [leak.kind for leak in scan(lines, pins=pins, keys=[KEY])]


def test_r_sec_08_log_scan_catches_each_forbidden_value() -> None:
    """R-SEC-08: a planted ID number, phone, payment code (plain and grouped), typed PIN or key
    is reported with the offending line."""
    assert _kinds(f"verify document={ID_NUMBER} ok") == ["ID number"]
    assert _kinds("sms sent to 13912345678") == ["phone number"]
    assert _kinds("code=290123456789012345 redeemed") == ["payment code"]
    assert _kinds("code 2901 2345 6789 0123 45 shown") == ["payment code"]
    assert _kinds('pos body {"pin": "000000"}') == ["payment password"]
    assert _kinds(f"settings secret={KEY}") == ["key"]
    leak = scan([f"GET /cards?phone=13912345678 {ID_NUMBER}"], pins=(), keys=())
    assert [str(item) for item in leak] == [
        f"[ID number] GET /cards?phone=13912345678 {ID_NUMBER}",
        f"[phone number] GET /cards?phone=13912345678 {ID_NUMBER}",
    ]


def test_r_sec_08_log_scan_passes_masked_values_and_lookalikes() -> None:
    """R-SEC-08: masked values, a wrong check character, ids and hashes are not findings."""
    assert (
        _kinds(
            "document=1101**********1234 phone=139****5678",
            f"number {BAD_CHECK} has a wrong check character",
            "card MC1100012345678901234 row 9f1c2d3e-13912345678a hash 29012345678901234567abcdef",
            "amount_fen=1357900 status=200 took 1357901 ns",
        )
        == []
    )


def test_r_sec_08_typed_pins_are_read_from_the_test_sources() -> None:
    """R-SEC-08: the PINs the suite types are what the scan looks for (not every 6-digit number)."""
    pins = typed_pins(Path(__file__).parent)
    assert {"135790", "246802"} <= pins
    assert "110105" not in pins  # a region code typed in identity tests, not a PIN
    assert "000000" not in pins  # this module's own planted values are not read


def test_r_sec_08_the_session_capture_sees_structlog_and_library_lines() -> None:
    """R-SEC-08: the handler the session scan reads receives the app's structlog lines (routed
    through logging) and other libraries' lines; a planted phone in one would fail the run."""
    with CAPTURE.planted() as lines:
        structlog.get_logger("medcard.test").info("planted_line", phone="13912345678")
        logging.getLogger("some.library").warning("library line %s", ID_NUMBER)
    assert any("planted_line" in line and "13912345678" in line for line in lines)
    assert any("some.library" in line for line in lines)
    assert {leak.kind for leak in scan(lines)} == {"phone number", "ID number"}


def test_r_sec_08_access_log_lines_drop_query_strings() -> None:
    """R-SEC-08: a query string (a search by phone or ID number) never reaches the access log."""
    with CAPTURE.planted() as lines:
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", f"/api/v1/staff/cards?q={ID_NUMBER}", "1.1", 200
        )
    assert len(lines) == 1 and "/api/v1/staff/cards?…" in lines[0]
    assert scan(lines) == []
