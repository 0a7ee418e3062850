"""Refusals of hospital card settings; each names the field it is about."""

from __future__ import annotations

from medcard.errors import MedCardError


class PhysicalCardFeeOutOfRange(MedCardError):
    """R-CARD-08: the physical card costs 5–20 yuan, or nothing."""

    status = 422
    code = "PHYSICAL_CARD_FEE_OUT_OF_RANGE"
    message_zh = "实体卡工本费须为 0 元或 5–20 元"
    message_en = "The physical card fee must be 0 or 5–20 yuan"
    hint_zh = "免费发卡请填 0；收费请填 5 到 20 元之间的金额。"
    hint_en = "Enter 0 to issue cards free of charge, or an amount from 5 to 20 yuan."


class DepositMinimumTooLow(MedCardError):
    """R-CARD-09: a required deposit is at least 10 yuan."""

    status = 422
    code = "DEPOSIT_MINIMUM_TOO_LOW"
    message_zh = "要求预存诊金时，最低金额不得少于 10 元"
    message_en = "When a deposit is required, its minimum is at least 10 yuan"
    hint_zh = "请把最低预存金额改为 10 元或以上，或取消“要求预存诊金”。"
    hint_en = "Set the minimum deposit to 10 yuan or more, or stop requiring a deposit."


class CreditLimitOutOfRange(MedCardError):
    """R-CARD-10: the outstanding amount of "treat first, pay later" is at most 2000 yuan."""

    status = 422
    code = "CREDIT_LIMIT_OUT_OF_RANGE"
    message_zh = "先诊疗后付费额度须在 0–2000 元之间"
    message_en = "The pay-later credit limit must be between 0 and 2000 yuan"
    hint_zh = "请填写不超过 2000 元的额度。"
    hint_en = "Enter a limit of at most 2000 yuan."


class CreditLimitRequired(MedCardError):
    """R-CARD-10: enabling credit with a zero limit would refuse every deferral."""

    status = 422
    code = "CREDIT_LIMIT_REQUIRED"
    message_zh = "开通先诊疗后付费时，额度须大于 0"
    message_en = "When pay-later credit is enabled, its limit must be above 0"
    hint_zh = "请填写额度（最高 2000 元），或关闭先诊疗后付费。"
    hint_en = "Enter a limit (at most 2000 yuan), or switch pay-later credit off."


class AmountMalformed(MedCardError):
    """An amount typed on a page that is not a yuan amount with at most two decimals."""

    status = 422
    code = "AMOUNT_MALFORMED"
    message_zh = "金额格式不正确"
    message_en = "The amount is not a valid number of yuan"
    hint_zh = "请填写数字，最多两位小数，例如 10 或 12.50。"
    hint_en = "Enter a number with at most two decimals, such as 10 or 12.50."
