"""Ledger errors: stable codes, zh-CN + English text and a hint."""

from __future__ import annotations

from medcard.errors import MedCardError

SOURCE_LABELS = {
    "personal_account": ("医保个人账户", "personal insurance account"),
    "deposit": ("预交金", "deposit"),
    "credit_line": ("信用额度", "credit line"),
    "fund": ("统筹基金", "pooled fund"),
    "channel": ("支付渠道", "payment channel"),
}


class UnbalancedEntry(ValueError):
    """A programming error: the postings of an entry do not sum to zero."""


class InsufficientFunds(MedCardError):
    status = 409
    code = "INSUFFICIENT_FUNDS"
    message_zh = "{source_zh}余额不足"
    message_en = "Not enough money in the {source_en}"
    hint_zh = "请充值或选择其他支付方式；余额刚到账时可稍后用同一请求重试。"
    hint_en = "Top up or choose another way to pay; if money just arrived, retry the same request shortly."

    @classmethod
    def of(cls, source: str) -> InsufficientFunds:
        zh, en = SOURCE_LABELS.get(source, (source, source.replace("_", " ")))
        return cls(source_zh=zh, source_en=en)


class HoldAlreadyResolved(MedCardError):
    status = 409
    code = "HOLD_ALREADY_RESOLVED"
    message_zh = "该笔预授权已完成或已撤销"
    message_en = "This hold was already posted or voided"
    hint_zh = "请刷新查看订单的最新状态。"
    hint_en = "Refresh to see the order's current state."
