"""The physical card's fee (工本费, R-CARD-08) collected before the card leaves the kiosk: through
the payment channel (the patient pays on the phone), from the deposit at the hospital (预交金),
or deliberately deferred to the cashier's window (``deferred``). A free card is ``waived``.

Paid fees are ledger entries (kind ``card_fee``): the channel or the deposit gives, the
hospital's receivable gets. The channel payment's number comes from the physical card's serial,
so the reconciliation finds it; the charge is the last outside step of the issuance, and a
refusal (a short deposit, a declined charge) leaves no card issued."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.ledger import service as ledger
from medcard.ledger.rules import Leg
from medcard.models import Card, ChannelPayment, PhysicalCard
from medcard.settlement import facts, steps
from medcard.settlement.errors import ChannelRefused

FeePayment = Literal["channel", "deposit", "window"]
FEE_PAYMENTS: tuple[str, ...] = ("channel", "deposit", "window")


async def collect(
    session: AsyncSession, *, card: Card, physical_card: PhysicalCard, how: FeePayment, adapters: Adapters
) -> str:
    """Collect the fee ``how`` the patient chose; returns the card's ``fee_status``."""
    fee = physical_card.fee_fen
    if fee == 0:
        return "waived"
    if how == "window":
        return "deferred"
    payer = await facts.payer_of(session, card)
    accounts = await facts.accounts_of(session, payer, None)
    receivable = Leg(accounts.ids["hospital"], fee, "hospital")
    if how == "deposit":  # refused with INSUFFICIENT_FUNDS when the deposit is short
        legs = [Leg(accounts.ids["deposit"], -fee, "deposit"), receivable]
        await ledger.post(session, kind="card_fee", legs=legs, reference=("physical_card", physical_card.id))
        return "paid"
    payment = ChannelPayment(account_id=card.account_id, purpose="card_fee",
                             out_trade_no=f"CF{physical_card.serial}0000", amount_fen=fee)  # fmt: skip
    session.add(payment)
    failure = await steps.charge(payment, payer, adapters, order_type="DIAG_PAY")
    await session.flush()
    if failure:
        raise ChannelRefused(channel_code=failure)
    legs = [Leg(accounts.ids["channel"], -fee, "channel"), receivable]
    await ledger.post(session, kind="card_fee", legs=legs, reference=("channel_payment", payment.id))
    return "paid"
