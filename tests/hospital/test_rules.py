"""Pure rules of a hospital's card settings (R-CARD-08, R-CARD-09, R-CARD-10), table-driven."""

from __future__ import annotations

from dataclasses import replace

import pytest

from medcard.hospital import rules

VALID = rules.CardSettings(
    physical_card_fee_fen=1000,
    deposit_required=False,
    deposit_min_fen=1000,
    credit_enabled=True,
    credit_limit_fen=200_000,
    requires_kiosk_activation=False,
    foreigner_insurance=False,
)


def codes(settings: rules.CardSettings) -> list[tuple[str, str | None]]:
    return [(error.code, error.field) for error in rules.violations(settings)]


@pytest.mark.parametrize(
    ("fee_fen", "valid"), [(0, True), (1, False), (499, False), (500, True), (2000, True), (2001, False), (-500, False)]
)
def test_r_card_08_physical_card_fee_is_free_or_5_to_20_yuan(fee_fen: int, valid: bool) -> None:
    found = codes(replace(VALID, physical_card_fee_fen=fee_fen))
    assert found == ([] if valid else [("PHYSICAL_CARD_FEE_OUT_OF_RANGE", "physical_card_fee_fen")])


@pytest.mark.parametrize(
    ("required", "minimum", "valid"),
    [(True, 1000, True), (True, 999, False), (True, 0, False), (True, 50_000, True), (False, 0, True)],
)
def test_r_card_09_required_deposit_is_at_least_10_yuan(required: bool, minimum: int, valid: bool) -> None:
    found = codes(replace(VALID, deposit_required=required, deposit_min_fen=minimum))
    assert found == ([] if valid else [("DEPOSIT_MINIMUM_TOO_LOW", "deposit_min_fen")])


@pytest.mark.parametrize(
    ("enabled", "limit", "code"),
    [
        (True, 200_000, None),
        (True, 1, None),
        (True, 200_001, "CREDIT_LIMIT_OUT_OF_RANGE"),
        (True, -1, "CREDIT_LIMIT_OUT_OF_RANGE"),
        (True, 0, "CREDIT_LIMIT_REQUIRED"),
        (False, 0, None),
        (False, 200_001, "CREDIT_LIMIT_OUT_OF_RANGE"),
    ],
)
def test_r_card_10_credit_limit_is_at_most_2000_yuan(enabled: bool, limit: int, code: str | None) -> None:
    found = codes(replace(VALID, credit_enabled=enabled, credit_limit_fen=limit))
    assert found == ([] if code is None else [(code, "credit_limit_fen")])


def test_r_card_08_every_broken_rule_is_reported_in_form_order() -> None:
    broken = replace(VALID, physical_card_fee_fen=300, deposit_required=True, deposit_min_fen=5, credit_limit_fen=10**6)
    assert [field for _, field in codes(broken)] == ["physical_card_fee_fen", "deposit_min_fen", "credit_limit_fen"]


def test_changes_list_only_the_fields_that_differ() -> None:
    after = replace(VALID, physical_card_fee_fen=500, requires_kiosk_activation=True)
    assert rules.changes(VALID, after) == (
        {"physical_card_fee_fen": 1000, "requires_kiosk_activation": False},
        {"physical_card_fee_fen": 500, "requires_kiosk_activation": True},
    )
    assert rules.changes(VALID, VALID) == ({}, {})


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("10", 1000),
        ("12.5", 1250),
        ("12.50", 1250),
        (" 0 ", 0),
        ("0.01", 1),
        ("2000.00", 200_000),
        ("", None),
        ("abc", None),
        ("-5", None),
        ("1.234", None),
        ("1e3", None),
        ("12,5", None),
        ("１０", None),
        ("12345678", None),
    ],
)
def test_parse_yuan_reads_plain_amounts_only(text: str, fen: int | None) -> None:
    assert rules.parse_yuan(text) == fen
