"""The insurance platform's mobile payment sandbox: 6201 / 6202 / 6301 / 6203 / 6401 through the
fen-typed edge; the personal-account balance moves and 1101 reports it; a lost 6202 answer is
resolved by 6301 (R-PAY-01, R-PAY-02, R-PAY-05, R-PAY-06, R-INS-04)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from medcard.adapters import sandbox_adapters
from medcard.adapters.insurance import InsuranceTimeout, InsuredPerson, SandboxInsurancePlatform
from medcard.adapters.insurance_payment import (
    FeeItem,
    InsuranceRefused,
    InsuranceShares,
    MobilePayment,
)
from medcard.adapters.sandbox import SandboxBehaviour, SandboxFaults
from medcard.config import Settings
from medcard.kit.clock import clock
from medcard.kit.money import fen_from_yuan

ITEMS = [
    FeeItem(serial="1", code="XB01BAC", name="阿莫西林胶囊", price=1_250, count=2),
    FeeItem(serial="2", code="001102000010000", name="普通门诊诊查费", price=2_500, count=1),
]  # 50.00 yuan


def platform(faults: SandboxFaults | None = None) -> SandboxInsurancePlatform:
    return SandboxInsurancePlatform(SandboxBehaviour(seed=7), faults)


def employee(sandbox: SandboxInsurancePlatform, *, min_balance: int = 10_000) -> InsuredPerson:
    for number, name in sandbox.population(200):
        person = sandbox.person(number, name)
        if person.scheme_code == "310" and person.case == "ordinary" and person.balance_fen >= min_balance:
            return person
    raise AssertionError("no employee with a balance in the sandbox population")


async def upload(client: MobilePayment, person: InsuredPerson, reference: str = "BILL-1"):  # type: ignore[no-untyped-def]
    return await client.upload(
        person_number=person.person_number,
        document_number=person.document_number,
        name=person.name,
        pay_auth_no="AUTH-1",
        order_reference=reference,
        items=ITEMS,
    )


async def balance_from_1101(sandbox: SandboxInsurancePlatform, person: InsuredPerson) -> int:
    data = {"certno": person.document_number, "psn_name": person.name}
    answer = await sandbox.person_query({"infno": "1101", "input": {"data": data}})
    return fen_from_yuan(answer["output"]["insuinfo"][0]["balc"])


async def test_r_pay_02_upload_then_settle_moves_the_personal_account() -> None:
    sandbox = platform()
    person = employee(sandbox)
    client = MobilePayment(sandbox, org_code="H11010500001")
    before = await balance_from_1101(sandbox, person)
    order = await upload(client, person)
    assert order.fee_sum == 5_000
    assert order.pay_order_id.startswith("ORD")
    shares = InsuranceShares(fund=3_000, personal_account=1_200)
    settled = await client.settle(order, pay_auth_no="AUTH-1", shares=shares)
    assert settled.status == "settled"
    assert (settled.fund, settled.personal_account, settled.own_pay) == (3_000, 1_200, 800)
    assert settled.settlement_id
    assert settled.balance == before - 1_200
    assert await balance_from_1101(sandbox, person) == before - 1_200
    answer = await sandbox.query_order({"input": {"data": {"payOrdId": order.pay_order_id}}})
    info = answer["output"]["setlinfo"]
    assert (info["hifp_pay"], info["acct_pay"], info["psn_cash_pay"], info["acct_mulaid_pay"]) == (
        "30.00",
        "12.00",
        "8.00",
        "0.00",
    )


async def test_r_pay_02_personal_account_short_is_refused_with_the_platform_code() -> None:
    sandbox = platform()
    person = employee(sandbox)
    client = MobilePayment(sandbox, org_code="H1")
    order = await upload(client, person)
    sandbox.balances[person.person_number] = 500
    with pytest.raises(InsuranceRefused) as refused:
        await client.settle(order, pay_auth_no="AUTH-1", shares=InsuranceShares(fund=3_000, personal_account=600))
    assert refused.value.code == "PSN_ACCT_INSUFFICIENT"
    assert sandbox.balances[person.person_number] == 500
    assert (await client.query(order.pay_order_id)).status == "uploaded"


async def test_shares_above_the_fee_total_are_refused() -> None:
    sandbox = platform()
    person = employee(sandbox)
    client = MobilePayment(sandbox, org_code="H1")
    order = await upload(client, person)
    with pytest.raises(InsuranceRefused) as refused:
        await client.settle(order, pay_auth_no="AUTH-1", shares=InsuranceShares(fund=4_500, personal_account=600))
    assert refused.value.code == "AMOUNT_INVALID"


async def test_r_pay_05_lost_6202_answer_is_resolved_by_6301_and_never_settles_twice() -> None:
    sandbox = platform(SandboxFaults(timeout_rate=1.0, applied_before_timeout_rate=1.0))
    person = employee(sandbox)
    client = MobilePayment(sandbox, org_code="H1")
    before = await balance_from_1101(sandbox, person)
    order = await upload(client, person)
    shares = InsuranceShares(fund=3_000, personal_account=1_000)
    with pytest.raises(InsuranceTimeout):
        await client.settle(order, pay_auth_no="AUTH-1", shares=shares)
    found = await client.query(order.pay_order_id)
    assert found.status == "settled"
    assert found.personal_account == 1_000
    # A repeated 6202 with the same shares answers the settlement again, moving nothing.
    sandbox.faults = SandboxFaults()
    again = await client.settle(order, pay_auth_no="AUTH-1", shares=shares)
    assert again.settlement_id == found.settlement_id
    assert sandbox.settlements == 1
    assert sandbox.balances[person.person_number] == before - 1_000
    with pytest.raises(InsuranceRefused) as other:
        await client.settle(order, pay_auth_no="AUTH-1", shares=InsuranceShares(fund=2_000, personal_account=1_000))
    assert other.value.code == "ORDER_ALREADY_SETTLED"


async def test_r_pay_05_a_6202_lost_before_it_was_applied_leaves_the_order_uploaded() -> None:
    sandbox = platform(SandboxFaults(timeout_rate=1.0, applied_before_timeout_rate=0.0))
    person = employee(sandbox)
    client = MobilePayment(sandbox, org_code="H1")
    order = await upload(client, person)
    with pytest.raises(InsuranceTimeout):
        await client.settle(order, pay_auth_no="AUTH-1", shares=InsuranceShares(fund=3_000, personal_account=0))
    assert (await client.query(order.pay_order_id)).status == "uploaded"
    assert sandbox.settlements == 0


async def test_r_pay_06_partial_then_full_refund_returns_each_share_never_more() -> None:
    sandbox = platform()
    person = employee(sandbox)
    client = MobilePayment(sandbox, org_code="H1")
    before = await balance_from_1101(sandbox, person)
    order = await upload(client, person)
    await client.settle(order, pay_auth_no="AUTH-1", shares=InsuranceShares(fund=3_000, personal_account=1_200))
    part = InsuranceShares(fund=1_000, personal_account=200)
    partly = await client.refund(order.pay_order_id, reference="RF-1", amounts=part)
    assert partly.status == "partly_refunded"
    assert sandbox.balances[person.person_number] == before - 1_000
    again = await client.refund(order.pay_order_id, reference="RF-1", amounts=part)
    assert again.status == "partly_refunded"
    assert sandbox.balances[person.person_number] == before - 1_000
    over = InsuranceShares(fund=0, personal_account=1_001)
    with pytest.raises(InsuranceRefused) as too_much:
        await client.refund(order.pay_order_id, reference="RF-2", amounts=over)
    assert too_much.value.code == "REFUND_AMOUNT_EXCEEDED"
    rest = await client.refund(order.pay_order_id, reference="RF-3")
    assert rest.status == "refunded"
    assert sandbox.balances[person.person_number] == before
    with pytest.raises(InsuranceRefused):
        await client.refund(order.pay_order_id, reference="RF-4")


async def test_r_pay_04_an_unsettled_upload_is_revoked_and_cannot_be_settled() -> None:
    sandbox = platform()
    person = employee(sandbox)
    client = MobilePayment(sandbox, org_code="H1")
    order = await upload(client, person)
    assert (await client.revoke(order.pay_order_id)).status == "revoked"
    with pytest.raises(InsuranceRefused):
        await client.settle(order, pay_auth_no="AUTH-1", shares=InsuranceShares(fund=1_000, personal_account=0))


async def test_mutual_aid_moves_the_family_members_account() -> None:
    """The slot for family mutual aid (家庭共济): the member's account pays ``acct_mulaid_pay``."""
    sandbox = platform()
    person = employee(sandbox)
    others = [
        sandbox.person(n, m)
        for n, m in sandbox.population(200)
        if sandbox.person(n, m).scheme_code == "310" and sandbox.person(n, m).person_number != person.person_number
    ]
    member = next(p for p in others if p.case == "ordinary" and p.balance_fen >= 1_000)
    member_before = await balance_from_1101(sandbox, member)
    client = MobilePayment(sandbox, org_code="H1")
    order = await upload(client, person)
    shares = InsuranceShares(fund=3_000, personal_account=0, mutual_aid=1_000)
    settled = await client.settle(order, pay_auth_no="AUTH-1", shares=shares, mutual_aid_person=member.person_number)
    assert (settled.mutual_aid, settled.own_pay) == (1_000, 1_000)
    assert await balance_from_1101(sandbox, member) == member_before - 1_000


async def test_upload_refuses_an_unknown_person_and_bad_items() -> None:
    sandbox = platform()
    person = employee(sandbox)
    client = MobilePayment(sandbox, org_code="H1")
    with pytest.raises(InsuranceRefused) as unknown:
        await client.upload(
            person_number="WRONG",
            document_number=person.document_number,
            name=person.name,
            pay_auth_no="A",
            order_reference="B",
            items=ITEMS,
        )
    assert unknown.value.code == "PERSON_NOT_FOUND"
    data = {
        "orgCodg": "H1",
        "psnNo": person.person_number,
        "idNo": person.document_number,
        "userName": person.name,
        "payAuthNo": "A",
        "medOrgOrd": "B2",
        "feedetail": [{"feedetlSn": "1", "medListCodg": "X", "pric": "1.00", "cnt": 2, "detItemFeeSumamt": "3.00"}],
    }
    answer = await sandbox.upload_fees({"infno": "6201", "input": {"data": data}})
    assert answer["output"]["err_code"] == "FEE_DETAIL_INVALID"


def test_r_pay_01_yuan_strings_become_fen_without_rounding() -> None:
    assert fen_from_yuan("12.34") == 1_234
    assert fen_from_yuan("0.1") == 10
    assert fen_from_yuan(12) == 1_200
    with pytest.raises(ValueError):
        fen_from_yuan("0.001")
    with pytest.raises(ValueError):
        fen_from_yuan("abc")


async def test_r_pay_08_the_platform_statement_lists_settlements_and_refunds_of_the_day() -> None:
    clock.freeze(datetime(2026, 11, 30, 3, 0, tzinfo=UTC))
    sandbox = platform()
    person = employee(sandbox)
    client = MobilePayment(sandbox, org_code="H1")
    order = await upload(client, person)
    sandbox.faults = SandboxFaults(timeout_rate=1.0, applied_before_timeout_rate=1.0)
    with pytest.raises(InsuranceTimeout):
        await client.settle(order, pay_auth_no="AUTH-1", shares=InsuranceShares(fund=3_000, personal_account=1_200))
    sandbox.faults = SandboxFaults()
    await client.refund(order.pay_order_id, reference="RF-s", amounts=InsuranceShares(fund=500, personal_account=0))
    lines = await client.statement(date(2026, 11, 30))
    assert [(line.kind, line.fund, line.personal_account, line.reference) for line in lines] == [
        ("settle", 3_000, 1_200, None),
        ("refund", 500, 0, "RF-s"),
    ]
    assert lines[0].settlement_id
    assert await client.statement(date(2000, 1, 1)) == []


def test_settings_choose_the_insurance_faults() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, sandbox_insurance_timeout_rate=0.25, sandbox_applied_before_timeout_rate=0.75
    )
    built = sandbox_adapters(settings).insurance
    assert isinstance(built, SandboxInsurancePlatform)
    assert (built.faults.timeout_rate, built.faults.applied_before_timeout_rate) == (0.25, 0.75)
