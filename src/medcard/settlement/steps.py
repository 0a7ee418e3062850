"""The outside steps of a payment: the insurance platform (6201 upload, 6202 settle, 6301
query after a timeout — never a blind second 6202) and the payment channel (one order per
≤ 300-yuan payment; a timeout is followed by a query, a failed order by a new one).

Each step returns a failure code or None, and records what it learnt on the order and its
payment rows, so a retry of the same order resumes where the last attempt stopped."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from medcard.adapters import Adapters
from medcard.adapters.channel import ChannelError, ChannelOrder, ChannelTimeout, OrderRequest
from medcard.adapters.insurance import InsuranceTimeout
from medcard.adapters.insurance_payment import FeeItem, InsuranceRefused, InsuranceShares, MobilePayment
from medcard.errors import present
from medcard.kit.ids import new_id
from medcard.models import ChannelPayment, PaymentOrder
from medcard.settlement.facts import Payer
from medcard.settlement.repository import SettlementRepository


class Payable(Protocol):
    """A channel payment as the steps read and update it: the ORM row, or a gateway's row."""

    order_id: uuid.UUID | None
    account_id: uuid.UUID
    purpose: str
    out_trade_no: str
    amount_fen: int
    state: str


@dataclass
class PaymentRow:
    """A channel payment row as the payment gateway holds it (no ORM object per payment)."""

    id: uuid.UUID
    order_id: uuid.UUID | None
    account_id: uuid.UUID
    purpose: str
    out_trade_no: str
    amount_fen: int
    state: str = "created"

    def values(self) -> dict[str, Any]:
        return dict(self.__dict__)


def needs_insurance(order: PaymentOrder) -> bool:
    funding = order.funding
    shares = ("fund_fen", "personal_account_fen", "family_mutual_aid_fen")
    return sum(int(funding.get(name, 0)) for name in shares) > 0


async def insurance_step(
    order: PaymentOrder, payer: Payer, adapters: Adapters, *, mutual_aid_person: str | None = None
) -> str | None:
    """Settle the fund, personal-account and family mutual-aid shares with the platform, once
    (``mutual_aid_person``: the relative whose personal account pays the mutual-aid share)."""
    if order.insurance_state == "settled" or not needs_insurance(order):
        return None
    binding = present(payer.binding, "payer.binding")
    mobile = MobilePayment(adapters.insurance, org_code=payer.hospital.code)
    items = [
        FeeItem(f"{index:04d}", item["code"], item["name"], item["unit_price"], item["quantity"])
        for index, item in enumerate(order.items)
    ]
    shares = InsuranceShares(
        fund=int(order.funding["fund_fen"]),
        personal_account=int(order.funding["personal_account_fen"]),
        mutual_aid=int(order.funding.get("family_mutual_aid_fen", 0)),
        deductible=order.deductible_fen,
    )
    try:
        uploaded = await mobile.upload(
            person_number=binding.platform_person_number,
            document_number=payer.person.document_number,
            name=payer.person.name,
            pay_auth_no=binding.voucher_token,
            order_reference=str(order.id),
            items=items,
        )
        order.insurance_order_id = uploaded.pay_order_id
        await mobile.settle(uploaded, pay_auth_no=binding.voucher_token, shares=shares,
                            mutual_aid_person=mutual_aid_person)  # fmt: skip
    except InsuranceTimeout:
        if order.insurance_order_id is None or (await mobile.query(order.insurance_order_id)).status != "settled":
            return "INSURANCE_UNKNOWN"
    except InsuranceRefused as refused:
        return f"INSURANCE_{refused.code}"[:48]
    order.insurance_state = "settled"
    return None


def out_trade_no(order_id: uuid.UUID, seq: int, attempt: int) -> str:
    return f"MC{order_id.hex[:24]}{seq:02d}{attempt:02d}"


async def channel_step(session: AsyncSession, order: PaymentOrder, payer: Payer, adapters: Adapters) -> str | None:
    """Charge every unpaid channel payment of the order; stop at the first that does not pay."""
    failure, replacement = await charge_in_turn(await SettlementRepository(session).payments(order.id), payer, adapters)
    if replacement is not None:
        session.add(ChannelPayment(**replacement.values()))
    await session.flush()
    return failure


async def charge_in_turn(
    payments: Sequence[Payable], payer: Payer, adapters: Adapters
) -> tuple[str | None, PaymentRow | None]:
    """Charge an order's unpaid channel payments in turn and stop at the first that does not
    pay: its failure code, and the new payment row to try next time when the channel closed
    that one (PAYERROR: the channel wants a new order). The rows' states are set, not written."""
    for payment in payments:
        if payment.state in {"paid", "closed"}:
            continue
        failure = await charge(payment, payer, adapters, order_type="REG_PAY")
        if failure == "PAYERROR":
            payment.state = "closed"
            return f"CHANNEL_{failure}", _replacement(payment)
        if failure:
            return f"CHANNEL_{failure}", None
    return None, None


def _replacement(payment: Payable) -> PaymentRow:
    attempt = int(payment.out_trade_no[-2:]) + 1
    return PaymentRow(new_id(), payment.order_id, payment.account_id, payment.purpose,
                      payment.out_trade_no[:-2] + f"{attempt:02d}", payment.amount_fen)  # fmt: skip


async def charge(payment: Payable, payer: Payer, adapters: Adapters, *, order_type: str) -> str | None:
    """One channel payment: create (or find) the order, pay it; a timeout asks the channel."""
    request = OrderRequest(
        out_trade_no=payment.out_trade_no,
        mix_pay_type="CASH_ONLY",
        order_type="REG_PAY" if order_type == "REG_PAY" else "DIAG_PAY",
        payer_openid=payer.account.openid,
        total_fee=payment.amount_fen,
        med_ins_cash_fee=payment.amount_fen,
        med_inst_no=payer.hospital.code,
    )
    channel = adapters.channel
    try:
        await channel.create_order(request)
        answer: ChannelOrder = await channel.pay(payment.out_trade_no)
    except ChannelTimeout:
        try:
            answer = await channel.query_order(payment.out_trade_no)
        except ChannelError:  # the create itself was lost: nothing charged, retry later
            return "UNKNOWN"
    except ChannelError as error:
        if error.code != "ORDERPAID":
            payment.state = "failed" if error.code == "PAYERROR" else "created"
            return error.code
        answer = await channel.query_order(payment.out_trade_no)
    if answer.state != "paid":
        return "UNKNOWN" if answer.state in {"created", "paying"} else answer.state.upper()
    payment.state = "paid"
    return None
