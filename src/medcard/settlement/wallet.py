"""The patient's money at one hospital: deposit top-up (预交金, R-CARD-09), the credit line of
treat-first-pay-later (先诊疗后付费, R-CARD-10) and its repayment, the personal-account mirror.

Cash comes in through the channel in payments of at most 300 yuan (R-PAY-03); each paid
payment is posted at once, so a failure half way keeps what was paid. The key makes a retried
top-up charge nothing twice: its payments are numbered from it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.audit.service import Actor, record
from medcard.kit.money import format_yuan
from medcard.ledger import service as ledger
from medcard.ledger.repository import LedgerRepository
from medcard.ledger.rules import Leg
from medcard.models import Card, ChannelPayment
from medcard.settlement import facts, rules, steps
from medcard.settlement.errors import ChannelRefused, CreditNotOffered, KeyReused, RepaymentTooLarge
from medcard.settlement.repository import SettlementRepository


@dataclass(frozen=True)
class Wallet:
    """Balances as the patient's page shows them (fen)."""

    deposit_fen: int
    credit_enabled: bool
    credit_limit_fen: int
    credit_owed_fen: int
    personal_account_fen: int | None


async def wallet(session: AsyncSession, *, card: Card) -> Wallet:
    payer = await facts.payer_of(session, card)
    accounts = await facts.accounts_of(session, payer, None)
    states = await LedgerRepository(session).balances(list(accounts.ids.values()))

    def balance(source: str) -> int | None:
        account_id = accounts.get(source)
        return states[account_id].balance_fen if account_id in states else None

    hospital = payer.hospital
    return Wallet(
        deposit_fen=balance("deposit") or 0,
        credit_enabled=hospital.credit_enabled,
        credit_limit_fen=hospital.credit_limit_fen if hospital.credit_enabled else 0,
        credit_owed_fen=-(balance("credit_line") or 0),
        personal_account_fen=balance("personal_account"),
    )


async def top_up(
    session: AsyncSession, *, card: Card, amount_fen: int, key: str, actor: Actor, adapters: Adapters
) -> Wallet:
    """Add ``amount_fen`` to the card's deposit at its hospital through the channel."""
    await _cash_in(session, card=card, amount_fen=amount_fen, key=key, target="deposit", adapters=adapters)
    await record(session, actor=actor, action="settlement.deposit_top_up", subject=card,
                 hospital_id=card.hospital_id, details={"amount_fen": amount_fen})  # fmt: skip
    return await wallet(session, card=card)


async def repay_credit(
    session: AsyncSession, *, card: Card, amount_fen: int, key: str, actor: Actor, adapters: Adapters
) -> Wallet:
    """Pay back ``amount_fen`` of what the credit line owes (never more than owed)."""
    current = await wallet(session, card=card)
    if not current.credit_enabled:
        raise CreditNotOffered()
    if amount_fen > current.credit_owed_fen:
        raise RepaymentTooLarge(field="amount_fen", owed_yuan=format_yuan(current.credit_owed_fen))
    await _cash_in(session, card=card, amount_fen=amount_fen, key=key, target="credit_line", adapters=adapters)
    await record(session, actor=actor, action="settlement.credit_repaid", subject=card,
                 hospital_id=card.hospital_id, details={"amount_fen": amount_fen})  # fmt: skip
    return await wallet(session, card=card)


async def _cash_in(
    session: AsyncSession, *, card: Card, amount_fen: int, key: str, target: str, adapters: Adapters
) -> None:
    payer = await facts.payer_of(session, card)
    accounts = await facts.accounts_of(session, payer, None)
    repository = SettlementRepository(session)
    base = ("TU" if target == "deposit" else "RP") + hashlib.sha256(f"{card.id}|{key}".encode()).hexdigest()[:26]
    for seq, part in enumerate(rules.channel_payments(amount_fen)):
        payment = await repository.payment_by_number(f"{base}{seq:02d}00")
        if payment is not None and payment.amount_fen != part:
            raise KeyReused(field="idempotency_key")
        if payment is not None and payment.state == "paid":
            continue
        if payment is None:
            purpose = "top_up" if target == "deposit" else "repayment"
            payment = ChannelPayment(account_id=card.account_id, purpose=purpose,
                                     out_trade_no=f"{base}{seq:02d}00", amount_fen=part)  # fmt: skip
            session.add(payment)
        failure = await steps.charge(payment, payer, adapters, order_type="DIAG_PAY")
        await session.flush()
        if failure:
            raise ChannelRefused(channel_code=failure, keep_changes=True)
        legs = [Leg(accounts.ids["channel"], -part, "channel"), Leg(accounts.ids[target], part, target)]
        await ledger.post(session, kind="top_up" if target == "deposit" else "repayment", legs=legs,
                          reference=("channel_payment", payment.id))  # fmt: skip
