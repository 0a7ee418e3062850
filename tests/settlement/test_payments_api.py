"""Paying HIS bills through the API, as a patient online and at the POS: the split shown
before paying, the order of funds, channel payments of at most 300 yuan, idempotent retries,
pending orders that expire, refunds per source, deferred reimbursement, deposit and credit.
Each test ends with the books balanced (R-PAY-01)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.his import HisBill
from medcard.adapters.insurance import SandboxInsurancePlatform
from medcard.adapters.sms import SandboxSms
from medcard.audit.service import Actor
from medcard.kit import side_effects
from medcard.kit.clock import CHINA, clock
from medcard.models import Card, LedgerAccount
from medcard.policy import rules as policy_rules
from medcard.policy import service as policy
from medcard.settlement import jobs, service
from medcard.settlement.errors import InsuranceRefusedPayment
from tests.factories import Demo
from tests.settlement.conftest import MakePayer, Payer, add_bill, books_balance, channel, key

QUOTE, ORDERS = "/api/v1/settlement/quote", "/api/v1/settlement/orders"


async def _pay(client: httpx.AsyncClient, payer: Payer, bill_number: str, name: str = "k1") -> httpx.Response:
    body = {"card_id": payer.card_id, "bill_number": bill_number}
    return await client.post(ORDERS, json=body, headers={**payer.headers, **key(name)})


async def test_r_pay_02_employee_bill_split_shown_then_paid(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, make_payer: MakePayer, no_credit: None
) -> None:
    """Fund share after the deductible, then the personal account (the platform's balance),
    then self-pay; the quote the patient confirms is what the order takes."""
    payer = await make_payer(sequence=5)
    bill = add_bill(adapters, payer, ("A", 50_000))
    quoted = await client.post(QUOTE, json={"card_id": payer.card_id, "bill_number": bill.bill_no},
                               headers=payer.headers)  # fmt: skip
    assert quoted.status_code == 200, quoted.text
    funding = quoted.json()["funding"]
    assert funding["fund_fen"] == 21_000  # (500 − 200 deductible) × 70 %
    assert quoted.json()["split"]["policy_version"].startswith("scheme:310@1")
    paid = await _pay(client, payer, bill.bill_no)
    assert paid.status_code == 200, paid.text
    order = paid.json()
    assert order["state"] == "paid", order
    assert order["funding"] == funding
    assert sum(v for k, v in funding.items() if k != "deferred_fund_fen") == 50_000
    await books_balance(db)


async def test_r_pay_03_self_pay_over_300_yuan_becomes_several_channel_payments(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, make_payer: MakePayer, no_credit: None
) -> None:
    payer = await make_payer(bind=False)
    bill = add_bill(adapters, payer, ("C", 70_000))
    before = channel(adapters).charges
    order = (await _pay(client, payer, bill.bill_no)).json()
    assert order["state"] == "paid"
    assert order["funding"]["self_pay_fen"] == 70_000
    assert channel(adapters).charges - before == 3  # 300 + 300 + 100 yuan
    await books_balance(db)


async def test_r_pay_05_same_key_same_order_no_second_charge(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, make_payer: MakePayer, no_credit: None
) -> None:
    payer = await make_payer(bind=False)
    bill = add_bill(adapters, payer, ("C", 10_000))
    other = add_bill(adapters, payer, ("C", 5_000))
    first = await _pay(client, payer, bill.bill_no, "same")
    charges = channel(adapters).charges
    again = await _pay(client, payer, bill.bill_no, "same")
    assert again.json()["id"] == first.json()["id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert channel(adapters).charges == charges
    reused = await _pay(client, payer, other.bill_no, "same")
    assert reused.status_code == 422
    assert reused.json()["code"] == "IDEMPOTENCY_KEY_REUSED"
    twice = await _pay(client, payer, bill.bill_no, "new-key")
    assert twice.json()["code"] == "BILL_ALREADY_PAID"
    await books_balance(db)


async def test_r_pay_04_failed_channel_keeps_pending_then_expiry_releases_every_hold(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, make_payer: MakePayer, demo: Demo
) -> None:
    """Credit line and channel: the channel refuses (no money), the order stays pending with
    the credit line held; 15 minutes later the expiry releases it."""
    payer = await make_payer(bind=False)
    channel(adapters).set_wallet(payer.openid, 0)
    bill = add_bill(adapters, payer, ("C", 250_000))  # 2000 yuan credit + 500 yuan self-pay
    refused = await _pay(client, payer, bill.bill_no)
    assert (refused.status_code, refused.json()["code"]) == (402, "PAYMENT_PENDING")
    order = (await client.get(ORDERS, headers=payer.headers)).json()[0]
    assert order["state"] == "pending"
    assert order["failure_code"] == "CHANNEL_NOTENOUGH"
    assert order["funding"]["credit_line_fen"] == 200_000
    wallet = (await client.get("/api/v1/settlement/wallet", params={"card_id": payer.card_id},
                               headers=payer.headers)).json()  # fmt: skip
    assert wallet["credit_owed_fen"] == 0  # held, not posted
    assert await jobs.expire_due(db, adapters=adapters, now=clock.now()) == 0
    assert await jobs.expire_due(db, adapters=adapters, now=clock.now() + timedelta(minutes=16)) == 1
    expired = (await client.get(f"{ORDERS}/{order['id']}", headers=payer.headers)).json()
    assert expired["state"] == "expired"
    again = add_bill(adapters, payer, ("C", 200_000))
    channel(adapters).set_wallet(payer.openid, 10_000_000)
    assert (await _pay(client, payer, again.bill_no, "k2")).json()["funding"]["credit_line_fen"] == 200_000
    await books_balance(db)


async def test_r_pay_07_retry_after_the_money_arrived_pays_once(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, make_payer: MakePayer, no_credit: None
) -> None:
    payer = await make_payer(bind=False)
    openid = payer.openid
    channel(adapters).set_wallet(openid, 0)
    bill = add_bill(adapters, payer, ("C", 40_000))
    refused = await _pay(client, payer, bill.bill_no, "r1")
    assert refused.json()["code"] == "PAYMENT_PENDING"
    pending = (await client.get(ORDERS, headers=payer.headers)).json()[0]
    assert pending["state"] == "pending"
    channel(adapters).set_wallet(openid, 100_000)
    paid = (await _pay(client, payer, bill.bill_no, "r1")).json()
    assert (paid["id"], paid["state"]) == (pending["id"], "paid")
    assert channel(adapters).wallet(openid) == 60_000
    await books_balance(db)


async def test_r_pay_06_partial_then_full_refund_back_to_each_source(
    client: httpx.AsyncClient,
    adapters: Adapters,
    db: AsyncSession,
    make_payer: MakePayer,
    cashier: dict[str, str],
    no_credit: None,
) -> None:
    """…and the HIS is told: its bill is partially refunded, then refunded (and not payable)."""
    payer = await make_payer(sequence=5)
    bill = add_bill(adapters, payer, ("A", 60_000))
    order = (await _pay(client, payer, bill.bill_no)).json()
    assert order["state"] == "paid"

    async def his_bill() -> HisBill:
        bills = await adapters.his.bills(hospital_code="H110001", patient_id=payer.his_patient_id)
        return next(b for b in bills if b.bill_no == bill.bill_no)

    url = f"{ORDERS}/{order['id']}/refunds"
    part = await client.post(url, json={"amount_fen": 10_000}, headers={**cashier, **key("r1")})
    assert part.status_code == 200, part.text
    assert sum(part.json()["amounts"].values()) == 10_000
    same = await client.post(url, json={"amount_fen": 10_000}, headers={**cashier, **key("r1")})
    assert same.json()["id"] == part.json()["id"]
    assert ((await his_bill()).status, (await his_bill()).refunded_fen) == ("partially_refunded", 10_000)
    rest = await client.post(url, json={}, headers={**cashier, **key("r2")})
    assert rest.json()["total_fen"] == 50_000
    assert ((await his_bill()).status, (await his_bill()).refunded_fen) == ("refunded", 60_000)
    again = await _pay(client, payer, bill.bill_no, name="k9")
    assert again.json()["code"] == "BILL_ALREADY_PAID"
    final = (await client.get(f"{ORDERS}/{order['id']}", headers=payer.headers)).json()
    gave = {"fund": "fund_fen", "personal_account": "personal_account_fen", "channel": "self_pay_fen"}
    for source, field in gave.items():
        assert final["refunded"].get(source, 0) == order["funding"][field]
    more = await client.post(url, json={"amount_fen": 1}, headers={**cashier, **key("r3")})
    assert more.json()["code"] == "REFUND_TOO_LARGE"
    await books_balance(db)


async def test_r_ins_04_resident_pays_all_now_and_is_reimbursed_after_three_working_days(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, make_payer: MakePayer, no_credit: None
) -> None:
    payer = await make_payer(sequence=45, name="孙居民")
    bill = add_bill(adapters, payer, ("A", 30_000))
    order = (await _pay(client, payer, bill.bill_no)).json()
    assert order["state"] == "paid"
    deferred = order["funding"]["deferred_fund_fen"]
    assert deferred == 10_000  # (300 − 100 deductible) × 50 %
    assert order["funding"]["self_pay_fen"] == 30_000
    today = clock.now().astimezone(CHINA).date()
    due = policy_rules.add_working_days(today, 3, await policy.calendar(db, on=today))
    assert order["reimburse_on"] == due.isoformat()
    assert await jobs.reimburse_due(db, adapters=adapters, now=clock.now()) == 0
    later = clock.now() + timedelta(days=(due - today).days)
    assert await jobs.reimburse_due(db, adapters=adapters, now=later) == 1
    assert await jobs.reimburse_due(db, adapters=adapters, now=later) == 0
    await side_effects.run(db)  # what the job's unit of work runs after its commit
    assert isinstance(adapters.sms, SandboxSms)
    notice = adapters.sms.last_to(payer.phone)
    assert notice is not None and notice.template == "reimbursed" and "100.00" in notice.text
    final = (await client.get(f"{ORDERS}/{order['id']}", headers=payer.headers)).json()
    assert final["reimbursed_at"] is not None
    await books_balance(db)


async def test_r_card_09_deposit_top_up_pays_the_next_bill(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, make_payer: MakePayer, no_credit: None
) -> None:
    payer = await make_payer(bind=False)
    body = {"card_id": payer.card_id, "amount_fen": 50_000}
    topped = await client.post("/api/v1/settlement/deposit", json=body, headers={**payer.headers, **key("t1")})
    assert topped.status_code == 200, topped.text
    assert topped.json()["deposit_fen"] == 50_000
    again = await client.post("/api/v1/settlement/deposit", json=body, headers={**payer.headers, **key("t1")})
    assert again.json()["deposit_fen"] == 50_000  # same key: nothing charged twice
    bill = add_bill(adapters, payer, ("C", 20_000))
    order = (await _pay(client, payer, bill.bill_no)).json()
    assert (order["funding"]["deposit_fen"], order["funding"]["self_pay_fen"]) == (20_000, 0)
    await books_balance(db)


async def test_r_card_10_credit_line_then_repayment(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, make_payer: MakePayer
) -> None:
    payer = await make_payer(bind=False)
    bill = add_bill(adapters, payer, ("C", 150_000))
    order = (await _pay(client, payer, bill.bill_no)).json()
    assert (order["funding"]["credit_line_fen"], order["funding"]["self_pay_fen"]) == (150_000, 0)
    url = "/api/v1/settlement/credit/repay"
    too_much = await client.post(url, json={"card_id": payer.card_id, "amount_fen": 150_001},
                                 headers={**payer.headers, **key("p0")})  # fmt: skip
    assert too_much.json()["code"] == "REPAYMENT_TOO_LARGE"
    repaid = await client.post(url, json={"card_id": payer.card_id, "amount_fen": 100_000},
                               headers={**payer.headers, **key("p1")})  # fmt: skip
    assert repaid.json()["credit_owed_fen"] == 50_000
    await books_balance(db)


async def test_r_card_10_the_credit_line_is_each_patients_own(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, make_payer: MakePayer
) -> None:
    """The hospital sets the limit (≤ 2,000 yuan, per hospital); each patient owes on a line of
    his own: two patients of one hospital each defer 1,500 yuan, and one patient's second
    1,500-yuan bill finds only 500 yuan left on his line (the rest goes to self-pay)."""
    first, second = await make_payer(sequence=11, bind=False), await make_payer(sequence=12, bind=False, name="孙信用")
    for payer in (first, second):
        bill = add_bill(adapters, payer, ("C", 150_000))
        order = (await _pay(client, payer, bill.bill_no)).json()
        assert (order["funding"]["credit_line_fen"], order["funding"]["self_pay_fen"]) == (150_000, 0)
    more = add_bill(adapters, first, ("C", 150_000))
    order = (await _pay(client, first, more.bill_no, name="k2")).json()
    assert (order["funding"]["credit_line_fen"], order["funding"]["self_pay_fen"]) == (50_000, 100_000)
    await books_balance(db)


async def test_r_pay_09_pos_charges_a_bill_after_redeeming_the_code(
    client: httpx.AsyncClient,
    adapters: Adapters,
    db: AsyncSession,
    make_payer: MakePayer,
    cashier: dict[str, str],
    no_credit: None,
) -> None:
    payer = await make_payer(sequence=5)
    bill = add_bill(adapters, payer, ("A", 8_000), ("C", 1_000))
    code = (await client.post("/api/v1/codes/payment", json={"card_id": payer.card_id},
                              headers=payer.headers)).json()["code"]  # fmt: skip
    small = (await client.post("/api/v1/codes/redeem", json={"code": code, "amount_fen": 5_000},
                               headers=cashier)).json()  # fmt: skip
    body = {"verification_code": small["verification_code"], "bill_number": bill.bill_no}
    refused = await client.post("/api/v1/settlement/pos/charge", json=body, headers={**cashier, **key("pos1")})
    assert refused.status_code != 200  # the bill is above the code's ceiling
    code = (await client.post("/api/v1/codes/payment", json={"card_id": payer.card_id},
                              headers=payer.headers)).json()["code"]  # fmt: skip
    redeemed = (await client.post("/api/v1/codes/redeem", json={"code": code, "amount_fen": 9_000},
                                  headers=cashier)).json()  # fmt: skip
    body["verification_code"] = redeemed["verification_code"]
    charged = await client.post("/api/v1/settlement/pos/charge", json=body, headers={**cashier, **key("pos2")})
    assert charged.status_code == 200, charged.text
    assert (charged.json()["state"], charged.json()["scenario"], charged.json()["total_fen"]) == (
        "paid",
        "counter",
        9_000,
    )
    await books_balance(db)


async def test_r_card_09_an_inpatient_deposit_bill_fills_the_deposit_that_later_bills_draw_on(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, make_payer: MakePayer, no_credit: None
) -> None:
    """住院预交金 is prepaid money: paying it raises the patient's deposit (never sent to the
    insurance), and the next bill is paid from it."""
    payer = await make_payer(sequence=5)
    deposit_bill = add_bill(adapters, payer, ("C", 100_000), kind="inpatient_deposit")
    order = (await _pay(client, payer, deposit_bill.bill_no)).json()
    assert (order["state"], order["funding"]["fund_fen"], order["funding"]["self_pay_fen"]) == ("paid", 0, 100_000)
    wallet = (await client.get("/api/v1/settlement/wallet", params={"card_id": payer.card_id},
                               headers=payer.headers)).json()  # fmt: skip
    assert wallet["deposit_fen"] == 100_000
    fee = add_bill(adapters, payer, ("C", 30_000))
    paid = (await _pay(client, payer, fee.bill_no, "k2")).json()
    assert paid["funding"]["deposit_fen"] + paid["funding"]["personal_account_fen"] == 30_000
    await books_balance(db)


async def test_r_pay_04_expiry_gives_back_a_charge_whose_answer_was_lost(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, make_payer: MakePayer, no_credit: None
) -> None:
    """The channel charged although MedCard never heard so (a lost answer, a crash): the expiry
    asks the channel before closing, finds the charge and refunds it; the hold is released."""
    payer = await make_payer(bind=False)
    sandbox = channel(adapters)
    sandbox.set_wallet(payer.openid, 0)
    bill = add_bill(adapters, payer, ("C", 10_000))
    assert (await _pay(client, payer, bill.bill_no)).json()["code"] == "PAYMENT_PENDING"
    order = (await client.get(ORDERS, headers=payer.headers)).json()[0]
    out_trade_no = next(number for number, kept in sandbox.orders.items() if kept.request.total_fee == 10_000)
    sandbox.set_wallet(payer.openid, 50_000)
    await sandbox.pay(out_trade_no)  # charged at the channel; MedCard's row still says created
    assert sandbox.wallet(payer.openid) == 40_000
    assert await jobs.expire_due(db, adapters=adapters, now=clock.now() + timedelta(minutes=16)) == 1
    assert sandbox.wallet(payer.openid) == 50_000
    final = (await client.get(f"{ORDERS}/{order['id']}", headers=payer.headers)).json()
    assert final["state"] == "expired"
    await books_balance(db)


async def test_r_pay_02_insurance_refusing_a_stale_personal_account_share_releases_every_hold(
    db: AsyncSession, adapters: Adapters, make_payer: MakePayer, no_credit: None
) -> None:
    """The personal account held less at the platform than its mirror said when the split was
    made: 6202 refuses, the order expires at once (holds released, the upload revoked) and the
    patient is told to pay again rather than wait 15 minutes."""
    payer = await make_payer(sequence=5)
    bill = add_bill(adapters, payer, ("A", 50_000))
    card = await db.get(Card, uuid.UUID(payer.card_id))
    assert card is not None
    platform = adapters.insurance
    assert isinstance(platform, SandboxInsurancePlatform)

    async def checkpoint(point: str) -> None:
        await db.commit()
        for person in platform.balances:  # spent elsewhere between the split and the settlement
            platform.balances[person] = 0

    order = await service.pay(db, card=card, bill_number=bill.bill_no, scenario="online", key="stale-1",
                              actor=Actor.system("test"), adapters=adapters, checkpoint=checkpoint)  # fmt: skip
    assert order.funding["personal_account_fen"] > 0
    assert (order.state, order.failure_code) == ("expired", "INSURANCE_PSN_ACCT_INSUFFICIENT")
    with pytest.raises(InsuranceRefusedPayment):
        service.settled(order)
    assert await db.scalar(select(func.coalesce(func.sum(LedgerAccount.held_fen), 0))) == 0
    await books_balance(db)


async def test_r_pay_06_a_refunded_bill_gives_back_its_deductible_and_fund_share_for_the_year(
    client: httpx.AsyncClient,
    adapters: Adapters,
    db: AsyncSession,
    make_payer: MakePayer,
    cashier: dict[str, str],
    no_credit: None,
) -> None:
    """The year-to-date amounts the deductible and the caps read are net of refunds: once the
    first bill is refunded in full, the next bill bears the deductible again and its fund share
    is what it would have been without the first (R-PAY-06 with the deductible rule)."""
    payer = await make_payer(sequence=7)
    first, second = add_bill(adapters, payer, ("A", 50_000)), add_bill(adapters, payer, ("A", 50_000))

    async def quote() -> dict[str, int]:
        quoted = await client.post(QUOTE, json={"card_id": payer.card_id, "bill_number": second.bill_no},
                                   headers=payer.headers)  # fmt: skip
        return quoted.json()["funding"]

    alone = await quote()
    assert alone["fund_fen"] == 21_000  # (500 − 200 deductible) × 70 %
    order = (await _pay(client, payer, first.bill_no)).json()
    assert order["state"] == "paid" and order["funding"]["fund_fen"] == 21_000
    assert (await quote())["fund_fen"] == 35_000  # the deductible is borne: 500 × 70 %
    refunded = await client.post(f"{ORDERS}/{order['id']}/refunds", json={}, headers={**cashier, **key("all")})
    assert refunded.status_code == 200, refunded.text
    assert (await quote())["fund_fen"] == alone["fund_fen"]  # the refunded bill no longer counts
    await books_balance(db)
