"""Pure policy rules over the shipped data: the city table (R-INS-03), prerequisites
(R-INS-01), zones (R-INS-06), the Shenzhen uplift (R-PAY-10), scheme parameters
(R-INS-04/05) and the working-day calendar."""

from __future__ import annotations

from datetime import date

import pytest

from medcard.policy import rules
from medcard.policy.service import library_calendar, shipped

REGIONS = shipped("regions.json")
SCHEMES = shipped("schemes.json")["schemes"]
ZONES = {key: rules.zone_members(zone) for key, zone in REGIONS["zones"].items()}


def region(code: str) -> rules.RegionPolicy:
    data = REGIONS["regions"]
    own = next((data[k] for k in rules.policy_keys(code) if k in data and k != rules.NATIONAL_DEFAULT), None)
    key = next((k for k in rules.policy_keys(code) if k in data), code)
    return rules.merge_region(key, own, data[rules.NATIONAL_DEFAULT])


def facts(**overrides: object) -> rules.BindingFacts:
    values: dict[str, object] = {
        "age": 30,
        "via_guardian": False,
        "document_type": "resident_id",
        "has_residence_permit": False,
        "client_version": "7.1.0",
        "has_phone": True,
    }
    values.update(overrides)
    return rules.BindingFacts(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "generation", "offline", "client", "alone_from", "hmt", "zone"),
    [
        ("110105", 2, False, "6.5.6", 16, "yes", "jing_jin_ji"),
        ("310104", 3, True, "7.0.3", 16, "partial", "yangtze_delta"),
        ("440106", 2, False, "6.5.6", 18, "no", None),
        ("510104", 2, False, "6.5.6", 18, "no", "in_province"),
        ("440305", 2, False, "6.5.6", 18, "no", None),
    ],
)
def test_r_ins_03_city_table_with_national_default_filling_gaps(
    code: str, generation: int, offline: bool, client: str, alone_from: int, hmt: str, zone: str | None
) -> None:
    policy = region(code)
    assert policy.supports_evoucher
    assert (policy.min_card_generation, policy.requires_offline_check, policy.min_client_version) == (
        generation,
        offline,
        client,
    )
    assert (policy.min_age_alone, policy.hmt_residents, policy.zone) == (alone_from, hmt, zone)


def test_r_ins_03_unlisted_city_falls_back_to_the_national_default() -> None:
    policy = region("650100")
    assert policy.code == "650100"
    assert not policy.supports_evoucher
    assert rules.prerequisite_failures(policy, facts()) == ["REGION_NOT_SUPPORTED"]


@pytest.mark.parametrize(
    ("code", "age", "via_guardian", "expected"),
    [
        ("110105", 15, False, ["MINOR_NEEDS_GUARDIAN"]),
        ("110105", 15, True, []),
        ("110105", 16, False, []),
        ("310104", 16, False, []),
        ("310104", 15, False, ["MINOR_NEEDS_GUARDIAN"]),
        ("440106", 17, False, ["MINOR_NEEDS_GUARDIAN"]),
        ("440106", 18, False, []),
        ("510104", 17, False, ["MINOR_NOT_ALLOWED"]),
        ("510104", 17, True, ["MINOR_NOT_ALLOWED"]),
        ("510104", 18, False, []),
    ],
)
def test_r_ins_03_minors(code: str, age: int, via_guardian: bool, expected: list[str]) -> None:
    assert rules.prerequisite_failures(region(code), facts(age=age, via_guardian=via_guardian)) == expected


@pytest.mark.parametrize(
    ("code", "permit", "refused"),
    [
        ("110105", False, False),
        ("310104", True, False),
        ("310104", False, True),
        ("510104", True, True),
    ],
)
def test_r_ins_03_hong_kong_macao_taiwan_residents(code: str, permit: bool, refused: bool) -> None:
    failures = rules.prerequisite_failures(region(code), facts(document_type="hmt_permit", has_residence_permit=permit))
    assert ("HMT_NOT_SUPPORTED" in failures) is refused


@pytest.mark.parametrize(
    ("version", "ok"), [("7.0.3", True), ("7.0.10", True), ("7.0.2", False), ("6.9", False), ("latest", False)]
)
def test_r_ins_01_minimum_client_version_compares_numbers(version: str, ok: bool) -> None:
    failures = rules.prerequisite_failures(region("310104"), facts(client_version=version))
    assert ("CLIENT_TOO_OLD" not in failures) is ok


def test_r_ins_01_phone_that_receives_sms_is_required() -> None:
    assert rules.prerequisite_failures(region("110105"), facts(has_phone=False)) == ["PHONE_REQUIRED"]


@pytest.mark.parametrize(
    ("code", "generation", "bank", "offline", "expected"),
    [
        ("110105", 2, True, False, []),
        ("110105", 1, True, True, ["CARD_GENERATION_TOO_OLD"]),
        ("310104", 2, True, True, ["CARD_GENERATION_TOO_OLD"]),
        ("310104", 3, True, False, ["OFFLINE_CHECK_REQUIRED"]),
        ("440106", 3, False, True, ["CARD_NOT_ACTIVATED"]),
    ],
)
def test_r_ins_01_card_generation_bank_function_and_offline_check(
    code: str, generation: int, bank: bool, offline: bool, expected: list[str]
) -> None:
    platform = rules.PlatformFacts(card_generation=generation, bank_activated=bank, offline_verified=offline)
    assert rules.platform_failures(region(code), platform) == expected


@pytest.mark.parametrize(
    ("number", "valid"),
    [("A12345678", True), ("BJ1234567890", True), ("a12345678", False), ("123456789", False), ("A123", False)],
)
def test_r_ins_02_card_number_format(number: str, valid: bool) -> None:
    assert rules.valid_card_number(number) is valid


@pytest.mark.parametrize(
    ("insured", "care", "needed"),
    [
        ("110000", "110105", False),
        ("110000", "120000", False),
        ("110000", "130100", False),
        ("110000", "310000", True),
        ("310000", "330100", False),
        ("310000", "320500", False),
        ("510100", "510700", False),
        ("120000", "110105", False),
        ("130100", "120000", False),
        ("130600", "110000", False),
        ("340100", "310000", False),
        ("320500", "330100", False),
        ("510100", "500000", False),
        ("500000", "510700", False),
        ("510100", "530100", True),
        ("440100", "440300", False),
        ("440300", "810000", False),
        ("820000", "441900", False),
        ("440100", "440500", True),
        ("440500", "440100", True),
        ("110000", "440300", True),
    ],
)
def test_r_ins_06_zone_membership_makes_filing_unnecessary(insured: str, care: str, needed: bool) -> None:
    assert rules.filing_required(region(insured), care, ZONES) is needed


def test_r_pay_10_shenzhen_online_channel_gets_two_points_more() -> None:
    assert rules.online_uplift_bp(region("440305"), "online") == 200
    assert rules.online_uplift_bp(region("440305"), "counter") == 0
    assert rules.online_uplift_bp(region("440106"), "online") == 0


def test_r_ins_04_scheme_defaults() -> None:
    employee, resident, rural = (rules.scheme_from(code, SCHEMES[code]) for code in ("310", "390", "380"))
    assert [s.settlement_delay_working_days for s in (employee, resident, rural)] == [0, 3, 5]
    assert [s.binding_success_bp for s in (employee, resident, rural)] == [9130, 8760, 6420]
    assert resident.outpatient_annual_limit_fen == 50_000
    assert employee.personal_account
    assert rules.scheme_allowed_at(rural, hospital_is_county=True)
    assert not rules.scheme_allowed_at(rural, hospital_is_county=False)
    assert rules.scheme_allowed_at(employee, hospital_is_county=False)


def test_r_ins_05_ratios_by_hospital_level_and_visit_type() -> None:
    """R-INS-05: the shipped scheme data gives tertiary outpatient 50-70 % and inpatient at most 85 %."""
    for code in ("310", "390", "380"):
        scheme = rules.scheme_from(code, SCHEMES[code])
        outpatient = rules.ratio_bp(scheme, hospital_level="tertiary", visit_type="outpatient")
        assert 5000 <= outpatient <= 7000
        assert rules.ratio_bp(scheme, hospital_level="tertiary", visit_type="inpatient") <= 8500


CALENDAR = rules.calendar_from({2025: library_calendar(2025), 2026: library_calendar(2026)})


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2025, 9, 30), 2, date(2025, 10, 10)),  # National Day holidays Oct 1–8
        (date(2025, 9, 26), 1, date(2025, 9, 28)),  # Sunday Sep 28 is a make-up working day
        (date(2026, 3, 6), 3, date(2026, 3, 11)),  # an ordinary weekend
        (date(2026, 3, 6), 0, date(2026, 3, 6)),
    ],
)
def test_r_ins_04_deferred_settlement_counts_chinese_working_days(start: date, days: int, expected: date) -> None:
    assert rules.add_working_days(start, days, CALENDAR) == expected


def test_r_ins_04_unknown_calendar_year_raises_until_an_admin_adds_it() -> None:
    with pytest.raises(rules.CalendarUnknown):
        rules.add_working_days(date(2026, 12, 30), 3, CALENDAR)
    extended = rules.calendar_from(
        {2025: library_calendar(2025), 2026: library_calendar(2026), 2027: {"holidays": ["2027-01-01"], "workdays": []}}
    )
    assert rules.add_working_days(date(2026, 12, 30), 3, extended) == date(2027, 1, 5)
