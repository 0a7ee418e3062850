"""Pure document rules (R-ID-01, R-ID-07, R-ID-08): table-driven, no database."""

from __future__ import annotations

from datetime import date

import pytest

from medcard.errors import MedCardError
from medcard.identity import rules
from tests.identity.helpers import permanent_resident_id, resident, with_check

TODAY = date(2026, 11, 23)
VALID = resident("110105", date(1988, 6, 15), 123)  # sequence 123: odd → male


def _wrong_check(body: str) -> str:
    right = with_check(body)[17]
    return body + ("1" if right != "1" else "2")


def _refusal(call, *args, **kwargs) -> MedCardError:  # type: ignore[no-untyped-def]
    with pytest.raises(MedCardError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_r_id_01_valid_resident_id_gives_birth_date_and_gender() -> None:
    document = rules.parse_resident_id(VALID, today=TODAY)
    assert (document.birth_date, document.gender, document.nationality) == (date(1988, 6, 15), "M", "CHN")


def test_r_id_01_lower_case_x_is_accepted_as_upper_case() -> None:
    number = next(n for n in (resident(sequence=s) for s in range(1000)) if n.endswith("X"))
    assert rules.parse_resident_id(number.lower(), today=TODAY).document_number == number


def test_r_id_01_spaces_and_full_width_digits_are_normalised() -> None:
    spaced = " ".join([VALID[:6], VALID[6:14], VALID[14:]])
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in VALID)
    assert rules.parse_resident_id(spaced, today=TODAY).document_number == VALID
    assert rules.parse_resident_id(full_width, today=TODAY).document_number == VALID


BAD_RESIDENT_IDS = [
    # (case, number, code, field)
    ("15-char old number", VALID[:6] + VALID[8:17], "DOCUMENT_NUMBER_LENGTH", "document_number"),
    ("19 characters", VALID + "1", "DOCUMENT_NUMBER_LENGTH", "document_number"),
    ("17 characters", VALID[:17], "DOCUMENT_NUMBER_LENGTH", "document_number"),
    ("letter inside", VALID[:5] + "A" + VALID[6:], "DOCUMENT_NUMBER_FORMAT", "document_number"),
    ("wrong check digit", _wrong_check(VALID[:17]), "DOCUMENT_CHECKSUM_MISMATCH", "document_number"),
    (
        "swapped digits",
        VALID[:14] + VALID[15] + VALID[14] + VALID[16:],
        "DOCUMENT_CHECKSUM_MISMATCH",
        "document_number",
    ),
    ("future birth date", with_check("11010520990101123"), "DOCUMENT_BIRTH_DATE_IN_FUTURE", "document_number"),
    ("tomorrow", with_check("11010520261124123"), "DOCUMENT_BIRTH_DATE_IN_FUTURE", "document_number"),
    ("13th month", with_check("11010519881315123"), "DOCUMENT_BIRTH_DATE_INVALID", "document_number"),
    ("30 February", with_check("11010520000230123"), "DOCUMENT_BIRTH_DATE_INVALID", "document_number"),
    ("before 1900", with_check("11010518991231123"), "DOCUMENT_BIRTH_DATE_INVALID", "document_number"),
    ("unknown region", with_check("99999919880615123"), "DOCUMENT_TYPE_MISMATCH", "document_type"),
    ("region 000000", with_check("00000019880615123"), "DOCUMENT_REGION_UNKNOWN", "document_number"),
    ("region 710000", with_check("71000019880615123"), "DOCUMENT_REGION_UNKNOWN", "document_number"),
    ("HK permit as resident ID", with_check("81000019880615123"), "DOCUMENT_TYPE_MISMATCH", "document_type"),
]


@pytest.mark.parametrize(("case", "number", "code", "field"), BAD_RESIDENT_IDS, ids=[c[0] for c in BAD_RESIDENT_IDS])
def test_r_id_01_invalid_resident_id_is_refused_naming_the_field(case: str, number: str, code: str, field: str) -> None:
    error = _refusal(rules.parse_resident_id, number, today=TODAY)
    assert (error.code, error.field, error.status) == (code, field, 400)
    assert error.text("zh") and error.text("en") and error.hint_text("zh")


def test_r_id_01_birth_date_today_is_accepted() -> None:
    assert rules.parse_resident_id(with_check("11010520261123123"), today=TODAY).birth_date == TODAY


def test_r_id_01_historical_region_codes_are_accepted() -> None:
    # 110228 was Miyun County until 2015 (now 110118); people born there keep the old code.
    assert rules.parse_resident_id(with_check("11022819700101123"), today=TODAY).document_number.startswith("110228")


@pytest.mark.parametrize(("prefix", "place"), [("810000", "HK"), ("820000", "Macau"), ("830000", "Taiwan")])
def test_r_id_01_hmt_permits_are_accepted(prefix: str, place: str) -> None:
    document = rules.parse_hmt_permit(with_check(f"{prefix}19900307002"), today=TODAY)
    assert (document.document_type, document.birth_date, document.gender) == ("hmt_permit", date(1990, 3, 7), "F")


BAD_HMT = [
    ("mainland prefix", with_check("11010519900307002"), "DOCUMENT_NUMBER_FORMAT"),
    ("840000 prefix", with_check("84000019900307002"), "DOCUMENT_NUMBER_FORMAT"),
    ("checksum", _wrong_check("81000019900307002"), "DOCUMENT_CHECKSUM_MISMATCH"),
    ("future birth", with_check("82000020300307002"), "DOCUMENT_BIRTH_DATE_IN_FUTURE"),
    ("length", "8100001990030700", "DOCUMENT_NUMBER_LENGTH"),
]


@pytest.mark.parametrize(("case", "number", "code"), BAD_HMT, ids=[c[0] for c in BAD_HMT])
def test_r_id_01_invalid_hmt_permit_is_refused(case: str, number: str, code: str) -> None:
    error = _refusal(rules.parse_hmt_permit, number, today=TODAY)
    assert (error.code, error.field) == (code, "document_number")


def test_r_id_01_foreigner_with_2023_permanent_resident_id() -> None:
    permit = permanent_resident_id("USA", date(1985, 2, 1))
    document = rules.parse_foreigner("e1234567", nationality="usa", residence_permit_number=permit, today=TODAY)
    assert (document.document_type, document.document_number, document.nationality) == (
        "foreign_passport",
        "E1234567",
        "USA",
    )
    assert (document.residence_permit_number, document.birth_date, document.gender) == (permit, date(1985, 2, 1), "M")


def test_r_id_01_foreigner_with_older_15_char_permanent_residence_card() -> None:
    document = rules.parse_foreigner(
        "X9876543", nationality="GBR", residence_permit_number="GBR110008150012", today=TODAY
    )
    assert (document.birth_date, document.gender, document.residence_permit_number) == (
        date(2000, 8, 15),
        "U",
        "GBR110008150012",
    )


def test_r_id_01_older_card_century_is_the_latest_not_in_the_future() -> None:
    document = rules.parse_foreigner(
        "X9876543", nationality="JPN", residence_permit_number="JPN117012310012", today=TODAY
    )
    assert document.birth_date == date(1970, 12, 31)


BAD_FOREIGNERS = [
    # (case, passport, nationality, permit, code, field)
    ("passport too short", "E123", "USA", permanent_resident_id("USA"), "PASSPORT_NUMBER_INVALID", "document_number"),
    (
        "passport symbols",
        "E12-34567",
        "USA",
        permanent_resident_id("USA"),
        "PASSPORT_NUMBER_INVALID",
        "document_number",
    ),
    ("passport 18 chars", "E" * 18, "USA", permanent_resident_id("USA"), "PASSPORT_NUMBER_INVALID", "document_number"),
    ("no nationality", "E1234567", "", permanent_resident_id("USA"), "FIELD_REQUIRED", "nationality"),
    ("unknown nationality", "E1234567", "XYZ", permanent_resident_id("USA"), "NATIONALITY_INVALID", "nationality"),
    ("two-letter code", "E1234567", "US", permanent_resident_id("USA"), "NATIONALITY_INVALID", "nationality"),
    ("Chinese citizen", "E1234567", "CHN", permanent_resident_id("USA"), "NATIONALITY_NOT_FOREIGN", "nationality"),
    ("no permit", "E1234567", "USA", "", "FIELD_REQUIRED", "residence_permit_number"),
    (
        "permit of another country",
        "E1234567",
        "USA",
        permanent_resident_id("CAN"),
        "RESIDENCE_PERMIT_NATIONALITY_MISMATCH",
        "residence_permit_number",
    ),
    (
        "permit checksum",
        "E1234567",
        "USA",
        _wrong_check(permanent_resident_id("USA")[:17]),
        "DOCUMENT_CHECKSUM_MISMATCH",
        "residence_permit_number",
    ),
    (
        "permit not starting with 9",
        "E1234567",
        "USA",
        with_check("81184019850201011"),
        "DOCUMENT_NUMBER_FORMAT",
        "residence_permit_number",
    ),
    (
        "permit birth in future",
        "E1234567",
        "USA",
        with_check("91184020300201011"),
        "DOCUMENT_BIRTH_DATE_IN_FUTURE",
        "residence_permit_number",
    ),
    ("permit 16 chars", "E1234567", "USA", "9118402030020101", "DOCUMENT_NUMBER_LENGTH", "residence_permit_number"),
    (
        "old card other country",
        "E1234567",
        "USA",
        "GBR110008150012",
        "RESIDENCE_PERMIT_NATIONALITY_MISMATCH",
        "residence_permit_number",
    ),
    (
        "old card bad province",
        "E1234567",
        "GBR",
        "GBR990008150012",
        "DOCUMENT_NUMBER_FORMAT",
        "residence_permit_number",
    ),
    (
        "old card bad date",
        "E1234567",
        "GBR",
        "GBR110013150012",
        "DOCUMENT_BIRTH_DATE_INVALID",
        "residence_permit_number",
    ),
]


@pytest.mark.parametrize(
    ("case", "passport", "nationality", "permit", "code", "field"), BAD_FOREIGNERS, ids=[c[0] for c in BAD_FOREIGNERS]
)
def test_r_id_01_invalid_foreigner_documents_are_refused(
    case: str, passport: str, nationality: str, permit: str, code: str, field: str
) -> None:
    error = _refusal(
        rules.parse_foreigner, passport, nationality=nationality, residence_permit_number=permit, today=TODAY
    )
    assert (error.code, error.field) == (code, field)


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(2012, 11, 23), date(2026, 11, 23), 14),
        (date(2012, 11, 24), date(2026, 11, 23), 13),
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
        (date(2026, 11, 23), date(2026, 11, 23), 0),
    ],
)
def test_r_id_07_age_in_full_years(birth: date, on: date, age: int) -> None:
    assert rules.age_on(birth, on) == age


def test_r_id_07_birth_certificate_number_mandatory_under_14() -> None:
    assert _refusal(rules.parse_birth_certificate_number, None, age=13).code == "BIRTH_CERTIFICATE_NUMBER_REQUIRED"
    assert rules.parse_birth_certificate_number(None, age=14) is None
    assert rules.parse_birth_certificate_number("p110123456", age=3) == "P110123456"


@pytest.mark.parametrize("number", ["110123456", "PP11012345", "P11012345", "P1101234567", "P11012345X"])
def test_r_id_07_birth_certificate_number_is_one_letter_and_nine_digits(number: str) -> None:
    error = _refusal(rules.parse_birth_certificate_number, number, age=3)
    assert (error.code, error.field) == ("BIRTH_CERTIFICATE_NUMBER_INVALID", "birth_certificate_number")


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("4111111111111111", True),
        ("6222020200112345671", False),
        ("79927398713", True),
        ("79927398710", False),
        ("6011000990139424", True),
    ],
)
def test_r_id_02_bank_card_luhn(number: str, valid: bool) -> None:
    assert rules.luhn_valid(number) is valid


@pytest.mark.parametrize("number", ["4111111111111112", "41111111111", "41111111111111111111", "4111-1111-1111-111a"])
def test_r_id_02_bank_card_number_refused(number: str) -> None:
    assert _refusal(rules.parse_bank_card_number, number).code == "BANK_CARD_NUMBER_INVALID"


def test_r_id_02_bank_card_number_with_spaces_is_normalised() -> None:
    assert rules.parse_bank_card_number("4111 1111 1111 1111") == "4111111111111111"


@pytest.mark.parametrize(("raw", "phone"), [("13800138000", "13800138000"), ("+86 138-0013-8000", "13800138000")])
def test_r_id_05_phone_numbers(raw: str, phone: str) -> None:
    assert rules.parse_phone(raw) == phone


@pytest.mark.parametrize("raw", ["12800138000", "1380013800", "138001380001", "abc"])
def test_r_id_05_bad_phone_numbers(raw: str) -> None:
    assert _refusal(rules.parse_phone, raw).code == "PHONE_INVALID"


@pytest.mark.parametrize(
    ("raw", "name"), [("张三", "张三"), (" 阿依古丽·买买提 ", "阿依古丽·买买提"), ("John  Smith", "John Smith")]
)
def test_r_id_01_names(raw: str, name: str) -> None:
    assert rules.parse_name(raw) == name


@pytest.mark.parametrize(("raw", "code"), [("张3", "NAME_INVALID"), ("<b>", "NAME_INVALID"), ("   ", "FIELD_REQUIRED")])
def test_r_id_01_bad_names(raw: str, code: str) -> None:
    error = _refusal(rules.parse_name, raw)
    assert (error.code, error.field) == (code, "name")


@pytest.mark.parametrize(
    ("document_type", "hospital_allows_foreigners", "available"),
    [
        ("resident_id", False, True),
        ("hmt_permit", False, True),
        ("foreign_passport", False, False),
        ("foreign_passport", True, True),
    ],
)
def test_r_id_08_insurance_settlement_for_foreigners_follows_the_hospital_flag(
    document_type: str, hospital_allows_foreigners: bool, available: bool
) -> None:
    assert rules.insurance_settlement_available(document_type, hospital_allows_foreigners) is available
