"""Pure reimbursement rules (R-INS-04…07, R-PAY-02/03/10): no session, no clock.

``settle(bill, coverage, year_to_date) -> Split`` computes the pooled fund's share of a bill
under the insured area's policy (catalogue categories, deductible 起付线, ratio by scheme ×
hospital level × visit type, special-disease ratio, the online uplift, annual cap and the
outpatient annual limit). ``fund_order`` then takes the rest from the personal account,
[family mutual aid], deposit, credit line and finally self-pay, and ``channel_payments`` cuts
self-pay into channel payments of at most 300 yuan.

One rounding rule (docs/adr/0011-rounding.md): whatever the fund or the catalogue covers is
rounded *down* to the fen, once per bill; the fraction of a fen stays with the patient.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from medcard.policy.rules import RegionPolicy, SchemePolicy, filing_required, online_uplift_bp, ratio_bp

CATEGORIES = ("A", "B", "C")
"""甲类 (fully in the catalogue), 乙类 (the patient first pays a share), 丙类 (not covered)."""
CHANNEL_LIMIT_FEN = 30_000
"""R-PAY-03: the messaging channel takes at most 300 yuan per payment."""
FULL_BP = 10_000


@dataclass(frozen=True)
class BillItem:
    """One line of a hospital bill: a fee item with its catalogue category."""

    code: str
    name: str
    category: str
    amount_fen: int
    self_pay_share_bp: int | None = None
    """A class-B item's own self-pay share from the catalogue; None: the scheme's default."""


@dataclass(frozen=True)
class Bill:
    """What the hospital charges for one visit, and where and how it is paid."""

    items: tuple[BillItem, ...]
    visit_type: str
    hospital_level: str
    hospital_is_county: bool
    care_region_code: str
    channel: str = "counter"

    @property
    def total_fen(self) -> int:
        return sum(item.amount_fen for item in self.items)


@dataclass(frozen=True)
class Coverage:
    """The insured person's policy facts for this bill (the insured area's rules, R-INS-06)."""

    scheme: SchemePolicy
    region: RegionPolicy
    policy_version: str
    zone_members: Mapping[str, list[str]]
    has_filing: bool = False
    special_disease: bool = False


@dataclass(frozen=True)
class YearToDate:
    """What the fund already paid this calendar year, and the deductible already borne."""

    fund_paid_fen: int = 0
    outpatient_fund_paid_fen: int = 0
    deductible_paid_fen: int = 0


@dataclass(frozen=True)
class Split:
    """The fund's share of a bill and why (names follow the platform's setlinfo)."""

    total_fen: int
    fund_fen: int
    """hifp_pay: the pooled fund (统筹基金)."""
    patient_fen: int
    covered_fen: int
    """The amount inside the catalogue after class-B shares (政策范围内)."""
    class_b_self_fen: int
    class_c_fen: int
    deductible_fen: int
    """act_pay_dedc: deductible borne by this bill."""
    ratio_bp: int
    limited_by: str | None
    """Why the fund pays less than the ratio gives: ``uninsured``, ``county_only``,
    ``no_filing``, ``deductible``, ``annual_cap``, ``outpatient_limit``, or None."""
    deferred_days: int
    policy_version: str

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)  # flat: asdict's recursive deep copy cost more than the rules


def covered_amounts(items: tuple[BillItem, ...], class_b_self_pay_bp: int) -> tuple[int, int, int]:
    """(covered, class-B self-pay, class C) over the items; class-B coverage rounded down once
    per bill. A class-B item's own share (from the catalogue) wins over the scheme's default."""
    class_a = sum(item.amount_fen for item in items if item.category == "A")
    class_b = [item for item in items if item.category == "B"]
    class_c = sum(item.amount_fen for item in items if item.category not in ("A", "B"))
    scaled = sum(
        item.amount_fen
        * (FULL_BP - (class_b_self_pay_bp if item.self_pay_share_bp is None else item.self_pay_share_bp))
        for item in class_b
    )
    class_b_covered = scaled // FULL_BP
    return class_a + class_b_covered, sum(item.amount_fen for item in class_b) - class_b_covered, class_c


def refusal(bill: Bill, coverage: Coverage | None) -> str | None:
    """Why the fund pays nothing at all: no insurance, a county-only scheme elsewhere (R-INS-04),
    out of region without a filing outside any shared zone (R-INS-06)."""
    if coverage is None:
        return "uninsured"
    if coverage.scheme.county_hospitals_only and not bill.hospital_is_county:
        return "county_only"
    needs_filing = filing_required(coverage.region, bill.care_region_code, coverage.zone_members)
    if needs_filing and not coverage.has_filing:
        return "no_filing"
    return None


def fund_ratio_bp(bill: Bill, coverage: Coverage) -> int:
    """Scheme × level × visit ratio, the special-disease ratio when approved (R-INS-07, never
    lower), plus the online uplift (R-PAY-10); at most 100 %."""
    ratio = ratio_bp(coverage.scheme, hospital_level=bill.hospital_level, visit_type=bill.visit_type)
    if coverage.special_disease:
        ratio = max(ratio, coverage.scheme.special_disease_ratio_bp.get(bill.visit_type, 0))
    return min(FULL_BP, ratio + online_uplift_bp(coverage.region, bill.channel))


def deductible_left(bill: Bill, scheme: SchemePolicy, year: YearToDate) -> int:
    """The deductible still to bear this year for the visit type."""
    yearly = scheme.outpatient_deductible_fen if bill.visit_type == "outpatient" else scheme.deductible_fen
    return max(0, yearly - year.deductible_paid_fen)


def fund_room(bill: Bill, scheme: SchemePolicy, year: YearToDate) -> tuple[int, str]:
    """What the fund may still pay this year, and which limit that is."""
    room, name = max(0, scheme.annual_cap_fen - year.fund_paid_fen), "annual_cap"
    limit = scheme.outpatient_annual_limit_fen
    if bill.visit_type == "outpatient" and limit is not None:
        outpatient_room = max(0, limit - year.outpatient_fund_paid_fen)
        if outpatient_room < room:
            room, name = outpatient_room, "outpatient_limit"
    return room, name


def settle(bill: Bill, coverage: Coverage | None, year: YearToDate) -> Split:
    """The fund's share of ``bill`` under ``coverage`` given this year's earlier settlements."""
    b_share = coverage.scheme.class_b_self_pay_bp if coverage else FULL_BP
    covered, class_b_self, class_c = covered_amounts(bill.items, b_share)
    blocked = refusal(bill, coverage)
    if coverage is None or blocked is not None:
        version = coverage.policy_version if coverage else ""
        return _split(bill, 0, covered, class_b_self, class_c, 0, 0, blocked, 0, version)
    deductible = min(covered, deductible_left(bill, coverage.scheme, year))
    ratio = fund_ratio_bp(bill, coverage)
    by_ratio = (covered - deductible) * ratio // FULL_BP
    room, room_name = fund_room(bill, coverage.scheme, year)
    fund = min(by_ratio, room)
    limited = room_name if fund < by_ratio else ("deductible" if deductible else None)
    delay = coverage.scheme.settlement_delay_working_days
    return _split(
        bill, fund, covered, class_b_self, class_c, deductible, ratio, limited, delay, coverage.policy_version
    )


def _split(
    bill: Bill,
    fund: int,
    covered: int,
    class_b_self: int,
    class_c: int,
    deductible: int,
    ratio: int,
    limited: str | None,
    delay: int,
    version: str,
) -> Split:
    total = bill.total_fen
    return Split(total, fund, total - fund, covered, class_b_self, class_c, deductible, ratio, limited, delay, version)


def year_after(year: YearToDate, bill: Bill, split: Split) -> YearToDate:
    """This year's totals once ``split`` is settled."""
    outpatient = split.fund_fen if bill.visit_type == "outpatient" else 0
    return YearToDate(
        fund_paid_fen=year.fund_paid_fen + split.fund_fen,
        outpatient_fund_paid_fen=year.outpatient_fund_paid_fen + outpatient,
        deductible_paid_fen=year.deductible_paid_fen + split.deductible_fen,
    )


# --- order of funds (R-PAY-02) and channel payments (R-PAY-03) ------------------------------------


@dataclass(frozen=True)
class Balances:
    """What the patient's own sources can give now (available = balance − holds)."""

    personal_account_fen: int = 0
    deposit_fen: int = 0
    credit_available_fen: int = 0
    family_mutual_aid_fen: int = 0
    """What a bound relative's personal account may give now (R-FAM-08: within his limits)."""


@dataclass(frozen=True)
class Funding:
    """Where every fen of a bill comes from, in the order of R-PAY-02."""

    fund_fen: int
    personal_account_fen: int
    family_mutual_aid_fen: int
    deposit_fen: int
    credit_line_fen: int
    self_pay_fen: int
    deferred_fund_fen: int
    """A deferred scheme's fund share, reimbursed to the patient later (R-INS-04)."""

    @property
    def total_fen(self) -> int:
        return (
            self.fund_fen
            + self.personal_account_fen
            + self.family_mutual_aid_fen
            + self.deposit_fen
            + self.credit_line_fen
            + self.self_pay_fen
        )

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def family_mutual_aid(rest_fen: int, available_fen: int = 0) -> int:
    """家庭共济 (R-PAY-02, R-FAM-08): right after the patient's own personal account, a bound
    relative's personal account pays what it may (``available_fen``: already within the limits
    he set); the rest moves on to the deposit."""
    return min(rest_fen, max(0, available_fen))


def fund_order(split: Split, balances: Balances) -> Funding:
    """fund → personal account → family mutual aid → deposit → credit line → self-pay.
    A short source passes the rest on (a short personal account ends in self-pay). A deferred
    scheme's fund share is paid by the patient now and reimbursed later (R-INS-04)."""
    deferred = split.deferred_days > 0
    fund = 0 if deferred else split.fund_fen
    rest = split.total_fen - fund
    personal = min(rest, max(0, balances.personal_account_fen))
    rest -= personal
    family = family_mutual_aid(rest, balances.family_mutual_aid_fen)
    rest -= family
    deposit = min(rest, max(0, balances.deposit_fen))
    rest -= deposit
    credit = min(rest, max(0, balances.credit_available_fen))
    rest -= credit
    deferred_fund = split.fund_fen if deferred else 0
    return Funding(fund, personal, family, deposit, credit, rest, deferred_fund)


def channel_payments(self_pay_fen: int, limit_fen: int = CHANNEL_LIMIT_FEN) -> list[int]:
    """Self-pay cut into channel payments of at most ``limit_fen`` each (R-PAY-03)."""
    full, last = divmod(self_pay_fen, limit_fen)
    return [limit_fen] * full + ([last] if last else [])


# --- refunds (R-PAY-06) ---------------------------------------------------------------------------

SOURCES = ("fund", "personal_account", "family_mutual_aid", "deposit", "credit_line", "channel")
REFUND_ORDER = ("channel", "credit_line", "deposit", "family_mutual_aid", "personal_account", "fund")
"""Where a leftover fen of a partial refund goes first: the patient's own money first."""


def captured(funding: Mapping[str, int]) -> dict[str, int]:
    """What each source gave to a paid order (a deferred fund share is paid later, not here)."""
    names = {"self_pay_fen": "channel", "fund_fen": "fund"}
    result = dict.fromkeys(SOURCES, 0)
    for key, value in funding.items():
        source = names.get(key, key.removesuffix("_fen"))
        if source in result:
            result[source] += int(value)
    return result


def refund_split(captured_fen: Mapping[str, int], refunded_fen: Mapping[str, int], amount_fen: int) -> dict[str, int]:
    """A refund of ``amount_fen`` spread over the sources in proportion to what each can still
    give back (rounded down, ADR 0011), the leftover fen in :data:`REFUND_ORDER`. Never more
    than a source gave minus what it already got back; raises ValueError above the total."""
    room = {source: captured_fen.get(source, 0) - refunded_fen.get(source, 0) for source in SOURCES}
    refundable = sum(room.values())
    if not 0 < amount_fen <= refundable:
        raise ValueError(f"refund of {amount_fen} fen, {refundable} refundable")
    share = {source: room[source] * amount_fen // refundable for source in SOURCES}
    left = amount_fen - sum(share.values())
    for source in REFUND_ORDER:
        extra = min(left, room[source] - share[source])
        share[source] += extra
        left -= extra
    return {source: value for source, value in share.items() if value}


def effective_captured(funding: Mapping[str, int], *, reimbursed_fen: int) -> dict[str, int]:
    """What each source finally gave once a deferred fund share was reimbursed: the fund took
    over ``reimbursed_fen`` from the channel first, then the deposit, then the credit line."""
    gave = captured(funding)
    left = reimbursed_fen
    for source in ("channel", "deposit", "credit_line"):
        moved = min(left, gave[source])
        gave[source] -= moved
        left -= moved
    gave["fund"] += reimbursed_fen - left
    return gave
