"""Pure card rules: the 18 fields (R-CARD-02), card numbers (R-CARD-06), scope (R-CARD-05),
physical-card services (R-CARD-11). No database."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medcard.card import rules
from tests.card.conftest import complete_form
from tests.factories import resident_id

TODAY = date(2026, 5, 20)
IDENTITY = {
    "name": "张三",
    "gender": "M",
    "birth_date": "1990-03-07",
    "document_type": "resident_id",
    "document_number": resident_id(birth=date(1990, 3, 7), sequence=12),
    "nationality": "CHN",
}


def _problems(**overrides: str) -> dict[str, str]:
    _form, problems = rules.validate_form({**IDENTITY, **complete_form(**overrides)}, today=TODAY)
    return {p.field: p.reason_en for p in problems}


def test_r_card_02_form_has_18_basic_fields_and_two_optional() -> None:
    assert len(rules.BASIC_FIELDS) == 18
    assert set(rules.OPTIONAL_FIELDS) == {"allergy_history", "blood_type"}
    assert _problems() == {}


def test_r_card_02_the_56_official_ethnic_groups() -> None:
    assert len(rules.ETHNICITIES) == 56
    assert len({e.name_zh for e in rules.ETHNICITIES}) == 56
    assert rules.ETHNICITY_BY_CODE["01"].name_zh == "汉族"
    assert rules.ETHNICITY_BY_CODE["56"].name_zh == "基诺族"


@pytest.mark.parametrize(
    ("text", "code"), [("汉族", "01"), ("汉", "01"), ("01", "01"), ("uygur", "05"), ("基诺族", "56")]
)
def test_r_card_02_ethnicity_accepts_name_code_or_romanisation(text: str, code: str) -> None:
    assert rules.normalize_ethnicity(text) == code


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("ethnicity", "火星族", "choose one of the 56 ethnic groups"),
        ("phone", "1381234567", "enter an 11-digit mainland mobile number"),
        ("phone", "23812345678", "enter an 11-digit mainland mobile number"),
        ("emergency_phone", "12345", "enter an 11-digit mobile or a landline with area code"),
        ("region_code", "990101", "a 6-digit GB/T 2260 code, e.g. 110101"),
        ("postal_code", "1000", "a 6-digit postal code"),
        ("occupation", "astronaut", "choose one of the listed values"),
        ("marital_status", "complicated", "choose one of the listed values"),
        ("blood_type", "C+", "choose one of the listed values"),
        ("address", "北京", "give the full address down to the house number"),
    ],
)
def test_r_card_02_bad_field_is_named_with_a_reason(field: str, value: str, reason: str) -> None:
    assert _problems(**{field: value}) == {field: reason}


def test_r_card_02_future_birth_date_is_refused() -> None:
    _value, problem = rules.clean_field("birth_date", "2026-05-21", today=TODAY)
    assert problem is not None and problem.reason_en == "cannot be in the future"


def test_r_card_02_missing_fields_are_each_named() -> None:
    problems = _problems(address="", emergency_name="", ethnicity="")
    assert problems == {"ethnicity": "required", "address": "required", "emergency_name": "required"}


def test_r_card_02_employer_required_only_for_employed_people() -> None:
    assert _problems(employer="") == {"employer": "required for employed people"}
    assert _problems(employer="", occupation="retired") == {}


def test_r_card_02_allergies_and_blood_type_are_optional_but_checked() -> None:
    assert _problems(allergy_history="", blood_type="") == {}
    form, problems = rules.validate_form({**IDENTITY, **complete_form(blood_type="ab-")}, today=TODAY)
    assert problems == [] and form["blood_type"] == "AB-"


def test_r_card_02_emergency_contact_cannot_be_the_patient_himself() -> None:
    assert _problems(emergency_phone="13912345678") == {"emergency_phone": "must differ from the patient's own number"}


def test_r_card_02_resident_id_with_wrong_check_digit_is_refused() -> None:
    good = IDENTITY["document_number"]
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    _value, problem = rules.clean_field("document_number", bad, today=TODAY, document_type="resident_id")
    assert problem is not None and problem.reason_en == "the check digit is wrong"
    _value, problem = rules.clean_field("document_number", good + "1", today=TODAY, document_type="resident_id")
    assert problem is not None


def test_r_card_02_identity_fields_must_match_the_verified_person() -> None:
    facts = rules.IdentityFacts(
        name="张三",
        gender="M",
        birth_date=date(1990, 3, 7),
        document_type="resident_id",
        document_number=IDENTITY["document_number"],
        nationality="CHN",
    )
    assert rules.identity_mismatches(IDENTITY, facts) == []
    assert rules.identity_mismatches({**IDENTITY, "name": "李四", "gender": "F"}, facts) == ["name", "gender"]


def test_r_card_06_generated_number_has_16_digits_and_valid_check_digit() -> None:
    number = rules.make_card_number("110000", 12345)
    assert number.startswith("110000000012345") and len(number) == 16
    assert rules.card_number_valid(number)
    assert rules.card_number_valid(rules.format_card_number(number))


@given(serial=st.integers(0, 10**9 - 1), position=st.integers(0, 15), delta=st.integers(1, 9))
def test_r_card_06_any_single_mistyped_digit_is_refused(serial: int, position: int, delta: int) -> None:
    number = rules.make_card_number("440300", serial)
    wrong = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    assert not rules.card_number_valid(wrong)


@given(serial=st.integers(0, 10**9 - 1), position=st.integers(0, 14))
def test_r_card_06_swapped_neighbours_are_refused_except_09(serial: int, position: int) -> None:
    number = rules.make_card_number("310000", serial)
    a, b = number[position], number[position + 1]
    if a == b or {a, b} == {"0", "9"}:
        return  # Luhn's one documented blind spot
    swapped = number[:position] + b + a + number[position + 2 :]
    assert not rules.card_number_valid(swapped)


def test_r_card_06_wrong_length_or_letters_are_refused() -> None:
    number = rules.make_card_number("110000", 1)
    assert not rules.card_number_valid(number[:-1])
    assert not rules.card_number_valid(number + "0")
    assert not rules.card_number_valid("ABCD" + number[4:])


def test_r_card_05_scope_is_the_hospital_or_the_region() -> None:
    assert rules.card_scope(hospital_code="H1", region_code="110000", region_card_scope="hospital") == "H:H1"
    assert rules.card_scope(hospital_code="H1", region_code="110000", region_card_scope="region") == "R:110000"


def test_r_card_11_services_that_still_need_the_physical_card() -> None:
    assert rules.needs_physical_card("print_records")
    assert rules.needs_physical_card("special_exam_registration")
    assert rules.needs_physical_card("print_insurance_fee_list")
    assert not rules.needs_physical_card("outpatient_payment")
