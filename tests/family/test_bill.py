"""R-FAM-07: the monthly family bill — pure totals, and the page with pygal charts after a parent
paid his child's prescription (second confirmation) and an exam."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.config import Settings
from medcard.family import bill
from tests.family.test_confirmation import _bill, _pay, _self_pay, _ward_card
from tests.settlement.test_documents import text_of as pdf_text

__all__ = ["_self_pay"]  # the autouse fixture: no credit line, the bills are self-pay


def test_r_fam_07_totals_by_member_category_and_source_with_the_analysis() -> None:
    orders = [
        bill.Order("*小明", "drug", {"self_pay_fen": 12_500}, {}, (("阿莫西林", 12_500),)),
        bill.Order(
            "*伟",
            "exam",
            {"fund_fen": 21_000, "personal_account_fen": 9_000},
            {"personal_account": 1_000},
            (("胸部CT", 30_000),),
        ),
    ]
    result = bill.monthly_bill(orders, last_month_fen=20_000)
    assert result.total_fen == 41_500
    assert dict(result.by_member) == {"*小明": 12_500, "*伟": 29_000}
    assert dict(result.by_category) == {"drug": 12_500, "exam": 29_000}
    assert dict(result.by_source) == {"self_pay_fen": 12_500, "fund_fen": 21_000, "personal_account_fen": 8_000}
    assert result.insured_bp == 29_000 * 10_000 // 41_500
    assert result.change_bp == 10_750  # +107.5 %
    assert result.largest[0] == ("*伟", "胸部CT", 30_000)
    assert bill.monthly_bill([]).total_fen == 0 and bill.monthly_bill([]).change_bp is None


async def test_r_fam_07_the_family_bill_page_shows_the_childs_spending_with_charts(
    client: httpx.AsyncClient, holder: dict[str, str], settings: Settings, adapters: Adapters, db: AsyncSession
) -> None:
    card = await _ward_card(client, holder, settings, db)
    drug = (await _pay(client, holder, card, _bill(adapters, card, "drug"))).json()
    await client.post(f"/api/v1/family/confirmations/{drug['id']}", headers=holder)
    exam = (await _pay(client, holder, card, _bill(adapters, card, "exam"))).json()
    assert exam["state"] == "paid"
    page = await client.get("/family/bill?month=2026-11", headers=holder)
    assert page.status_code == 200
    assert "250.00" in page.text and "*小明" in page.text and 'id="chart-source"' in page.text
    assert "药品" in page.text and "自付" in page.text and 'id="insured-share"' in page.text
    chart = await client.get("/family/bill/2026-11/category.svg", headers=holder)
    assert chart.headers["content-type"].startswith("image/svg+xml")
    assert chart.text.lstrip().startswith("<svg") and "<script" not in chart.text and "药品" in chart.text
    assert ">按类别<" in chart.text  # its title, in the page language (was the first letter of the msgid)
    english = await client.get("/family/bill/2026-11/member.svg", headers={**holder, "Cookie": "medcard_lang=en"})
    assert ">By member<" in english.text
    assert 'href="/family/bill/2026-11.pdf"' in page.text  # the download link
    pdf = await client.get("/family/bill/2026-11.pdf", headers=holder)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdf_text(pdf.content)
    assert "亲情账单 2026-11" in text and "250.00" in text and "*小明" in text
    assert "药品" in text and "自付" in text and "按支付来源" in text and "医保共支付" in text
    empty = await client.get("/family/bill?month=2026-10", headers=holder)
    assert 'id="bill-empty"' in empty.text
    assert "没有已支付的账单" in pdf_text((await client.get("/family/bill/2026-10.pdf", headers=holder)).content)
    assert (await client.get("/family/bill/2026-11/other.svg", headers=holder)).status_code == 404
