"""Pure reimbursement rules over the shipped policy data, table-driven (no database):
R-INS-04…07, R-PAY-02, R-PAY-03, R-PAY-10, and the rounding rule of ADR 0011."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medcard.policy import rules as policy
from medcard.policy.service import shipped
from medcard.settlement import rules
from medcard.settlement.rules import Balances, Bill, BillItem, Coverage, YearToDate

REGIONS = shipped("regions.json")
SCHEMES = shipped("schemes.json")["schemes"]
ZONES = {key: policy.zone_members(zone) for key, zone in REGIONS["zones"].items()}
SCHEME = {"employee": "310", "resident": "390", "new_rural": "380"}
PAID = YearToDate(deductible_paid_fen=1_000_000)
"""A year in which every deductible is already borne."""


def region(code: str) -> policy.RegionPolicy:
    data = REGIONS["regions"]
    own = next((data[k] for k in policy.policy_keys(code) if k in data and k != policy.NATIONAL_DEFAULT), None)
    return policy.merge_region(code, own, data[policy.NATIONAL_DEFAULT])


def coverage(scheme: str = "employee", insured: str = "110000", **flags: bool) -> Coverage:
    code = SCHEME[scheme]
    return Coverage(
        scheme=policy.scheme_from(code, SCHEMES[code]),
        region=region(insured),
        policy_version=f"scheme:{code}@1;region:{insured}@1",
        zone_members=ZONES,
        **flags,
    )


def bill(*items: tuple[str, int], visit: str = "outpatient", level: str = "tertiary", **where: object) -> Bill:
    values: dict[str, object] = {"hospital_is_county": False, "care_region_code": "110105", "channel": "counter"}
    values.update(where)
    lines = tuple(BillItem(f"X{i}", f"item {i}", category, amount) for i, (category, amount) in enumerate(items))
    return Bill(items=lines, visit_type=visit, hospital_level=level, **values)  # type: ignore[arg-type]


CASES = [
    # (id, bill, coverage, year to date, fund, deductible, limited_by)
    ("class A, deductible first", bill(("A", 50_000)), coverage(), YearToDate(), 21_000, 20_000, "deductible"),
    (
        "deductible partly borne",
        bill(("A", 50_000)),
        coverage(),
        YearToDate(deductible_paid_fen=15_000),
        31_500,
        5_000,
        "deductible",
    ),
    ("deductible borne", bill(("A", 50_000)), coverage(), PAID, 35_000, 0, None),
    ("class B pays its self share", bill(("B", 10_000)), coverage(), PAID, 6_300, 0, None),
    ("class C is not covered", bill(("C", 10_000)), coverage(), PAID, 0, 0, None),
    ("rounded down once per bill", bill(("A", 333)), coverage(), PAID, 233, 0, None),
    ("class B share rounded down", bill(("B", 333)), coverage(), PAID, 209, 0, None),
    (
        "class B item's own share",
        Bill((BillItem("D1", "drug", "B", 10_000, 2000),), "outpatient", "tertiary", False, "110105"),
        coverage(),
        PAID,
        5_600,
        0,
        None,
    ),
    ("mixed items", bill(("A", 10_000), ("B", 10_000), ("C", 10_000)), coverage(), PAID, 13_300, 0, None),
    ("inpatient ratio", bill(("A", 100_000), visit="inpatient"), coverage(), PAID, 85_000, 0, None),
    ("secondary level ratio", bill(("A", 100_000), level="secondary"), coverage(), PAID, 80_000, 0, None),
    (
        "annual cap",
        bill(("A", 100_000), visit="inpatient"),
        coverage(),
        YearToDate(49_999_900, 0, 1_000_000),
        100,
        0,
        "annual_cap",
    ),
    (
        "resident outpatient limit 500 yuan",
        bill(("A", 200_000)),
        coverage("resident"),
        YearToDate(40_000, 40_000, 1_000_000),
        10_000,
        0,
        "outpatient_limit",
    ),
    (
        "resident limit reached",
        bill(("A", 20_000)),
        coverage("resident"),
        YearToDate(50_000, 50_000, 1_000_000),
        0,
        0,
        "outpatient_limit",
    ),
    (
        "resident limit is outpatient only",
        bill(("A", 20_000), visit="inpatient"),
        coverage("resident"),
        YearToDate(50_000, 50_000, 1_000_000),
        14_000,
        0,
        None,
    ),
    ("new rural only at county level", bill(("A", 20_000)), coverage("new_rural"), PAID, 0, 0, "county_only"),
    (
        "new rural at a county hospital",
        bill(("A", 20_000), level="secondary", hospital_is_county=True),
        coverage("new_rural"),
        YearToDate(),
        9_000,
        5_000,
        "deductible",
    ),
    ("special disease ratio when approved", bill(("A", 50_000)), coverage(special_disease=True), PAID, 45_000, 0, None),
    (
        "Shenzhen online +2 points",
        bill(("A", 50_000), care_region_code="440305", channel="online"),
        coverage(insured="440300"),
        PAID,
        36_000,
        0,
        None,
    ),
    (
        "Shenzhen at the counter",
        bill(("A", 50_000), care_region_code="440305"),
        coverage(insured="440300"),
        PAID,
        35_000,
        0,
        None,
    ),
    (
        "Guangzhou online, no uplift",
        bill(("A", 50_000), care_region_code="440106", channel="online"),
        coverage(insured="440100"),
        PAID,
        35_000,
        0,
        None,
    ),
    (
        "out of region without a filing",
        bill(("A", 50_000), care_region_code="310101"),
        coverage(),
        PAID,
        0,
        0,
        "no_filing",
    ),
    (
        "out of region with a filing",
        bill(("A", 50_000), care_region_code="310101"),
        coverage(has_filing=True),
        PAID,
        35_000,
        0,
        None,
    ),
    (
        "Tianjin insured in Beijing (Jing-Jin-Ji)",
        bill(("A", 50_000)),
        coverage(insured="120000"),
        PAID,
        35_000,
        0,
        None,
    ),
    (
        "Hebei insured in Tianjin (Jing-Jin-Ji)",
        bill(("A", 50_000), care_region_code="120101"),
        coverage(insured="130100"),
        PAID,
        35_000,
        0,
        None,
    ),
    (
        "Anhui insured in Shanghai (Yangtze Delta)",
        bill(("A", 50_000), care_region_code="310101"),
        coverage(insured="340100"),
        PAID,
        35_000,
        0,
        None,
    ),
    (
        "Chongqing insured in Chengdu",
        bill(("A", 50_000), care_region_code="510104"),
        coverage(insured="500000"),
        PAID,
        35_000,
        0,
        None,
    ),
    (
        "Macau insured in Zhuhai (Greater Bay Area)",
        bill(("A", 50_000), care_region_code="440402"),
        coverage(insured="820000"),
        PAID,
        35_000,
        0,
        None,
    ),
    (
        "Shantou is not in the Greater Bay Area",
        bill(("A", 50_000), care_region_code="440511"),
        coverage(insured="440100"),
        PAID,
        0,
        0,
        "no_filing",
    ),
    ("uninsured", bill(("A", 50_000)), None, PAID, 0, 0, "uninsured"),
]


@pytest.mark.parametrize(
    ("bill_", "coverage_", "year", "fund", "deductible", "limited"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_r_ins_05_fund_share(
    bill_: Bill, coverage_: Coverage | None, year: YearToDate, fund: int, deductible: int, limited: str | None
) -> None:
    """R-INS-04…07, R-PAY-10: the fund's share of each bill, the deductible it bore and what limited it."""
    split = rules.settle(bill_, coverage_, year)
    assert (split.fund_fen, split.deductible_fen, split.limited_by) == (fund, deductible, limited)
    assert split.fund_fen + split.patient_fen == bill_.total_fen
    assert split.policy_version == (coverage_.policy_version if coverage_ else "")


def test_r_ins_04_deferred_schemes_carry_their_delay() -> None:
    assert rules.settle(bill(("A", 100)), coverage("resident"), PAID).deferred_days == 3
    county = bill(("A", 100), hospital_is_county=True)
    assert rules.settle(county, coverage("new_rural"), PAID).deferred_days == 5
    assert rules.settle(bill(("A", 100)), coverage(), PAID).deferred_days == 0


def test_r_ins_05_year_to_date_moves_with_each_settlement() -> None:
    """Two bills in a row: the second finds the deductible borne and the limit partly used."""
    first_bill = bill(("A", 30_000))
    first = rules.settle(first_bill, coverage("resident"), YearToDate())
    year = rules.year_after(YearToDate(), first_bill, first)
    assert (year.deductible_paid_fen, year.outpatient_fund_paid_fen) == (10_000, first.fund_fen)
    second = rules.settle(bill(("A", 100_000)), coverage("resident"), year)
    assert second.fund_fen == 50_000 - first.fund_fen


def _split(total: int, fund: int, deferred_days: int = 0) -> rules.Split:
    return rules.Split(total, fund, total - fund, total, 0, 0, 0, 7000, None, deferred_days, "v")


FUNDING = [
    # (id, total, fund, deferred days, balances, (fund, personal, family, deposit, credit, self, deferred))
    ("personal account covers the rest", 50_000, 21_000, 0, Balances(100_000, 0, 0), (21_000, 29_000, 0, 0, 0, 0, 0)),
    (
        "short personal account: rest self-pay",
        50_000,
        21_000,
        0,
        Balances(10_000, 0, 0),
        (21_000, 10_000, 0, 0, 0, 19_000, 0),
    ),
    (
        "then deposit, then credit line",
        50_000,
        21_000,
        0,
        Balances(10_000, 5_000, 100_000),
        (21_000, 10_000, 0, 5_000, 14_000, 0, 0),
    ),
    ("credit line short: rest self-pay", 50_000, 0, 0, Balances(0, 0, 20_000), (0, 0, 0, 0, 20_000, 30_000, 0)),
    ("deferred scheme: patient pays all now", 50_000, 20_000, 3, Balances(0, 0, 0), (0, 0, 0, 0, 0, 50_000, 20_000)),
]


@pytest.mark.parametrize(
    ("total", "fund", "days", "balances", "expected"), [c[1:] for c in FUNDING], ids=[c[0] for c in FUNDING]
)
def test_r_pay_02_order_of_funds(
    total: int, fund: int, days: int, balances: Balances, expected: tuple[int, ...]
) -> None:
    funding = rules.fund_order(_split(total, fund, days), balances)
    assert tuple(funding.as_dict().values()) == expected
    assert funding.total_fen == total


@given(
    total=st.integers(1, 10_000_000),
    fund_share=st.integers(0, 10_000),
    days=st.sampled_from([0, 3, 5]),
    personal=st.integers(-5, 5_000_000),
    deposit=st.integers(0, 5_000_000),
    credit=st.integers(0, 200_000),
)
def test_r_pay_02_every_fen_has_exactly_one_source(
    total: int, fund_share: int, days: int, personal: int, deposit: int, credit: int
) -> None:
    split = _split(total, total * fund_share // 10_000, days)
    funding = rules.fund_order(split, Balances(personal, deposit, credit))
    parts = funding.as_dict()
    assert funding.total_fen == total
    assert all(value >= 0 for value in parts.values())
    assert funding.personal_account_fen <= max(0, personal) and funding.deposit_fen <= deposit
    assert funding.credit_line_fen <= credit


@pytest.mark.parametrize(
    ("self_pay", "payments"),
    [(0, []), (1, [1]), (30_000, [30_000]), (30_001, [30_000, 1]), (70_000, [30_000, 30_000, 10_000])],
)
def test_r_pay_03_self_pay_over_300_yuan_is_split(self_pay: int, payments: list[int]) -> None:
    assert rules.channel_payments(self_pay) == payments
    assert all(payment <= rules.CHANNEL_LIMIT_FEN for payment in payments)


FUNDED = {"fund": 21_000, "personal_account": 10_000, "deposit": 5_000, "credit_line": 0, "channel": 14_000}


@pytest.mark.parametrize(
    ("refunded", "amount", "expected"),
    [
        ({}, 50_000, FUNDED),
        ({}, 25_000, {"fund": 10_500, "personal_account": 5_000, "deposit": 2_500, "channel": 7_000}),
        ({}, 1, {"channel": 1}),
        ({"channel": 14_000}, 36_000, {"fund": 21_000, "personal_account": 10_000, "deposit": 5_000}),
    ],
)
def test_r_pay_06_refund_goes_back_to_each_source(
    refunded: dict[str, int], amount: int, expected: dict[str, int]
) -> None:
    assert {k: v for k, v in rules.refund_split(FUNDED, refunded, amount).items() if v} == {
        k: v for k, v in expected.items() if v
    }


def test_r_pay_06_never_more_than_captured() -> None:
    with pytest.raises(ValueError):
        rules.refund_split(FUNDED, {"channel": 1}, 50_000)


@given(
    gave=st.fixed_dictionaries({source: st.integers(0, 100_000) for source in rules.SOURCES}),
    cuts=st.lists(st.integers(1, 100_000), max_size=6),
)
def test_r_pay_06_refunds_per_source_never_exceed_captures(gave: dict[str, int], cuts: list[int]) -> None:
    refunded = dict.fromkeys(rules.SOURCES, 0)
    for cut in cuts:
        left = sum(gave.values()) - sum(refunded.values())
        if left == 0:
            break
        for source, value in rules.refund_split(gave, refunded, min(cut, left)).items():
            refunded[source] += value
    assert all(0 <= refunded[source] <= gave[source] for source in rules.SOURCES)
