"""The finance console (R-PAY-08: reconciliation report; pending and expired orders; deferred
reimbursements due) and refunds in the pages (R-PAY-06): the staff refund page (full or
partial, back to each source, idempotent) and the patient's refund of an online order."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.kit.clock import CHINA, clock
from tests.factories import bearer, staff_token
from tests.settlement.conftest import MakePayer, Payer, add_bill, books_balance, channel, key

ORDERS = "/api/v1/settlement/orders"


@pytest.fixture
async def finance(client: httpx.AsyncClient) -> dict[str, str]:
    return bearer(await staff_token(client, "finance1"))


async def _pay(client: httpx.AsyncClient, payer: Payer, bill_number: str, name: str) -> dict[str, object]:
    body = {"card_id": payer.card_id, "bill_number": bill_number}
    answer: dict[str, object] = (await client.post(ORDERS, json=body, headers={**payer.headers, **key(name)})).json()
    return answer


async def test_r_pay_08_finance_console_lists_pending_orders_and_runs_the_reconciliation(
    client: httpx.AsyncClient,
    adapters: Adapters,
    make_payer: MakePayer,
    finance: dict[str, str],
    cashier: dict[str, str],
    no_credit: None,
) -> None:
    home = await client.get("/console", headers=finance)
    assert 'href="/console/finance"' in home.text  # navigation link for the finance role
    payer = await make_payer(bind=False)
    channel(adapters).set_wallet(payer.openid, 0)
    bill = add_bill(adapters, payer, ("C", 10_000))
    assert (await _pay(client, payer, bill.bill_no, "p1"))["code"] == "PAYMENT_PENDING"
    lost = next(number for number, kept in channel(adapters).orders.items() if kept.request.total_fee == 10_000)
    channel(adapters).set_wallet(payer.openid, 50_000)
    await channel(adapters).pay(lost)  # charged there, the answer never reached MedCard
    console = await client.get("/console/finance", headers=finance)
    assert console.status_code == 200
    pending = console.text.split('id="pending"')[1].split('id="expired"')[0]
    assert bill.bill_no in pending and "CHANNEL_NOTENOUGH" in pending
    today = clock.now().astimezone(CHINA).date().isoformat()
    run = await client.post("/console/finance/reconcile", data={"day": today}, headers=finance)
    assert run.status_code == 303
    report = await client.get(run.headers["location"], headers=finance)
    assert report.status_code == 200
    assert 'data-kind="lost_answer"' in report.text and lost in report.text
    assert "¥100.00" in report.text
    listed = await client.get("/console/finance", headers=finance)
    assert run.headers["location"] in listed.text  # the stored report is listed
    assert (await client.get("/console/finance", headers=cashier)).status_code == 403  # last: a refusal rolls back


async def test_r_ins_04_finance_console_lists_deferred_reimbursements_due(
    client: httpx.AsyncClient, adapters: Adapters, make_payer: MakePayer, finance: dict[str, str], no_credit: None
) -> None:
    payer = await make_payer(sequence=45)  # resident: deferred scheme
    order = await _pay(client, payer, add_bill(adapters, payer, ("A", 50_000)).bill_no, "d1")
    assert order["state"] == "paid"
    assert order["funding"]["deferred_fund_fen"] > 0  # type: ignore[index]
    console = await client.get("/console/finance", headers=finance)
    due = console.text.split('id="reimbursement-list"')[1]
    assert str(order["bill_number"]) in due
    assert str(order["reimburse_on"]) in due
    paid = console.text.split('id="paid-list"')[1]
    assert f'href="/console/orders/{order["id"]}/refund"' in paid  # the finance office finds it to refund


async def test_r_pay_06_staff_refund_page_partial_then_full_back_to_each_source(
    client: httpx.AsyncClient,
    adapters: Adapters,
    db: AsyncSession,
    make_payer: MakePayer,
    cashier: dict[str, str],
    no_credit: None,
) -> None:
    payer = await make_payer(bind=False)
    order = await _pay(client, payer, add_bill(adapters, payer, ("C", 20_000)).bill_no, "s1")
    assert order["state"] == "paid"
    url = f"/console/orders/{order['id']}/refund"
    form_page = await client.get(url, headers=cashier)
    assert form_page.status_code == 200 and "¥200.00" in form_page.text
    found = re.search(r'name="key" value="([^"]+)"', form_page.text)
    assert found is not None
    form = {"key": found.group(1), "mode": "partial", "amount": "50", "reason": "退一项检查"}
    done = await client.post(url, data=form, headers=cashier, follow_redirects=True)
    assert [r.status_code for r in done.history] == [303], done.text  # Post/Redirect/Get (issue 9)
    assert 'id="refund-done"' in done.text and "¥50.00" in done.text
    again = await client.post(url, data=form, headers=cashier, follow_redirects=True)  # a double submit refunds once
    assert again.status_code == 200
    assert 'id="refundable"><strong>¥150.00' in again.text
    rest = await client.post(
        url, data={"key": "second-refund-key", "mode": "full", "reason": "全退"}, headers=cashier, follow_redirects=True
    )
    assert "¥150.00" in rest.text
    final = (await client.get(f"{ORDERS}/{order['id']}", headers=payer.headers)).json()
    assert final["refunded"]["channel"] == 20_000  # all back through the channel it came from
    assert channel(adapters).wallet(payer.openid) == 5_000_000
    other = await make_payer(bind=False, sequence=9, name="外院人")
    assert (await client.get(f"/console/orders/{order['id']}/refund", headers=other.headers)).status_code in (
        303,
        401,
        403,
    )
    await books_balance(db)


async def test_r_pay_06_patient_refunds_an_online_order_in_full(
    client: httpx.AsyncClient, adapters: Adapters, db: AsyncSession, make_payer: MakePayer, no_credit: None
) -> None:
    payer = await make_payer(sequence=5)
    order = await _pay(client, payer, add_bill(adapters, payer, ("A", 50_000), ("C", 5_000)).bill_no, "o1")
    page = await client.get(f"/payments/{order['id']}", headers=payer.headers)
    assert 'id="refund-request"' in page.text
    done = await client.post(f"/payments/{order['id']}/refund", data={"key": "patient-refund-1"}, headers=payer.headers)
    assert done.status_code == 303
    final = (await client.get(f"{ORDERS}/{order['id']}", headers=payer.headers)).json()
    funding = final["funding"]
    assert final["refunded"].get("fund", 0) == funding["fund_fen"]
    assert final["refunded"].get("personal_account", 0) == funding["personal_account_fen"]
    assert final["refunded"].get("channel", 0) == funding["self_pay_fen"]
    again = await client.post(
        f"/payments/{order['id']}/refund", data={"key": "patient-refund-1"}, headers=payer.headers
    )
    assert again.status_code == 303  # the same key finds the same refund
    other = await make_payer(sequence=6, name="孙其他")
    refused = await client.post(f"/payments/{order['id']}/refund", data={"key": "x-refund-22"}, headers=other.headers)
    assert refused.status_code == 404
    await books_balance(db)
