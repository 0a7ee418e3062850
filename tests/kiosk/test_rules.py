"""Pure kiosk rules, table-driven (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from medcard.card.rules import luhn_valid
from medcard.kiosk import rules


@pytest.mark.parametrize(
    ("status", "purpose", "code"),
    [
        ("pending_activation", "scan", None),
        ("pending_activation", "activate", None),
        ("pending_activation", "issue", "CARD_PENDING_ACTIVATION"),
        ("pending_activation", "service", "CARD_PENDING_ACTIVATION"),
        ("active", "scan", None),
        ("active", "issue", None),
        ("active", "service", None),
        ("active", "activate", "CARD_ALREADY_ACTIVE"),
    ],
)
def test_r_id_06_card_state_decides_what_the_kiosk_may_do(
    status: str, purpose: rules.Purpose, code: str | None
) -> None:
    refusal = rules.status_refusal(status, purpose)
    assert (refusal.code if refusal else None) == code


@pytest.mark.parametrize(("fee_fen", "expected"), [(0, "waived"), (500, "unpaid"), (2000, "unpaid")])
def test_r_card_08_fee_status_follows_the_fee(fee_fen: int, expected: str) -> None:
    assert rules.fee_status(fee_fen) == expected


@pytest.mark.parametrize(
    ("has_issued_card", "reason", "code"),
    [
        (False, None, None),
        (True, None, "PHYSICAL_CARD_REISSUE_REASON_REQUIRED"),
        (True, "", "PHYSICAL_CARD_REISSUE_REASON_REQUIRED"),
        (True, "lost", None),
    ],
)
def test_r_card_08_replacing_a_physical_card_needs_a_reason(
    has_issued_card: bool, reason: str | None, code: str | None
) -> None:
    refusal = rules.reissue_refusal(has_issued_card=has_issued_card, reason=reason)
    assert (refusal.code if refusal else None) == code
    if refusal:
        assert refusal.field == "reason"


def test_r_card_08_serial_is_dated_and_checksummed() -> None:
    serial = rules.serial(day=date(2026, 11, 23), random_digits="01234567")
    assert serial.startswith("PC26112301234567") and len(serial) == 17
    assert luhn_valid(serial[2:])
    typo = serial[:-2] + str((int(serial[-2]) + 1) % 10) + serial[-1]
    assert not luhn_valid(typo[2:])


@pytest.mark.parametrize("digits", ["1234567", "123456789", "1234567x"])
def test_r_card_08_serial_refuses_wrong_random_part(digits: str) -> None:
    with pytest.raises(ValueError, match="eight random digits"):
        rules.serial(day=date(2026, 1, 1), random_digits=digits)


@pytest.mark.parametrize(
    ("on_card", "on_reader", "matches"),
    [
        ("11010519491231002X", "11010519491231002X", True),
        ("11010519491231002X", "11010519491231002x", True),
        ("11010519491231002X", " 110105 19491231 002X ", True),
        ("11010519491231002X", "110105194912310021", False),
        ("11010519491231002X", "", False),
        ("", "", False),
    ],
)
def test_r_id_06_reader_document_must_be_the_card_holders(on_card: str, on_reader: str, matches: bool) -> None:
    assert rules.document_matches(on_card, on_reader) is matches


def test_r_card_11_three_services_need_the_physical_card() -> None:
    assert set(rules.SERVICES) == {"print_records", "special_exam_registration", "print_insurance_fee_list"}
