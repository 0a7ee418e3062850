"""Security errors: stable codes, zh-CN + English text and a hint."""

from __future__ import annotations

from medcard.errors import MedCardError


class PinFormatInvalid(MedCardError):
    status = 400
    code = "PIN_FORMAT_INVALID"
    message_zh = "支付密码须为 6 位数字"
    message_en = "The payment password must be 6 digits"
    hint_zh = "请输入 6 位数字，不要使用连续或重复的数字。"
    hint_en = "Enter 6 digits; avoid runs and repeated digits."


class PinNotSet(MedCardError):
    status = 409
    code = "PIN_NOT_SET"
    message_zh = "尚未设置支付密码"
    message_en = "No payment password has been set"
    hint_zh = "请先在“安全设置”中设置支付密码。"
    hint_en = "Set a payment password under Security first."


class PinWrong(MedCardError):
    status = 403
    code = "PIN_WRONG"
    message_zh = "支付密码错误，还可尝试 {attempts_left} 次"
    message_en = "Wrong payment password; {attempts_left} attempts left"
    hint_zh = "连续错误 5 次将锁定 3 小时。"
    hint_en = "Five wrong attempts in a row lock it for 3 hours."


class PinLocked(MedCardError):
    status = 423
    code = "PIN_LOCKED"
    message_zh = "支付密码已锁定"
    message_en = "The payment password is locked"
    hint_zh = "请 3 小时后再试，或通过人脸等实名认证后重置支付密码。"
    hint_en = "Try again in 3 hours, or reset it after verifying your identity again (e.g. face)."


class ReverificationRequired(MedCardError):
    status = 403
    code = "REVERIFICATION_REQUIRED"
    message_zh = "需要重新进行实名认证"
    message_en = "A fresh identity verification is needed"
    hint_zh = "请先重新认证本人身份（人脸、银行卡或实名手机号短信，10 分钟内有效），再继续。"
    hint_en = "Verify your own identity again first (face, bank card or an SMS to your phone; valid 10 minutes)."


class AccountNotVerified(MedCardError):
    status = 403
    code = "ACCOUNT_NOT_VERIFIED"
    message_zh = "账户尚未实名认证"
    message_en = "The account is not real-name verified"
    hint_zh = "请先完成实名认证。"
    hint_en = "Verify your identity first."


class PaymentsFrozen(MedCardError):
    status = 423
    code = "ACCOUNT_PAYMENTS_FROZEN"
    message_zh = "该账户已冻结（挂失），付款码和支付均不可用"
    message_en = "This account is frozen (reported lost); codes and payments are refused"
    hint_zh = "本人可在新设备上重新实名认证后解冻，或拨打服务热线。"
    hint_en = "The holder can reactivate on a new device after verifying identity again, or call the hotline."


class NotFrozen(MedCardError):
    status = 409
    code = "ACCOUNT_NOT_FROZEN"
    message_zh = "账户未冻结"
    message_en = "The account is not frozen"
    hint_zh = "无需解冻。"
    hint_en = "Nothing to reactivate."


class LossReportRefused(MedCardError):
    """One answer for an unknown card and for wrong answers, so callers learn nothing."""

    status = 403
    code = "LOSS_REPORT_IDENTITY_FAILED"
    message_zh = "身份核验未通过，不能挂失"
    message_en = "The identity questions were not answered correctly; no loss report placed"
    hint_zh = "请核对卡号、姓名、证件号后四位和手机号后四位。"
    hint_en = "Check the card number, name, last 4 of the ID number and last 4 of the phone."


class LimitExceeded(MedCardError):
    status = 403
    code = "PAYMENT_LIMIT_EXCEEDED"
    message_zh = "超出{limit_zh}（{limit_yuan} 元）"
    message_en = "Over the {limit_en} ({limit_yuan} yuan)"
    hint_zh = "可在“安全设置”中调整限额，或分次支付。"
    hint_en = "Change the limit under Security, or pay in parts."


class VelocityExceeded(MedCardError):
    status = 429
    code = "PAYMENT_VELOCITY_EXCEEDED"
    message_zh = "支付过于频繁，已暂停"
    message_en = "Too many payments in a short time; paused"
    hint_zh = "为保障资金安全，请 1 分钟后再试。"
    hint_en = "For your safety, try again in a minute."
