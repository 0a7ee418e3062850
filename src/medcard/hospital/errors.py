"""Refusals of hospital card settings; each names the field it is about."""

from __future__ import annotations

from medcard.errors import MedCardError
from medcard.i18n import N_


class PhysicalCardFeeOutOfRange(MedCardError):
    """R-CARD-08: the physical card costs 5–20 yuan, or nothing."""

    status = 422
    code = "PHYSICAL_CARD_FEE_OUT_OF_RANGE"
    message = N_("The physical card fee must be 0 or 5–20 yuan")
    hint = N_("Enter 0 to issue cards free of charge, or an amount from 5 to 20 yuan.")


class DepositMinimumTooLow(MedCardError):
    """R-CARD-09: a required deposit is at least 10 yuan."""

    status = 422
    code = "DEPOSIT_MINIMUM_TOO_LOW"
    message = N_("When a deposit is required, its minimum is at least 10 yuan")
    hint = N_("Set the minimum deposit to 10 yuan or more, or stop requiring a deposit.")


class CreditLimitOutOfRange(MedCardError):
    """R-CARD-10: the outstanding amount of "treat first, pay later" is at most 2000 yuan."""

    status = 422
    code = "CREDIT_LIMIT_OUT_OF_RANGE"
    message = N_("The pay-later credit limit must be between 0 and 2000 yuan")
    hint = N_("Enter a limit of at most 2000 yuan.")


class CreditLimitRequired(MedCardError):
    """R-CARD-10: enabling credit with a zero limit would refuse every deferral."""

    status = 422
    code = "CREDIT_LIMIT_REQUIRED"
    message = N_("When pay-later credit is enabled, its limit must be above 0")
    hint = N_("Enter a limit (at most 2000 yuan), or switch pay-later credit off.")


class AmountMalformed(MedCardError):
    """An amount typed on a page that is not a yuan amount with at most two decimals."""

    status = 422
    code = "AMOUNT_MALFORMED"
    message = N_("The amount is not a valid number of yuan")
    hint = N_("Enter a number with at most two decimals, such as 10 or 12.50.")
