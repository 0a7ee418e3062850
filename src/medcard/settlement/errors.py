"""Settlement errors: stable codes, zh-CN + English text and a hint."""

from __future__ import annotations

from medcard.errors import MedCardError


class BillNotFound(MedCardError):
    status = 404
    code = "BILL_NOT_FOUND"
    message_zh = "未找到该账单"
    message_en = "Bill not found"
    hint_zh = "请刷新待缴费账单列表。"
    hint_en = "Refresh the list of bills to pay."


class BillAlreadyPaid(MedCardError):
    status = 409
    code = "BILL_ALREADY_PAID"
    message_zh = "该账单已缴费"
    message_en = "This bill is already paid"
    hint_zh = "请在缴费记录中查看。"
    hint_en = "See it in your payment history."


class OrderNotPending(MedCardError):
    status = 409
    code = "ORDER_NOT_PENDING"
    message_zh = "该订单已完成或已过期"
    message_en = "This order is already paid or expired"
    hint_zh = "过期订单的冻结金额已释放，请重新发起缴费。"
    hint_en = "An expired order released its holds; start a new payment."


class OrderNotPaid(MedCardError):
    status = 409
    code = "ORDER_NOT_PAID"
    message_zh = "订单尚未支付成功，不能退款"
    message_en = "The order is not paid, so it cannot be refunded"
    hint_zh = "待支付订单会在 15 分钟后自动释放。"
    hint_en = "A pending order releases its holds after 15 minutes."


class RefundTooLarge(MedCardError):
    status = 409
    code = "REFUND_TOO_LARGE"
    message_zh = "退款金额超过可退金额（可退 {refundable_yuan} 元）"
    message_en = "The refund exceeds what can be refunded ({refundable_yuan} yuan)"
    hint_zh = "每个资金来源最多退回其实际支付的金额。"
    hint_en = "Each source gets back at most what it paid."


class RefundWaitsForReimbursement(MedCardError):
    status = 409
    code = "REFUND_WAITS_FOR_REIMBURSEMENT"
    message_zh = "医保报销尚未到账，暂只能全额退款"
    message_en = "The insurance reimbursement is still due: only a full refund is possible now"
    hint_zh = "报销到账后可部分退款。"
    hint_en = "A partial refund is possible once the reimbursement was paid."


class CreditNotOffered(MedCardError):
    status = 409
    code = "CREDIT_NOT_OFFERED"
    message_zh = "本院未开通先诊疗后付费"
    message_en = "This hospital does not offer treat-first-pay-later credit"
    hint_zh = "请使用其他方式支付。"
    hint_en = "Pay another way."


class PaymentPending(MedCardError):
    """The order and its holds are kept (15 minutes) but a step did not finish: the client
    retries with the same Idempotency-Key (R-PAY-07) and nothing is charged twice."""

    status = 402
    code = "PAYMENT_PENDING"
    message_zh = "支付未完成（{failure_code}），订单保留 15 分钟"
    message_en = "The payment did not complete ({failure_code}); the order is kept for 15 minutes"
    hint_zh = "请稍后用同一请求重试（余额刚到账时常见），不会重复扣款。"
    hint_en = "Retry the same request shortly (common when money just arrived); nothing is charged twice."
    keep_changes = True


class InsuranceRefusedPayment(MedCardError):
    """The platform refused the insurance shares for good (not a timeout): every hold was
    released at once; a new payment gets a fresh split."""

    status = 409
    code = "INSURANCE_REFUSED_PAYMENT"
    message_zh = "医保结算未通过（{failure_code}），冻结金额已释放"
    message_en = "The insurance platform refused the settlement ({failure_code}); every hold was released"
    hint_zh = "请重新发起缴费，系统会按最新的个人账户余额重新计算。"
    hint_en = "Pay again: the split is computed afresh from the current personal-account balance."
    keep_changes = True


class ChannelRefused(MedCardError):
    status = 402
    code = "CHANNEL_REFUSED"
    message_zh = "支付渠道未能完成扣款（{channel_code}）"
    message_en = "The payment channel did not complete the charge ({channel_code})"
    hint_zh = "订单保留 15 分钟，可用同一请求重试；余额刚到账时常见。"
    hint_en = "The order is kept for 15 minutes; retry with the same request (common when money just arrived)."


class RepaymentTooLarge(MedCardError):
    status = 409
    code = "REPAYMENT_TOO_LARGE"
    message_zh = "还款金额超过欠款（欠款 {owed_yuan} 元）"
    message_en = "The repayment exceeds what is owed ({owed_yuan} yuan)"
    hint_zh = "请按欠款金额还款。"
    hint_en = "Repay at most what is owed."


class KeyReused(MedCardError):
    """The same key named another request (checked again on the order, behind the key store)."""

    status = 422
    code = "IDEMPOTENCY_KEY_REUSED"
    message_zh = "同一请求编号用于了不同的请求"
    message_en = "This idempotency key was used for a different request"
    hint_zh = "每次新的付款请使用新的请求编号；重试时请原样重发。"
    hint_en = "Use a new key for a new payment; resend a retry unchanged."


class RefundAtTheWindow(MedCardError):
    status = 409
    code = "REFUND_AT_THE_WINDOW"
    message_zh = "该订单在窗口或药房缴费，请到收费窗口办理退费"
    message_en = "This order was paid at a window or pharmacy; refunds are made there"
    hint_zh = "请携带就诊卡到原收费窗口或药房办理。"
    hint_en = "Bring your card to the window or pharmacy where you paid."
