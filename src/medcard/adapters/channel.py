"""The messaging app's payment channel for medical-insurance orders (医保移动支付订单).

The channel's API is ``/v3/med-ins/orders``: an order carries ``mix_pay_type``
(``CASH_ONLY`` / ``INSURANCE_ONLY`` / ``CASH_AND_INSURANCE``), ``order_type`` (``REG_PAY``
registration, ``DIAG_PAY`` diagnosis and treatment), ``pay_for_relatives`` with a ``relative``,
the insurance platform's ``pay_order_id`` (from 6201) and ``pay_auth_no``, and the amounts in
integer fen: ``total_fee`` = ``med_ins_gov_fee`` (pooled fund) + ``med_ins_self_fee`` (personal
account) + ``med_ins_other_fee`` (family mutual aid) + ``med_ins_cash_fee`` (the cash the
channel charges). MedCard's request and answer objects keep those field names, and
``message()`` renders the channel's JSON.

An order moves ``created → paying → paid`` or ``failed``; a refund moves a paid order through
``refunding`` to ``refunded`` once everything charged went back (a partial refund leaves it
``paid`` with ``refunded_fee`` > 0); an unpaid order may be ``closed``. ``statement(day)``
lists the day's charges and refunds (the channel's 交易账单) for the reconciliation. The channel refuses a
cash charge above 300 yuan per payment (``RULE_LIMIT``, R-PAY-03).

The sandbox keeps every order and refund in memory, so a query after a timeout tells the truth:
a timed-out charge may have been applied (the order is ``paid``) or not (still ``created``,
safe to pay again). Faults come from :class:`SandboxFaults`, deterministic under the seed:
lost answers, declined charges, and "insufficient balance" while the payer has the money
(``NOTENOUGH``, transient: the same order pays when retried, R-PAY-07).

Error codes (the channel's own): ``RULE_LIMIT``, ``PARAM_ERROR``, ``OUT_TRADE_NO_USED``,
``ORDER_NOT_EXIST``, ``ORDERPAID``, ``ORDER_CLOSED``, ``USERPAYING``, ``NOTENOUGH``,
``PAYERROR``, ``REFUND_AMOUNT_EXCEEDED``, ``REFUND_NOT_EXIST``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, NoReturn, Protocol

from medcard.adapters.sandbox import SandboxBehaviour, SandboxFaults
from medcard.kit.clock import CHINA, clock
from medcard.kit.crypto import sm3_hex

CHANNEL_LIMIT_FEN = 30_000
"""The channel's ceiling for one cash payment: 300 yuan (R-PAY-03)."""
DEFAULT_WALLET_FEN = 5_000_000
"""What a sandbox payer holds unless a test sets it (50,000 yuan)."""

MixPayType = Literal["CASH_ONLY", "INSURANCE_ONLY", "CASH_AND_INSURANCE"]
OrderType = Literal["REG_PAY", "DIAG_PAY"]
OrderState = Literal["created", "paying", "paid", "failed", "refunding", "refunded", "closed"]
RefundState = Literal["refunding", "refunded"]

# The channel's ``mix_pay_status`` for each state.
MIX_PAY_STATUS: dict[str, str] = {
    "created": "MIX_PAY_CREATED",
    "paying": "MIX_PAY_PAYING",
    "paid": "MIX_PAY_SUCCESS",
    "failed": "MIX_PAY_FAIL",
    "refunding": "MIX_PAY_REFUNDING",
    "refunded": "MIX_PAY_REFUND",
    "closed": "MIX_PAY_CLOSED",
}


class ChannelTimeout(Exception):
    """The channel did not answer in time: the outcome is unknown. Query the order (or refund)
    before doing anything else; never retry the charge blindly."""

    def __init__(self, operation: str, reference: str) -> None:
        self.operation = operation
        self.reference = reference
        super().__init__(f"channel {operation} timed out for {reference}")


class ChannelError(Exception):
    """The channel refused. ``retryable``: the same request may succeed later (``NOTENOUGH``
    while the balance is there, ``USERPAYING``); otherwise it will not."""

    def __init__(self, code: str, message: str, *, retryable: bool = False) -> None:
        self.code = code
        self.message = message
        self.retryable = retryable
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class Relative:
    """The family member a ``pay_for_relatives`` order pays for (亲属代付)."""

    name: str
    id_number: str
    relation: str


@dataclass(frozen=True)
class OrderRequest:
    """``POST /v3/med-ins/orders``: what MedCard asks the channel to collect (amounts in fen)."""

    out_trade_no: str
    mix_pay_type: MixPayType
    order_type: OrderType
    payer_openid: str
    total_fee: int
    med_ins_cash_fee: int
    med_ins_gov_fee: int = 0
    med_ins_self_fee: int = 0
    med_ins_other_fee: int = 0
    pay_order_id: str | None = None
    pay_auth_no: str | None = None
    pay_for_relatives: bool = False
    relative: Relative | None = None
    med_inst_no: str = ""
    attach: str = ""

    def message(self) -> dict[str, Any]:
        """The channel's JSON body."""
        body: dict[str, Any] = {
            "out_trade_no": self.out_trade_no,
            "mix_pay_type": self.mix_pay_type,
            "order_type": self.order_type,
            "payer": {"openid": self.payer_openid},
            "total_fee": self.total_fee,
            "med_ins_gov_fee": self.med_ins_gov_fee,
            "med_ins_self_fee": self.med_ins_self_fee,
            "med_ins_other_fee": self.med_ins_other_fee,
            "med_ins_cash_fee": self.med_ins_cash_fee,
            "pay_for_relatives": self.pay_for_relatives,
            "med_inst_no": self.med_inst_no,
            "attach": self.attach,
        }
        if self.pay_order_id:
            body["pay_order_id"] = self.pay_order_id
            body["pay_auth_no"] = self.pay_auth_no
        if self.relative:
            body["relative"] = {
                "name": self.relative.name,
                "card_no": self.relative.id_number,
                "relation": self.relative.relation,
            }
        return body


@dataclass(frozen=True)
class ChannelOrder:
    """The channel's view of one order (``GET /v3/med-ins/orders/out-trade-no/{no}``)."""

    med_trans_id: str
    request: OrderRequest
    state: OrderState
    refunded_fee: int = 0
    paid_time: datetime | None = None
    failure_code: str | None = None

    @property
    def out_trade_no(self) -> str:
        return self.request.out_trade_no

    @property
    def refundable_fee(self) -> int:
        return self.request.med_ins_cash_fee - self.refunded_fee if self.state in {"paid", "refunding"} else 0

    def message(self) -> dict[str, Any]:
        """The channel's JSON answer."""
        return {
            **self.request.message(),
            "med_trans_id": self.med_trans_id,
            "mix_pay_status": MIX_PAY_STATUS[self.state],
            "self_pay_status": _self_pay_status(self),
            "paid_time": self.paid_time.isoformat() if self.paid_time else None,
            "refund_fee": self.refunded_fee,
        }


@dataclass(frozen=True)
class ChannelRefund:
    """One refund of a paid order (``out_refund_no`` is MedCard's, unique)."""

    out_refund_no: str
    out_trade_no: str
    refund_id: str
    amount: int
    state: RefundState
    reason: str = ""

    def message(self) -> dict[str, Any]:
        return {
            "out_refund_no": self.out_refund_no,
            "out_trade_no": self.out_trade_no,
            "refund_id": self.refund_id,
            "refund_fee": self.amount,
            "status": "SUCCESS" if self.state == "refunded" else "PROCESSING",
            "reason": self.reason,
        }


@dataclass(frozen=True)
class StatementLine:
    """One money movement in the channel's daily statement (交易账单): a charge or a refund."""

    kind: Literal["charge", "refund"]
    out_trade_no: str
    med_trans_id: str
    amount: int
    at: datetime
    out_refund_no: str | None = None


class PaymentChannel(Protocol):
    """The messaging app's medical-insurance order API."""

    async def create_order(self, request: OrderRequest) -> ChannelOrder: ...

    async def pay(self, out_trade_no: str) -> ChannelOrder: ...

    async def query_order(self, out_trade_no: str) -> ChannelOrder: ...

    async def refund(
        self, out_trade_no: str, *, out_refund_no: str, amount: int, reason: str = ""
    ) -> ChannelRefund: ...

    async def query_refund(self, out_refund_no: str) -> ChannelRefund: ...

    async def close_order(self, out_trade_no: str) -> ChannelOrder: ...

    async def statement(self, day: date) -> list[StatementLine]: ...


def validate(request: OrderRequest) -> None:
    """The channel's checks on a new order; raises :class:`ChannelError`."""
    amounts = (
        request.total_fee,
        request.med_ins_cash_fee,
        request.med_ins_gov_fee,
        request.med_ins_self_fee,
        request.med_ins_other_fee,
    )
    if any(amount < 0 for amount in amounts):
        raise ChannelError("PARAM_ERROR", "金额不能为负")
    insurance = request.med_ins_gov_fee + request.med_ins_self_fee + request.med_ins_other_fee
    if request.total_fee != insurance + request.med_ins_cash_fee or request.total_fee == 0:
        raise ChannelError("PARAM_ERROR", "订单总金额与各部分金额之和不一致")
    if request.mix_pay_type == "CASH_ONLY" and (insurance or request.pay_order_id):
        raise ChannelError("PARAM_ERROR", "纯自费订单不能包含医保金额")
    if request.mix_pay_type == "INSURANCE_ONLY" and request.med_ins_cash_fee:
        raise ChannelError("PARAM_ERROR", "纯医保订单不能包含自费金额")
    if request.mix_pay_type != "CASH_ONLY" and not (request.pay_order_id and request.pay_auth_no):
        raise ChannelError("PARAM_ERROR", "医保订单需要 pay_order_id 与 pay_auth_no")
    if request.pay_for_relatives != (request.relative is not None):
        raise ChannelError("PARAM_ERROR", "亲属代付需要填写亲属信息")
    if request.med_ins_cash_fee > CHANNEL_LIMIT_FEN:
        raise ChannelError("RULE_LIMIT", "单笔支付金额超过 300 元限额")


@dataclass
class _Order:
    med_trans_id: str
    request: OrderRequest
    state: OrderState = "created"
    refunded_fee: int = 0
    paid_time: datetime | None = None
    failure_code: str | None = None
    pay_attempts: int = 0
    refunds: list[str] = field(default_factory=list)

    def snapshot(self) -> ChannelOrder:
        return ChannelOrder(
            med_trans_id=self.med_trans_id,
            request=self.request,
            state=self.state,
            refunded_fee=self.refunded_fee,
            paid_time=self.paid_time,
            failure_code=self.failure_code,
        )


class SandboxChannel:
    """In-memory channel with the real one's states, limit, latency and faults."""

    def __init__(self, behaviour: SandboxBehaviour, faults: SandboxFaults | None = None) -> None:
        self.behaviour = behaviour
        self.faults = faults or SandboxFaults()
        self.orders: dict[str, _Order] = {}
        self.refunds: dict[str, ChannelRefund] = {}
        self.wallets: dict[str, int] = {}
        self.charges = 0
        """Cash charges actually applied (a test's proof that nothing was charged twice)."""
        self.movements: list[StatementLine] = []
        self.messages = 0

    def set_wallet(self, openid: str, fen: int) -> None:
        """What the payer can spend (tests)."""
        self.wallets[openid] = fen

    def wallet(self, openid: str) -> int:
        return self.wallets.setdefault(openid, DEFAULT_WALLET_FEN)

    async def create_order(self, request: OrderRequest) -> ChannelOrder:
        """Create (or, for the same ``out_trade_no`` and the same body, return) an order."""
        self.messages += 1
        await self.behaviour.wait(0.15, "create", request.out_trade_no)
        validate(request)
        existing = self.orders.get(request.out_trade_no)
        if existing is not None:
            if existing.request != request:
                raise ChannelError("OUT_TRADE_NO_USED", "商户订单号重复且内容不同")
            return existing.snapshot()
        digest = sm3_hex(f"{self.behaviour.seed}|med-trans|{request.out_trade_no}")
        order = _Order(med_trans_id="MT" + digest[:30].upper(), request=request)
        self.orders[request.out_trade_no] = order
        return order.snapshot()

    async def pay(self, out_trade_no: str) -> ChannelOrder:
        """Charge the order's cash part (nothing for ``INSURANCE_ONLY``): ``paid`` or ``failed``,
        or a refusal that leaves it ``created``, or a :class:`ChannelTimeout`."""
        self.messages += 1
        order = self._order(out_trade_no)
        if order.state in {"paid", "refunding", "refunded"}:
            raise ChannelError("ORDERPAID", "订单已支付")
        if order.state == "closed":
            raise ChannelError("ORDER_CLOSED", "订单已关闭")
        if order.state == "failed":
            raise ChannelError("PAYERROR", "订单支付失败，请重新下单")
        if order.state == "paying":
            raise ChannelError("USERPAYING", "订单支付中", retryable=True)
        order.pay_attempts += 1
        attempt = order.pay_attempts
        order.state = "paying"
        try:
            await self.behaviour.wait(0.8, "pay", out_trade_no, attempt)
        except asyncio.CancelledError:
            order.state = "created"
            raise
        cash = order.request.med_ins_cash_fee
        openid = order.request.payer_openid
        roll = self._roll("pay", out_trade_no, attempt)
        if roll.timed_out and (not roll.applied or self.wallet(openid) < cash):
            order.state = "created"  # lost before the charge: paying again is safe
            await self._time_out("pay", out_trade_no, attempt)
        if not roll.timed_out:
            self._refuse_charge(order, attempt)
        self.wallets[openid] = self.wallet(openid) - cash
        self.charges += 1 if cash else 0
        order.state = "paid"
        order.paid_time = clock.now()
        if cash:
            self.movements.append(StatementLine("charge", out_trade_no, order.med_trans_id, cash, order.paid_time))
        if roll.timed_out:  # charged, but the answer is lost
            await self._time_out("pay", out_trade_no, attempt)
        return order.snapshot()

    def _refuse_charge(self, order: _Order, attempt: int) -> None:
        """The refusals a charge that reached the channel may meet."""
        cash = order.request.med_ins_cash_fee
        reference = order.request.out_trade_no
        if cash and self.behaviour.chance("false-notenough", reference, attempt) < self.faults.false_insufficient_rate:
            order.state = "created"
            raise ChannelError("NOTENOUGH", "用户余额不足", retryable=True)
        if cash and self.wallet(order.request.payer_openid) < cash:
            order.state = "created"
            raise ChannelError("NOTENOUGH", "用户余额不足")
        if self.behaviour.chance("payerror", reference, attempt) < self.faults.failure_rate:
            order.state = "failed"
            order.failure_code = "PAYERROR"
            raise ChannelError("PAYERROR", "支付失败，请重新下单")

    async def query_order(self, out_trade_no: str) -> ChannelOrder:
        """The truth about an order (always answers: queries are cheap and retried freely)."""
        self.messages += 1
        await self.behaviour.wait(0.1, "query", out_trade_no)
        return self._order(out_trade_no).snapshot()

    async def refund(self, out_trade_no: str, *, out_refund_no: str, amount: int, reason: str = "") -> ChannelRefund:
        """Return ``amount`` fen of the cash charged; never more than charged minus refunded.
        The same ``out_refund_no`` with the same amount returns the refund already made."""
        self.messages += 1
        order = self._order(out_trade_no)
        done = self.refunds.get(out_refund_no)
        if done is not None:
            if done.out_trade_no != out_trade_no or done.amount != amount:
                raise ChannelError("PARAM_ERROR", "退款单号重复且内容不同")
            return done
        if order.state not in {"paid", "refunding"}:
            code = "ORDER_CLOSED" if order.state in {"closed", "refunded"} else "PARAM_ERROR"
            raise ChannelError(code, "订单未支付或已全额退款")
        if amount <= 0 or amount > order.request.med_ins_cash_fee - order.refunded_fee:
            raise ChannelError("REFUND_AMOUNT_EXCEEDED", "退款金额超过可退金额")
        count = len(order.refunds) + 1
        order.state = "refunding"
        await self.behaviour.wait(0.5, "refund", out_refund_no)
        roll = self._roll("refund", out_refund_no, count)
        if roll.timed_out and not roll.applied:
            order.state = "paid"
            await self._time_out("refund", out_refund_no, count)
        digest = sm3_hex(f"{self.behaviour.seed}|refund|{out_refund_no}")
        refund = ChannelRefund(
            out_refund_no=out_refund_no,
            out_trade_no=out_trade_no,
            refund_id="RF" + digest[:30].upper(),
            amount=amount,
            state="refunded",
            reason=reason,
        )
        self.refunds[out_refund_no] = refund
        order.refunds.append(out_refund_no)
        order.refunded_fee += amount
        self.movements.append(
            StatementLine("refund", out_trade_no, order.med_trans_id, amount, clock.now(), out_refund_no=out_refund_no)
        )
        openid = order.request.payer_openid
        self.wallets[openid] = self.wallet(openid) + amount
        order.state = "refunded" if order.refunded_fee == order.request.med_ins_cash_fee else "paid"
        if roll.timed_out:
            await self._time_out("refund", out_refund_no, count)
        return refund

    async def query_refund(self, out_refund_no: str) -> ChannelRefund:
        self.messages += 1
        await self.behaviour.wait(0.1, "query-refund", out_refund_no)
        refund = self.refunds.get(out_refund_no)
        if refund is None:
            raise ChannelError("REFUND_NOT_EXIST", "退款单不存在")
        return refund

    async def close_order(self, out_trade_no: str) -> ChannelOrder:
        """Close an unpaid order so it can never be paid (an expired MedCard order, R-PAY-04)."""
        self.messages += 1
        order = self._order(out_trade_no)
        await self.behaviour.wait(0.1, "close", out_trade_no)
        if order.state in {"paid", "refunding", "refunded"}:
            raise ChannelError("ORDERPAID", "订单已支付，不能关闭")
        if order.state == "paying":
            raise ChannelError("USERPAYING", "订单支付中，稍后再试", retryable=True)
        order.state = "closed"
        return order.snapshot()

    async def statement(self, day: date) -> list[StatementLine]:
        """Every charge and refund of ``day`` (China time), as the channel's statement lists
        them — including those whose answer MedCard never received (reconciliation, R-PAY-08)."""
        self.messages += 1
        await self.behaviour.wait(1.0, "statement", day)
        return [line for line in self.movements if line.at.astimezone(CHINA).date() == day]

    def _order(self, out_trade_no: str) -> _Order:
        order = self.orders.get(out_trade_no)
        if order is None:
            raise ChannelError("ORDER_NOT_EXIST", "订单不存在")
        return order

    def _roll(self, operation: str, reference: str, attempt: int) -> _Roll:
        timed_out = self.behaviour.chance("timeout", operation, reference, attempt) < self.faults.timeout_rate
        applied = (
            self.behaviour.chance("applied", operation, reference, attempt) < self.faults.applied_before_timeout_rate
        )
        return _Roll(timed_out=timed_out, applied=applied)

    async def _time_out(self, operation: str, reference: str, attempt: int) -> NoReturn:
        await self.behaviour.wait(self.faults.timeout_seconds, "timeout", operation, reference, attempt)
        raise ChannelTimeout(operation, reference)


@dataclass(frozen=True)
class _Roll:
    timed_out: bool
    applied: bool


def _self_pay_status(order: ChannelOrder) -> str:
    if not order.request.med_ins_cash_fee:
        return "NO_SELF_PAY"
    return {
        "paid": "SELF_PAY_SUCCESS",
        "failed": "SELF_PAY_FAIL",
        "refunding": "SELF_PAY_REFUNDING",
        "refunded": "SELF_PAY_REFUND",
    }.get(order.state, "SELF_PAY_CREATED")


__all__ = [
    "CHANNEL_LIMIT_FEN",
    "ChannelError",
    "ChannelOrder",
    "ChannelRefund",
    "ChannelTimeout",
    "OrderRequest",
    "PaymentChannel",
    "Relative",
    "SandboxChannel",
    "StatementLine",
]
