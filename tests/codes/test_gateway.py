"""The code gateway (docs/adr/0005): concurrent issue and redeem requests share one transaction,
so N requests cost the statements of one (R-SEC-02). Work is proven by counting the SQL
statements sent, never by timing."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine

from medcard.codes.gateway import CodeGateway, IssueCall, RedeemCall
from medcard.errors import MedCardError
from tests.codes.conftest import Holder, new_code, redeem
from tests.factories import staff_token
from tests.support import statements

REDEEM_STATEMENTS = 6
"""Login, code lookup with the profile lock, consume with the card facts, payments so far, amounts, audit rows."""
ISSUE_STATEMENTS = 3
"""Login with the cards it owns, the profile state and the issue-rate counts; codes; audit rows."""


def _token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def _gateway(app: FastAPI) -> CodeGateway:
    gateway: CodeGateway = app.state.code_gateway
    return gateway


async def test_r_sec_02_concurrent_redeems_cost_the_statements_of_one(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, holder: Holder, cashier: dict[str, str]
) -> None:
    """R-SEC-02: one redeem costs a fixed set of statements; eight arriving together share one
    transaction and cost the same set, not eight times it."""
    codes = [await new_code(client, holder) for _ in range(5)]
    with statements(engine) as alone:
        assert (await redeem(client, cashier, codes[0], amount_fen=100)).status_code == 200
    assert len(alone) == REDEEM_STATEMENTS, alone
    calls = [RedeemCall(token=_token(cashier), text=code, amount_fen=100) for code in codes[1:]]
    with statements(engine) as together:
        results = await asyncio.gather(*(_gateway(app).redeem(call) for call in calls))
    assert [result.amount_fen for result in results] == [100] * 4
    assert len(together) == len(alone)


async def test_r_sec_02_concurrent_issues_cost_the_statements_of_one(
    app: FastAPI, client: httpx.AsyncClient, engine: AsyncEngine, holder: Holder
) -> None:
    """R-SEC-02: the same for issuing: a patient page's request alone, or six at once."""
    await new_code(client, holder)  # the first code ever also creates the holder's security profile
    with statements(engine) as alone:
        await new_code(client, holder)
    assert len(alone) == ISSUE_STATEMENTS, "\n".join(alone)
    call = IssueCall(token=_token(holder.headers), card_id=holder.card_id)
    with statements(engine) as together:
        issued = await asyncio.gather(*(_gateway(app).issue(call) for _ in range(6)))
    assert len({code.code for code in issued}) == 6
    assert len(together) == len(alone)


async def test_r_sec_02_one_code_scanned_twice_in_one_batch_pays_once(
    app: FastAPI, client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str], pharmacy: dict[str, str]
) -> None:
    """R-SEC-02: two POS scanning the same code at the same moment land in one batch; exactly one pays."""
    code = await new_code(client, holder)
    calls = [RedeemCall(token=_token(headers), text=code, amount_fen=100) for headers in (cashier, pharmacy)]
    outcomes = await asyncio.gather(*(_gateway(app).redeem(call) for call in calls), return_exceptions=True)
    refused = [outcome for outcome in outcomes if isinstance(outcome, MedCardError)]
    assert len(refused) == 1 and refused[0].code == "PAYMENT_CODE_USED"


async def test_r_sec_01_each_request_in_a_batch_gets_its_own_answer(
    app: FastAPI, client: httpx.AsyncClient, holder: Holder, cashier: dict[str, str]
) -> None:
    """R-SEC-01/02: a dead login, a kiosk (no paying role) and a good POS in one batch: 401, 403, paid."""
    code = await new_code(client, holder)
    calls = [
        RedeemCall(token="not-a-session", text=code, amount_fen=100),
        RedeemCall(token=await staff_token(client, "kiosk1"), text=code, amount_fen=100),
        RedeemCall(token=_token(cashier), text=code, amount_fen=100),
    ]
    outcomes = await asyncio.gather(*(_gateway(app).redeem(call) for call in calls), return_exceptions=True)
    assert [getattr(outcome, "status", 200) for outcome in outcomes] == [401, 403, 200]
