"""The sandbox page showing what the payment channel and the insurance platform hold, including
a charge whose answer was lost (R-PAY-05, R-PAY-08)."""

from __future__ import annotations

import httpx
import pytest

from medcard.adapters import Adapters
from medcard.adapters.channel import ChannelTimeout, OrderRequest, SandboxChannel
from medcard.adapters.sandbox import SandboxFaults


async def test_sandbox_payments_page_lists_channel_orders(client: httpx.AsyncClient, adapters: Adapters) -> None:
    channel = adapters.channel
    assert isinstance(channel, SandboxChannel)
    request = OrderRequest(
        out_trade_no="MC-DEMO-0001",
        mix_pay_type="CASH_ONLY",
        order_type="DIAG_PAY",
        payer_openid="o-demo",
        total_fee=12_345,
        med_ins_cash_fee=12_345,
    )
    await channel.create_order(request)
    channel.faults = SandboxFaults(timeout_rate=1.0, applied_before_timeout_rate=1.0)
    with pytest.raises(ChannelTimeout):
        await channel.pay("MC-DEMO-0001")
    response = await client.get("/sandbox/payments")
    assert response.status_code == 200
    assert "MC-DEMO-0001" in response.text
    assert "123.45" in response.text
    assert "paid" in response.text  # the channel charged although MedCard never heard back
