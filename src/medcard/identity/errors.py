"""Identity errors: stable codes, zh-CN + English text and a self-help hint."""

from __future__ import annotations

from medcard.errors import MedCardError


class SmsCodeInvalid(MedCardError):
    status = 400
    code = "SMS_CODE_INVALID"
    message_zh = "验证码不正确或已失效"
    message_en = "The code is wrong or no longer valid"
    hint_zh = "请核对短信中的 6 位验证码;验证码 5 分钟内有效且只能使用一次,可重新获取。"
    hint_en = "Check the 6-digit code in the message; a code is valid for 5 minutes and works once. Ask for a new one."


class SmsRateLimited(MedCardError):
    status = 429
    code = "SMS_RATE_LIMITED"
    message_zh = "获取验证码过于频繁"
    message_en = "Too many codes requested"
    hint_zh = "请 {retry_after} 秒后再试。"
    hint_en = "Try again in {retry_after} seconds."
