"""Code errors: stable codes, zh-CN + English text and a hint."""

from __future__ import annotations

from typing import Any

from medcard.errors import MedCardError
from medcard.i18n import N_
from medcard.security.errors import PinWrong


class DisplayCodeNotPayment(MedCardError):
    status = 400
    code = "DISPLAY_CODE_NOT_PAYMENT"
    message = N_("This is the health card's display code; it cannot pay")
    hint = N_("Ask the patient to open the payment-code page and show the dynamic code.")


class PaymentCodeInvalid(MedCardError):
    status = 400
    code = "PAYMENT_CODE_INVALID"
    message = N_("The payment code is not valid")
    hint = N_("Ask the patient to refresh the code and scan again.")


class PaymentCodeExpired(MedCardError):
    status = 410
    code = "PAYMENT_CODE_EXPIRED"
    message = N_("The payment code has expired (valid 60 seconds)")
    hint = N_("Ask the patient to refresh the code and scan again.")


class PaymentCodeUsed(MedCardError):
    status = 409
    code = "PAYMENT_CODE_USED"
    message = N_("The payment code has already been used")
    hint = N_("Each code pays once; a screenshot does not work. Refresh the code.")


class PaymentCodeRevoked(MedCardError):
    status = 423
    code = "PAYMENT_CODE_REVOKED"
    message = N_("The payment code was revoked (the account is frozen)")
    hint = N_("A freeze or loss report revokes every payment code.")


class CodeCardNotUsable(MedCardError):
    status = 409
    code = "CODE_CARD_NOT_ACTIVE"
    message = N_("This card cannot pay right now")
    hint = N_("Check that the health card is active.")


class CardNotAcceptedHere(MedCardError):
    """R-CARD-05: a hospital-scoped card pays only at its own hospital, a regional card at the
    hospitals of its region."""

    status = 403
    code = "CODE_CARD_OTHER_HOSPITAL"
    message = N_("This card cannot pay at this hospital")
    hint = N_("The card pays only at the hospital that issued it (a regional card: its region); apply for a card here.")


class PinRequired(MedCardError):
    status = 403
    code = "PIN_REQUIRED"
    message = N_("Above the no-password amount; the payment password is required")
    hint = N_("Ask the patient to enter the 6-digit payment password on the PIN pad.")


class AuthorisationInvalid(MedCardError):
    status = 400
    code = "VERIFICATION_CODE_INVALID"
    message = N_("The verification code is invalid or was altered")
    hint = N_("Scan the patient's payment code again.")


class AuthorisationExpired(MedCardError):
    status = 410
    code = "VERIFICATION_CODE_EXPIRED"
    message = N_("The verification code has expired")
    hint = N_("Scan the patient's payment code again.")


class AuthorisationOtherMerchant(MedCardError):
    status = 403
    code = "VERIFICATION_CODE_OTHER_MERCHANT"
    message = N_("The verification code belongs to another merchant")
    hint = N_("A verification code is only valid at the merchant that scanned it.")


class AuthorisationAmountExceeded(MedCardError):
    status = 403
    code = "VERIFICATION_CODE_AMOUNT_EXCEEDED"
    message = N_("The amount is above the verification code's ceiling")
    hint = N_("Scan again with the real amount.")


class PosPinWrong(PinWrong):
    """A wrong payment password at the POS. The code stays consumed for this payment only: the
    cashier may let the patient try again with ``retry_token`` until the authorisation window
    ends, without scanning again; every wrong try still counts toward the lock (R-SEC-03)."""

    hint = N_(
        "No need to scan again: the patient may re-enter the password within {window_minutes} minutes. Five wrong "
        "attempts in a row lock it for 3 hours."
    )
    retry_token: str = ""

    def problem(self, instance: str | None = None) -> dict[str, Any]:
        return {**super().problem(instance), "retry_token": self.retry_token}


class PinRetryExpired(MedCardError):
    status = 410
    code = "PIN_RETRY_EXPIRED"
    message = N_("The time to re-enter the password is over")
    hint = N_("Ask the patient to refresh the payment code and scan again.")
