"""Pure rules over policy data: regional e-voucher prerequisites (R-INS-01, R-INS-03),
cross-region zones (R-INS-06), the online-channel uplift (R-PAY-10), scheme parameters
(R-INS-04/05) and the Chinese working-day calendar.

No session, no clock: callers pass ``today`` and the policy documents they loaded.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

NATIONAL_DEFAULT = "000000"
HMT_MODES = ("yes", "partial", "no")
VISIT_TYPES = ("outpatient", "inpatient")
HOSPITAL_LEVELS = ("tertiary", "secondary", "primary")
SCHEME_BY_KEY = {"employee": "310", "resident": "390", "new_rural": "380"}
CARD_NUMBER = re.compile(r"^[A-Z]{1,2}[0-9]{7,10}$")
VERSION = re.compile(r"^\d+(\.\d+){0,3}$")


@dataclass(frozen=True)
class RegionPolicy:
    """A region's e-voucher policy after the national default has filled its gaps."""

    code: str
    name_zh: str
    name_en: str
    supports_evoucher: bool
    min_card_generation: int
    requires_offline_check: bool
    min_client_version: str
    min_age_alone: int
    guardian_below_min_age: bool
    hmt_residents: str
    zone: str | None
    online_uplift_bp: int
    family_mutual_aid: bool = False
    """Family mutual aid (家庭共济, R-FAM-08) is allowed for this region's insured."""


@dataclass(frozen=True)
class BindingFacts:
    """What is known about one binding attempt before the platform is asked."""

    age: int
    via_guardian: bool
    document_type: str
    has_residence_permit: bool
    client_version: str
    has_phone: bool


@dataclass(frozen=True)
class PlatformFacts:
    """What the insurance platform said about the person (1101 person query)."""

    card_generation: int
    bank_activated: bool
    offline_verified: bool


@dataclass(frozen=True)
class SchemePolicy:
    """Scheme parameters (R-INS-04/05). Money in fen, ratios in basis points."""

    code: str
    key: str
    name_zh: str
    name_en: str
    binding_success_bp: int
    settlement_delay_working_days: int
    county_hospitals_only: bool
    personal_account: bool
    deductible_fen: int
    annual_cap_fen: int
    outpatient_annual_limit_fen: int | None
    ratio_bp: dict[str, dict[str, int]] = field(default_factory=dict)
    outpatient_deductible_fen: int = 0
    class_b_self_pay_bp: int = 0
    special_disease_ratio_bp: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Calendar:
    """Official holidays (days off) and make-up working days (调休上班) for known years."""

    years: frozenset[int]
    holidays: frozenset[date]
    workdays: frozenset[date]


class CalendarUnknown(ValueError):
    """The calendar has no data for the year (an admin must add it)."""

    def __init__(self, year: int) -> None:
        self.year = year
        super().__init__(f"no working-day calendar for {year}")


# --- regions ---------------------------------------------------------------------------------


def policy_keys(region_code: str) -> list[str]:
    """Keys to try for a region, most specific first: the code, its city, its province."""
    keys = [region_code, region_code[:4] + "00", region_code[:2] + "0000"]
    return list(dict.fromkeys(keys))


def merge_region(code: str, city: Mapping[str, Any] | None, default: Mapping[str, Any]) -> RegionPolicy:
    """The city's fields over the national default's (R-INS-03: unlisted cities use the default)."""
    values = {**default, **(city or {})}
    return RegionPolicy(
        code=code,
        name_zh=str(values.get("name_zh", "")),
        name_en=str(values.get("name_en", "")),
        supports_evoucher=bool(values["supports_evoucher"]),
        min_card_generation=int(values["min_card_generation"]),
        requires_offline_check=bool(values["requires_offline_check"]),
        min_client_version=str(values["min_client_version"]),
        min_age_alone=int(values["min_age_alone"]),
        guardian_below_min_age=bool(values["guardian_below_min_age"]),
        hmt_residents=str(values.get("hmt_residents") or "no"),
        zone=values.get("zone"),
        online_uplift_bp=int(values.get("online_uplift_bp") or 0),
        family_mutual_aid=bool(values.get("family_mutual_aid", False)),
    )


def version_tuple(version: str) -> tuple[int, ...]:
    """``"6.5.6"`` → ``(6, 5, 6)``; anything malformed counts as the oldest version."""
    if not VERSION.match(version.strip()):
        return (0,)
    return tuple(int(part) for part in version.strip().split("."))


def prerequisite_failures(policy: RegionPolicy, facts: BindingFacts) -> list[str]:
    """Why a binding may not start in this region (R-INS-01, R-INS-03), as error codes."""
    failures: list[str] = []
    if not policy.supports_evoucher:
        return ["REGION_NOT_SUPPORTED"]
    if version_tuple(facts.client_version) < version_tuple(policy.min_client_version):
        failures.append("CLIENT_TOO_OLD")
    if facts.age < policy.min_age_alone:
        if not policy.guardian_below_min_age:
            failures.append("MINOR_NOT_ALLOWED")
        elif not facts.via_guardian:
            failures.append("MINOR_NEEDS_GUARDIAN")
    hmt_refused = policy.hmt_residents == "no" or (policy.hmt_residents == "partial" and not facts.has_residence_permit)
    if facts.document_type == "hmt_permit" and hmt_refused:
        failures.append("HMT_NOT_SUPPORTED")
    if not facts.has_phone:
        failures.append("PHONE_REQUIRED")
    return failures


def platform_failures(policy: RegionPolicy, facts: PlatformFacts) -> list[str]:
    """Prerequisites only the platform knows: card generation, bank function, offline check."""
    failures: list[str] = []
    if facts.card_generation < policy.min_card_generation:
        failures.append("CARD_GENERATION_TOO_OLD")
    if not facts.bank_activated:
        failures.append("CARD_NOT_ACTIVATED")
    if policy.requires_offline_check and not facts.offline_verified:
        failures.append("OFFLINE_CHECK_REQUIRED")
    return failures


def valid_card_number(number: str) -> bool:
    """Social security card number: 1–2 capital letters then 7–10 digits (R-INS-02)."""
    return bool(CARD_NUMBER.match(number))


def same_coordinating_region(a: str, b: str) -> bool:
    """Municipalities (xx0000) compare by province, other cities by their 4-digit prefix."""
    if a.endswith("0000") or b.endswith("0000"):
        return a[:2] == b[:2]
    return a[:4] == b[:4]


def zone_members(data: Mapping[str, Any]) -> list[str]:
    """A zone document's member prefixes (``members``; older versions said ``provinces``)."""
    return [str(member) for member in data.get("members", data.get("provinces", []))]


def in_zone(region_code: str, members: list[str]) -> bool:
    """Is the region inside a zone whose members are code prefixes (province or city)?"""
    return any(region_code.startswith(prefix) for prefix in members)


def filing_required(insured: RegionPolicy, care_region_code: str, zone_members: Mapping[str, list[str]]) -> bool:
    """Does care in ``care_region_code`` need an out-of-region filing (R-INS-06)? Not inside the
    coordinating region, not within the province for an ``in_province`` region, and not when
    both regions belong to one cooperation zone (Jing-Jin-Ji, Yangtze Delta, Chengdu-Chongqing,
    the Greater Bay Area …), whichever zone the insured region's own document names."""
    if same_coordinating_region(insured.code, care_region_code):
        return False
    if insured.zone == "in_province" and insured.code[:2] == care_region_code[:2]:
        return False
    return not any(
        in_zone(insured.code, members) and in_zone(care_region_code, members) for members in zone_members.values()
    )


def online_uplift_bp(policy: RegionPolicy, channel: str) -> int:
    """Extra reimbursement in basis points for the online channel (R-PAY-10, Shenzhen +200)."""
    return policy.online_uplift_bp if channel == "online" else 0


# --- schemes ---------------------------------------------------------------------------------


def scheme_from(code: str, data: Mapping[str, Any]) -> SchemePolicy:
    limit = data.get("outpatient_annual_limit_fen")
    return SchemePolicy(
        code=code,
        key=str(data["key"]),
        name_zh=str(data["name_zh"]),
        name_en=str(data["name_en"]),
        binding_success_bp=int(data["binding_success_bp"]),
        settlement_delay_working_days=int(data["settlement_delay_working_days"]),
        county_hospitals_only=bool(data["county_hospitals_only"]),
        personal_account=bool(data["personal_account"]),
        deductible_fen=int(data["deductible_fen"]),
        annual_cap_fen=int(data["annual_cap_fen"]),
        outpatient_annual_limit_fen=None if limit is None else int(limit),
        ratio_bp={level: {k: int(v) for k, v in row.items()} for level, row in data["ratio_bp"].items()},
        outpatient_deductible_fen=int(data.get("outpatient_deductible_fen") or 0),
        class_b_self_pay_bp=int(data.get("class_b_self_pay_bp") or 0),
        special_disease_ratio_bp={k: int(v) for k, v in (data.get("special_disease_ratio_bp") or {}).items()},
    )


def ratio_bp(scheme: SchemePolicy, *, hospital_level: str, visit_type: str) -> int:
    """The fund's share in basis points for a hospital level and visit type (R-INS-05)."""
    return scheme.ratio_bp[hospital_level][visit_type]


def scheme_allowed_at(scheme: SchemePolicy, *, hospital_is_county: bool) -> bool:
    """New rural cooperative insurance settles only at county-level hospitals (R-INS-04)."""
    return hospital_is_county or not scheme.county_hospitals_only


# --- working days ----------------------------------------------------------------------------


def calendar_from(documents: Mapping[int, Mapping[str, Any]]) -> Calendar:
    """Build one calendar from per-year documents ``{"holidays": [...], "workdays": [...]}``."""
    holidays: set[date] = set()
    workdays: set[date] = set()
    for data in documents.values():
        holidays.update(date.fromisoformat(d) for d in data.get("holidays", []))
        workdays.update(date.fromisoformat(d) for d in data.get("workdays", []))
    return Calendar(years=frozenset(documents), holidays=frozenset(holidays), workdays=frozenset(workdays))


def is_working_day(day: date, calendar: Calendar) -> bool:
    """Mon–Fri except official holidays, plus make-up working days; unknown years raise."""
    if day.year not in calendar.years:
        raise CalendarUnknown(day.year)
    if day in calendar.workdays:
        return True
    return day.weekday() < 5 and day not in calendar.holidays


def add_working_days(start: date, days: int, calendar: Calendar) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself when ``days`` is 0)."""
    current = start
    remaining = days
    while remaining > 0:
        current += timedelta(days=1)
        if is_working_day(current, calendar):
            remaining -= 1
    return current
