"""Payment-code and POS pages (R-SEC-01, R-SEC-02)."""

from __future__ import annotations

import re

import httpx

from medcard.card import service as card_service
from medcard.config import Settings
from tests.codes.conftest import Holder


async def _fresh(client: httpx.AsyncClient, holder: Holder) -> str:
    response = await client.post(f"/codes/fresh?card_id={holder.card_id}", headers=holder.headers)
    assert response.status_code == 200, response.text
    found = re.search(r'data-code="(\d{18})"', response.text)
    assert found, response.text
    assert "<svg" in response.text and 'id="countdown"' in response.text
    return found.group(1)


async def _pos(client: httpx.AsyncClient, cashier: dict[str, str], code: str, amount: str = "50.00") -> httpx.Response:
    return await client.post("/console/pos", data={"code": code, "amount": amount}, headers=cashier)


async def test_r_sec_02_page_shows_a_code_that_refreshes(client: httpx.AsyncClient, holder: Holder) -> None:
    page = await client.get("/codes", headers=holder.headers)
    assert page.status_code == 200 and "付款码" in page.text and 'id="refresh-code"' in page.text
    first, second = await _fresh(client, holder), await _fresh(client, holder)
    assert first != second


async def test_r_sec_02_pos_page_accepts_a_code_once(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str]
) -> None:
    code = await _fresh(client, holder)
    accepted = await _pos(client, cashier, code)
    assert accepted.status_code == 200 and 'id="pos-result"' in accepted.text and "MCVA1." in accepted.text
    # the scan form is cleared for the next patient (issue 9); the result line keeps the amount
    assert 'required value=""' in accepted.text and "¥50.00" in accepted.text
    again = await _pos(client, cashier, code)
    assert again.status_code == 409 and 'data-code="PAYMENT_CODE_USED"' in again.text and "已使用" in again.text


async def test_r_sec_01_pos_page_refuses_the_display_code(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str], settings: Settings
) -> None:
    display = card_service.display_code(holder.card, settings=settings).text
    refused = await _pos(client, cashier, display)
    assert refused.status_code == 400 and "展示码" in refused.text


async def test_r_sec_02_pos_page_names_a_bad_amount(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str]
) -> None:
    code = await _fresh(client, holder)
    refused = await _pos(client, cashier, code, amount="12.345")
    assert refused.status_code == 422 and 'id="pos-amount"' in refused.text and "金额" in refused.text
    assert 'value="12.345"' in refused.text  # a refusal keeps what the cashier typed
    assert (await _pos(client, cashier, code)).status_code == 200  # a malformed amount did not burn the code


async def test_r_sec_02_menus_lead_to_the_code_pages(
    client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str]
) -> None:
    me = await client.get("/me", headers=holder.headers)
    assert 'id="go-codes"' in me.text and 'id="go-security"' in me.text
    console = await client.get("/console", headers=cashier)
    assert 'id="menu-pos"' in console.text and 'id="menu-loss-report"' not in console.text
