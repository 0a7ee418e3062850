"""R-CARD-08: the physical card's fee is settled before the card leaves the kiosk — paid through
the payment channel or from the deposit, or deliberately deferred to the window."""

from __future__ import annotations

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.channel import SandboxChannel
from medcard.audit.service import Actor
from medcard.kit.clock import CHINA, clock
from medcard.ledger.repository import LedgerRepository
from medcard.models import Account, Card, PhysicalCard
from medcard.settlement import reconciliation, wallet
from tests.kiosk.conftest import IssuedCard

ISSUE = "/api/v1/kiosk/physical-cards"


async def _cards(db: AsyncSession, issued: IssuedCard) -> list[PhysicalCard]:
    return list((await db.scalars(select(PhysicalCard).where(PhysicalCard.card_id == issued.card_id))).all())


async def _balanced(db: AsyncSession) -> None:
    repository = LedgerRepository(db)
    assert await repository.total() == 0
    assert await repository.drift() == []


async def test_r_card_08_no_card_leaves_the_kiosk_before_the_fee_is_settled_or_deferred(
    client: httpx.AsyncClient, db: AsyncSession, issued: IssuedCard, kiosk: dict[str, str]
) -> None:
    refused = await client.post(ISSUE, json={"code": issued.code}, headers=kiosk)
    assert refused.status_code == 422
    assert refused.json()["code"] == "CARD_FEE_PAYMENT_REQUIRED"
    assert await _cards(db, issued) == []
    page = await client.post("/kiosk/scan", data={"code": issued.code}, headers=kiosk)
    assert 'id="fee-channel"' in page.text and 'id="fee-deposit"' in page.text and 'id="fee-window"' in page.text


async def test_r_card_08_fee_paid_through_the_channel_before_the_card_is_issued(
    client: httpx.AsyncClient, db: AsyncSession, adapters: Adapters, issued: IssuedCard, kiosk: dict[str, str]
) -> None:
    sandbox = adapters.channel
    assert isinstance(sandbox, SandboxChannel)
    account = await db.get(Account, (await db.get(Card, issued.card_id)).account_id)  # type: ignore[union-attr]
    assert account is not None
    openid = account.openid
    before = sandbox.wallet(openid)
    answer = await client.post(ISSUE, json={"code": issued.code, "fee_payment": "channel"}, headers=kiosk)
    assert answer.status_code == 201, answer.text
    assert answer.json()["physical_card"]["fee_status"] == "paid"
    assert sandbox.wallet(openid) == before - 1000
    await _balanced(db)
    today = clock.now().astimezone(CHINA).date()
    report = await reconciliation.reconcile(db, day=today, adapters=adapters, actor=Actor.system("test"))
    assert report.channel_lines == 1 and report.state == "balanced"  # the fee is in the ledger too
    page = await client.post("/kiosk/scan", data={"code": issued.code}, headers=kiosk)
    assert page.status_code == 200


async def test_r_card_08_fee_from_the_deposit_or_refused_when_the_deposit_is_short(
    client: httpx.AsyncClient, db: AsyncSession, adapters: Adapters, issued: IssuedCard, kiosk: dict[str, str]
) -> None:
    short = await client.post(ISSUE, json={"code": issued.code, "fee_payment": "deposit"}, headers=kiosk)
    assert short.status_code == 409 and short.json()["code"] == "INSUFFICIENT_FUNDS"
    assert await _cards(db, issued) == []
    card = await db.get(Card, issued.card_id)
    assert card is not None
    await wallet.top_up(db, card=card, amount_fen=2_500, key="deposit-fee-1", actor=Actor.system("test"),
                        adapters=adapters)  # fmt: skip
    paid = await client.post(ISSUE, json={"code": issued.code, "fee_payment": "deposit"}, headers=kiosk)
    assert paid.status_code == 201, paid.text
    assert paid.json()["physical_card"]["fee_status"] == "paid"
    card = await db.get(Card, issued.card_id)
    assert card is not None
    assert (await wallet.wallet(db, card=card)).deposit_fen == 1_500
    await _balanced(db)
