"""The payment channel sandbox: order states, the 300-yuan limit, refunds, faults and the truth
after a timeout (R-PAY-03, R-PAY-04, R-PAY-05, R-PAY-07)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest

from medcard.adapters import sandbox_adapters
from medcard.adapters.channel import (
    CHANNEL_LIMIT_FEN,
    ChannelError,
    ChannelTimeout,
    OrderRequest,
    Relative,
    SandboxChannel,
)
from medcard.adapters.sandbox import SandboxBehaviour, SandboxFaults
from medcard.config import Settings
from medcard.kit.clock import clock


def channel(faults: SandboxFaults | None = None, seed: int = 11) -> SandboxChannel:
    return SandboxChannel(SandboxBehaviour(seed=seed), faults)


def cash(out_trade_no: str, fen: int, openid: str = "o-patient") -> OrderRequest:
    return OrderRequest(
        out_trade_no=out_trade_no,
        mix_pay_type="CASH_ONLY",
        order_type="DIAG_PAY",
        payer_openid=openid,
        total_fee=fen,
        med_ins_cash_fee=fen,
    )


def mixed(out_trade_no: str) -> OrderRequest:
    return OrderRequest(
        out_trade_no=out_trade_no,
        mix_pay_type="CASH_AND_INSURANCE",
        order_type="REG_PAY",
        payer_openid="o-patient",
        total_fee=10_000,
        med_ins_gov_fee=6_000,
        med_ins_self_fee=2_500,
        med_ins_cash_fee=1_500,
        pay_order_id="ORD001",
        pay_auth_no="AUTH001",
    )


async def test_r_pay_03_channel_refuses_a_cash_payment_over_300_yuan() -> None:
    sandbox = channel()
    with pytest.raises(ChannelError) as refused:
        await sandbox.create_order(cash("T-over", CHANNEL_LIMIT_FEN + 1))
    assert refused.value.code == "RULE_LIMIT"
    assert not refused.value.retryable
    order = await sandbox.create_order(cash("T-limit", CHANNEL_LIMIT_FEN))
    assert order.state == "created"
    assert (await sandbox.pay("T-limit")).state == "paid"


async def test_r_pay_03_insurance_share_does_not_count_against_the_limit() -> None:
    """The limit is on the cash the channel charges; the fund and account shares are the platform's."""
    sandbox = channel()
    request = OrderRequest(
        out_trade_no="T-big-bill",
        mix_pay_type="CASH_AND_INSURANCE",
        order_type="DIAG_PAY",
        payer_openid="o-patient",
        total_fee=200_000,
        med_ins_gov_fee=150_000,
        med_ins_self_fee=20_000,
        med_ins_cash_fee=30_000,
        pay_order_id="ORD9",
        pay_auth_no="AUTH9",
    )
    assert (await sandbox.create_order(request)).state == "created"


async def test_order_states_created_paying_paid_and_the_channel_message() -> None:
    sandbox = channel()
    order = await sandbox.create_order(mixed("T-1"))
    assert order.state == "created"
    paid = await sandbox.pay("T-1")
    assert paid.state == "paid"
    assert paid.paid_time is not None
    message = paid.message()
    assert message["mix_pay_type"] == "CASH_AND_INSURANCE"
    assert message["mix_pay_status"] == "MIX_PAY_SUCCESS"
    assert message["self_pay_status"] == "SELF_PAY_SUCCESS"
    assert message["pay_order_id"] == "ORD001"
    assert message["med_ins_cash_fee"] == 1_500
    assert sandbox.wallet("o-patient") == 5_000_000 - 1_500
    with pytest.raises(ChannelError) as again:
        await sandbox.pay("T-1")
    assert again.value.code == "ORDERPAID"
    assert sandbox.charges == 1


async def test_insurance_only_order_charges_no_cash() -> None:
    sandbox = channel()
    request = OrderRequest(
        out_trade_no="T-ins",
        mix_pay_type="INSURANCE_ONLY",
        order_type="DIAG_PAY",
        payer_openid="o-patient",
        total_fee=5_000,
        med_ins_gov_fee=4_000,
        med_ins_self_fee=1_000,
        med_ins_cash_fee=0,
        pay_order_id="ORD2",
        pay_auth_no="AUTH2",
    )
    await sandbox.create_order(request)
    paid = await sandbox.pay("T-ins")
    assert paid.state == "paid"
    assert paid.message()["self_pay_status"] == "NO_SELF_PAY"
    assert sandbox.charges == 0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"total_fee": 9_999}, "parts do not add up"),
        ({"med_ins_cash_fee": 1_600, "total_fee": 10_100, "mix_pay_type": "INSURANCE_ONLY"}, "cash in insurance-only"),
        ({"pay_order_id": None}, "insurance without the platform's order"),
        ({"pay_for_relatives": True}, "relative missing"),
    ],
)
async def test_channel_refuses_malformed_orders(change: dict[str, object], reason: str) -> None:
    from dataclasses import replace

    with pytest.raises(ChannelError) as refused:
        await channel().create_order(replace(mixed("T-bad"), **change))  # type: ignore[arg-type]
    assert refused.value.code == "PARAM_ERROR", reason


async def test_pay_for_relatives_carries_the_relative() -> None:
    from dataclasses import replace

    request = replace(
        mixed("T-rel"), pay_for_relatives=True, relative=Relative(name="王芳", id_number="X", relation="parent")
    )
    order = await channel().create_order(request)
    assert order.message()["relative"]["relation"] == "parent"


async def test_r_pay_05_same_out_trade_no_returns_the_same_order_and_refuses_another_body() -> None:
    sandbox = channel()
    first = await sandbox.create_order(cash("T-dup", 1_000))
    assert (await sandbox.create_order(cash("T-dup", 1_000))).med_trans_id == first.med_trans_id
    with pytest.raises(ChannelError) as reused:
        await sandbox.create_order(cash("T-dup", 2_000))
    assert reused.value.code == "OUT_TRADE_NO_USED"
    assert len(sandbox.orders) == 1


async def test_refund_partial_then_full_never_more_than_paid() -> None:
    sandbox = channel()
    await sandbox.create_order(cash("T-r", 10_000))
    await sandbox.pay("T-r")
    first = await sandbox.refund("T-r", out_refund_no="R-1", amount=4_000)
    assert first.state == "refunded"
    order = await sandbox.query_order("T-r")
    assert (order.state, order.refunded_fee, order.refundable_fee) == ("paid", 4_000, 6_000)
    with pytest.raises(ChannelError) as too_much:
        await sandbox.refund("T-r", out_refund_no="R-2", amount=6_001)
    assert too_much.value.code == "REFUND_AMOUNT_EXCEEDED"
    # The same refund number is answered with the refund already made, not a second one.
    assert (await sandbox.refund("T-r", out_refund_no="R-1", amount=4_000)).refund_id == first.refund_id
    await sandbox.refund("T-r", out_refund_no="R-2", amount=6_000)
    order = await sandbox.query_order("T-r")
    assert (order.state, order.refunded_fee) == ("refunded", 10_000)
    assert order.message()["mix_pay_status"] == "MIX_PAY_REFUND"
    assert sandbox.wallet("o-patient") == 5_000_000
    with pytest.raises(ChannelError):
        await sandbox.refund("T-r", out_refund_no="R-3", amount=1)


async def test_refund_of_an_unpaid_order_is_refused() -> None:
    sandbox = channel()
    await sandbox.create_order(cash("T-u", 1_000))
    with pytest.raises(ChannelError):
        await sandbox.refund("T-u", out_refund_no="R-u", amount=1_000)


async def test_r_pay_04_close_an_unpaid_order_so_it_can_never_be_paid() -> None:
    sandbox = channel()
    await sandbox.create_order(cash("T-c", 1_000))
    assert (await sandbox.close_order("T-c")).state == "closed"
    with pytest.raises(ChannelError) as closed:
        await sandbox.pay("T-c")
    assert closed.value.code == "ORDER_CLOSED"
    await sandbox.create_order(cash("T-p", 1_000))
    await sandbox.pay("T-p")
    with pytest.raises(ChannelError) as paid:
        await sandbox.close_order("T-p")
    assert paid.value.code == "ORDERPAID"
    assert sandbox.charges == 1


async def test_r_pay_07_insufficient_balance_while_there_is_balance_passes_on_retry() -> None:
    sandbox = channel(SandboxFaults(false_insufficient_rate=0.5))
    transient = 0
    codes: set[tuple[str, bool]] = set()
    for index in range(40):
        reference = f"T-n{index}"
        await sandbox.create_order(cash(reference, 1_000))
        for _ in range(20):
            try:
                await sandbox.pay(reference)
                break
            except ChannelError as refused:
                codes.add((refused.code, refused.retryable))
                assert (await sandbox.query_order(reference)).state == "created"
                transient += 1
        assert (await sandbox.query_order(reference)).state == "paid"
    assert transient > 5
    assert codes == {("NOTENOUGH", True)}
    assert sandbox.charges == 40


async def test_r_pay_07_a_payer_really_short_is_refused_without_retry_hint() -> None:
    sandbox = channel()
    sandbox.set_wallet("o-poor", 500)
    await sandbox.create_order(cash("T-poor", 1_000, openid="o-poor"))
    with pytest.raises(ChannelError) as refused:
        await sandbox.pay("T-poor")
    assert (refused.value.code, refused.value.retryable) == ("NOTENOUGH", False)
    assert sandbox.charges == 0


async def test_r_pay_05_a_timeout_is_resolved_by_a_query_never_by_a_blind_second_charge() -> None:
    """Half the lost answers were charged anyway: the query tells which, and paying only the
    orders still ``created`` charges every order exactly once."""
    sandbox = channel(SandboxFaults(timeout_rate=0.5, applied_before_timeout_rate=0.5))
    charged_then_lost = lost_before = 0
    for index in range(60):
        reference = f"T-t{index}"
        await sandbox.create_order(cash(reference, 100))
        while True:
            try:
                await sandbox.pay(reference)
                break
            except ChannelTimeout:
                state = (await sandbox.query_order(reference)).state
                assert state in {"paid", "created"}
                if state == "paid":
                    charged_then_lost += 1
                    break
                lost_before += 1
    assert charged_then_lost > 3
    assert lost_before > 3
    assert sandbox.charges == 60
    assert sandbox.wallet("o-patient") == 5_000_000 - 60 * 100


async def test_declined_charge_ends_failed() -> None:
    sandbox = channel(SandboxFaults(failure_rate=1.0))
    await sandbox.create_order(cash("T-f", 1_000))
    with pytest.raises(ChannelError) as declined:
        await sandbox.pay("T-f")
    assert declined.value.code == "PAYERROR"
    order = await sandbox.query_order("T-f")
    assert order.state == "failed"
    assert order.message()["mix_pay_status"] == "MIX_PAY_FAIL"


async def test_refund_timeout_is_resolved_by_querying_the_refund() -> None:
    sandbox = channel()
    await sandbox.create_order(cash("T-rt", 1_000))
    await sandbox.pay("T-rt")
    sandbox.faults = SandboxFaults(timeout_rate=1.0, applied_before_timeout_rate=1.0)
    with pytest.raises(ChannelTimeout):
        await sandbox.refund("T-rt", out_refund_no="R-rt", amount=1_000)
    assert (await sandbox.query_refund("R-rt")).state == "refunded"
    assert (await sandbox.query_order("T-rt")).state == "refunded"


async def test_faults_are_deterministic_under_the_seed() -> None:
    async def outcomes(seed: int) -> list[str]:
        sandbox = channel(SandboxFaults(timeout_rate=0.2, failure_rate=0.2, false_insufficient_rate=0.2), seed=seed)
        seen = []
        for index in range(30):
            await sandbox.create_order(cash(f"T-d{index}", 100))
            try:
                seen.append((await sandbox.pay(f"T-d{index}")).state)
            except (ChannelError, ChannelTimeout) as error:
                seen.append(type(error).__name__ + getattr(error, "code", ""))
        return seen

    assert await outcomes(5) == await outcomes(5)
    assert await outcomes(5) != await outcomes(6)


def test_settings_choose_the_channel_faults() -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, sandbox_channel_timeout_rate=0.3, sandbox_channel_false_insufficient_rate=0.1
    )
    built = sandbox_adapters(settings).channel
    assert isinstance(built, SandboxChannel)
    assert (built.faults.timeout_rate, built.faults.false_insufficient_rate) == (0.3, 0.1)


async def test_an_order_is_paying_while_the_charge_runs_and_cannot_be_paid_or_closed_twice() -> None:
    sandbox = SandboxChannel(SandboxBehaviour(seed=11, latency_scale=0.01))
    await sandbox.create_order(cash("T-busy", 1_000))
    charging = asyncio.create_task(sandbox.pay("T-busy"))
    await asyncio.sleep(0)  # the charge has started and waits on the channel
    assert sandbox.orders["T-busy"].state == "paying"
    with pytest.raises(ChannelError) as busy:
        await sandbox.pay("T-busy")
    assert (busy.value.code, busy.value.retryable) == ("USERPAYING", True)
    assert (await charging).state == "paid"
    assert sandbox.charges == 1


async def test_r_pay_08_the_daily_statement_lists_charges_and_refunds_even_after_a_lost_answer() -> None:
    clock.freeze(datetime(2026, 11, 30, 15, 30, tzinfo=UTC))  # 23:30 in China
    sandbox = channel()
    await sandbox.create_order(cash("T-s1", 1_000))
    await sandbox.pay("T-s1")
    await sandbox.refund("T-s1", out_refund_no="R-s1", amount=300)
    sandbox.faults = SandboxFaults(timeout_rate=1.0, applied_before_timeout_rate=1.0)
    await sandbox.create_order(cash("T-s2", 2_000))
    with pytest.raises(ChannelTimeout):
        await sandbox.pay("T-s2")  # charged; MedCard never heard
    clock.advance(timedelta(hours=1))  # 00:30 the next day in China
    sandbox.faults = SandboxFaults()
    await sandbox.create_order(cash("T-s3", 500))
    await sandbox.pay("T-s3")
    lines = await sandbox.statement(date(2026, 11, 30))
    assert [(line.kind, line.out_trade_no, line.amount) for line in lines] == [
        ("charge", "T-s1", 1_000),
        ("refund", "T-s1", 300),
        ("charge", "T-s2", 2_000),
    ]
    assert lines[1].out_refund_no == "R-s1"
    assert [line.out_trade_no for line in await sandbox.statement(date(2026, 12, 1))] == ["T-s3"]
