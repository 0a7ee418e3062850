"""Security errors: stable codes, zh-CN + English text and a hint."""

from __future__ import annotations

from medcard.errors import MedCardError
from medcard.i18n import N_


class PinFormatInvalid(MedCardError):
    status = 400
    code = "PIN_FORMAT_INVALID"
    message = N_("The payment password must be 6 digits")
    hint = N_("Enter 6 digits; avoid runs and repeated digits.")


class PinNotSet(MedCardError):
    status = 409
    code = "PIN_NOT_SET"
    message = N_("No payment password has been set")
    hint = N_("Set a payment password under Security first.")


class PinWrong(MedCardError):
    status = 403
    code = "PIN_WRONG"
    message = N_("Wrong payment password; {attempts_left} attempts left")
    hint = N_("Five wrong attempts in a row lock it for 3 hours.")


class PinLocked(MedCardError):
    status = 423
    code = "PIN_LOCKED"
    message = N_("The payment password is locked")
    hint = N_("Try again in 3 hours, or reset it after verifying your identity again (e.g. face).")


class ReverificationRequired(MedCardError):
    status = 403
    code = "REVERIFICATION_REQUIRED"
    message = N_("A fresh identity verification is needed")
    hint = N_("Verify your own identity again first (face, bank card or an SMS to your phone; valid 10 minutes).")


class AccountNotVerified(MedCardError):
    status = 403
    code = "ACCOUNT_NOT_VERIFIED"
    message = N_("The account is not real-name verified")
    hint = N_("Verify your identity first.")


class PaymentsFrozen(MedCardError):
    status = 423
    code = "ACCOUNT_PAYMENTS_FROZEN"
    message = N_("This account is frozen (reported lost); codes and payments are refused")
    hint = N_("The holder can reactivate on a new device after verifying identity again, or call the hotline.")


class NotFrozen(MedCardError):
    status = 409
    code = "ACCOUNT_NOT_FROZEN"
    message = N_("The account is not frozen")
    hint = N_("Nothing to reactivate.")


class LossReportRefused(MedCardError):
    """One answer for an unknown card and for wrong answers, so callers learn nothing."""

    status = 403
    code = "LOSS_REPORT_IDENTITY_FAILED"
    message = N_("The identity questions were not answered correctly; no loss report placed")
    hint = N_("Check the card number, name, last 4 of the ID number and last 4 of the phone.")


class LimitExceeded(MedCardError):
    status = 403
    code = "PAYMENT_LIMIT_EXCEEDED"
    message = N_("Over the {limit_en} ({limit_yuan} yuan)")
    hint = N_("Change the limit under Security, or pay in parts.")


class VelocityExceeded(MedCardError):
    status = 429
    code = "PAYMENT_VELOCITY_EXCEEDED"
    message = N_("Too many payments in a short time; paused")
    hint = N_("For your safety, try again in a minute.")
